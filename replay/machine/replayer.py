"""The instrumented replay of a scheduler transition log.

The scheduler logs outcomes, not inputs. This module re-derives, entry by entry, what
asked for each transition by mirroring the scheduler's pending-recommendation dict:

* an entry's recommendations are merged into the pending dict (``dict.update``: a later
  recommendation for a key replaces the earlier one and keeps its place);
* the scheduler pops last-in-first-out; a pop that would log nothing (the key is already
  in that state, or forgotten) leaves no entry, so such pops are resolved silently;
* the stimulus's own recommendations are never logged, so an entry for a key with
  nothing pending is a *stimulus root*, and an entry may come from a recommendation
  deeper in the dict than LIFO suggests (it kept the place of an unseen root one);
* ``X->released`` logged for a request other than ``released`` is the first half of an
  implicit detour; the next entry for the key, ``released->Y``, is the second half and
  repeats the first half's recommendations. Where an unknown request reads equally well
  as a direct release followed by the key's own recommendation, the pair is read as a
  detour whenever the second half repeats the first half's recommendations.

Invariants are checked as the states change, but a violation only counts once the
cascade settles (the stimulus ends): a pending recommendation may still fix it. It is
then reported at the entry that created it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from replay.events import SCHEDULER_STATES, Key, SchedulerTransition, TaskGraph
from replay.ingest.keys import format_key
from replay.machine.graph import RELATIONS, Graph
from replay.machine.steps import DETOUR_INNER, DETOUR_OUTER, NO_OP, STEP, Recommendation, Step
from replay.machine.tables import TABLES, TransitionTable, table_for
from replay.releases import Release

ACTIVE = frozenset({"waiting", "queued", "processing", "no-worker"})
NEEDS_MEMORY = frozenset({"processing", "queued"})
BAD_DEPENDENCY = frozenset({"erred", "forgotten"})
#: Every pair any release ever had: the check when the release is unknown, so that
#: assuming a release never turns a clean trace red.
ANY_RELEASE_PAIRS = frozenset().union(*(table.pairs for table in TABLES))
#: Forgotten keys remembered for continuity and dependency checks, oldest dropped first.
MAX_FORGOTTEN = 200_000
#: Log lengths that mean "the deque was full": a log this long is truncated, not complete.
CONFIGURED_LOG_LENGTHS = frozenset({1000, 100_000})
_NONE: Mapping[Key, int | None] = {}


@dataclass(slots=True)
class Violation:
    """A broken rule, before provenance names its culprit."""

    rule: str
    key: Key
    event: int | None
    stimulus_id: str | None
    message: str
    #: the step whose cause chain explains it
    step: Step | None = None
    #: or the recommendation to blame directly (failures the log cannot show)
    recommendation: Recommendation | None = None
    missing: list[tuple[Key, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Suspect:
    rule: str
    key: Key
    related: Key
    step: Step
    #: a dependent that lost its dependency without being recommended anything
    missing_check: bool = False


class Replayer:
    """Feed entries in log order with :meth:`feed`, then call :meth:`finish`."""

    def __init__(
        self,
        release: Release | None = None,
        task_graph: TaskGraph | None = None,
        *,
        keep_steps: bool = True,
    ) -> None:
        self.release = release
        self.table: TransitionTable | None = table_for(release) if release is not None else None
        self.legal_pairs = self.table.pairs if self.table is not None else ANY_RELEASE_PAIRS
        self.graph = Graph.from_task_graph(task_graph)
        self.states: dict[Key, str] = {}
        self.last_step: dict[Key, Step] = {}
        self.received: dict[Key, int] = {}
        #: insertion-ordered, evicted oldest first in O(1) (a plain dict's ``next(iter())`` after
        #: many deletions from its front scans the holes: quadratic on long traces)
        self.forgotten: OrderedDict[Key, None] = OrderedDict()
        self.pending: dict[Key, Recommendation] = {}
        self.open_detour: Step | None = None
        self.suspects: dict[tuple[str, Key], _Suspect] = {}
        self.violations: list[Violation] = []
        self.steps: list[Step] | None = [] if keep_steps else None
        #: keep what each step emitted, replaced and popped silently (for the views; not for findings)
        self.detail = keep_steps
        self.group = -1
        self.stimulus: str | None = None
        self.count = 0
        self.first_starts_released = True
        self.unknown_states: set[str] = set()

    # ------------------------------------------------------------------ feeding

    def run(self, transitions: Iterable[SchedulerTransition]) -> Replayer:
        """Feed every entry and finish."""
        self.feed_all(transitions)
        self.finish()
        return self

    def feed(self, transition: SchedulerTransition) -> None:
        """Replay one entry."""
        self.feed_all((transition,))

    def feed_all(self, transitions: Iterable[SchedulerTransition]) -> None:
        """Replay entries in log order.

        One loop with the usual case inline (a legal step that continues the key's
        last state): a method call per entry and per helper would cost more than the
        replay itself. Anything unusual goes through :meth:`_unusual`.
        """
        states = self.states
        pending = self.pending
        last_step = self.last_step
        legal_pairs = self.legal_pairs
        push = self._push
        enter = self._enter
        steps = self.steps
        detail = self.detail
        stimulus = self.stimulus
        group = self.group
        count = self.count
        try:
            for transition in transitions:
                index = count
                count += 1
                key, start, finish, own, stimulus_id, _ = transition
                if self.open_detour is not None:
                    inner = self.open_detour
                    self.open_detour = None
                    if self._is_second_half(inner, transition):
                        self._second_half(index, transition, inner)
                        continue
                    self._abandon_detour(inner)
                if stimulus_id != stimulus or not index:
                    if pending or self.suspects:  # else the cascade settled with nothing to check
                        self._close_group()
                    group = self.group = group + 1
                    stimulus = self.stimulus = stimulus_id
                silent: list[Recommendation] | None = None
                cause = None
                if pending:
                    top_key, top = pending.popitem()
                    if top_key == key:
                        cause = top
                    else:
                        pending[top_key] = top
                        if detail:
                            silent = []
                        cause = self._pop_cause(key, silent)
                requested = None if cause is None else cause.state
                legal = (start, finish) in legal_pairs
                if (
                    not legal
                    or states.get(key, start) != start
                    or (finish == "released" and start != "released" and requested != "released")
                ) and self._unusual(index, transition, cause, requested, silent):
                    continue
                step = Step(index, transition, group, cause, requested, NO_OP if start == finish else STEP, None, silent)
                if steps is not None:
                    steps.append(step)
                if start != "released" and key not in states:
                    self.first_starts_released = False
                last_step[key] = step
                if not legal:
                    self._check_legal(step, start, finish, requested)
                if own:
                    push(step, own.items(), index, relations=RELATIONS.get((start, finish)))
                enter(step, start, finish)
        finally:
            self.count = count

    def finish(self) -> None:
        """Settle the last cascade and run the end-of-trace checks."""
        if self.open_detour is not None:
            inner, self.open_detour = self.open_detour, None
            self._abandon_detour(inner, at_end=True)
        self._close_group(at_end=True)
        self._check_deadlocks()

    # ------------------------------------------------------------------ one entry

    def _unusual(
        self,
        index: int,
        transition: SchedulerTransition,
        cause: Recommendation | None,
        requested: str | None,
        silent: list[Recommendation] | None,
    ) -> bool:
        """Check an entry off the usual path; True when it opened a detour (nothing more to do now)."""
        _, start, finish, _, _, _ = transition
        self._check_continuity(index, transition)
        if start not in SCHEDULER_STATES or finish not in SCHEDULER_STATES:
            self._unknown_state(index, transition)
        if finish == "released" and start != "released" and requested != "released":
            step = Step(index, transition, self.group, cause, requested, DETOUR_INNER, silent=silent)
            self._record(step)
            self._check_override(step)
            self.open_detour = step
            return True
        return False

    def _is_second_half(self, inner: Step, transition: SchedulerTransition) -> bool:
        if transition.key != inner.key or transition.start != "released":
            return False
        if transition.stimulus_id != inner.stimulus_id:
            return False
        if inner.requested is not None:
            return True
        outer = transition.recommendations
        return all(key in outer for key in inner.transition.recommendations)

    def _second_half(self, index: int, transition: SchedulerTransition, inner: Step) -> None:
        key = transition.key
        inner_recommendations = inner.transition.recommendations
        own_state = inner_recommendations.get(key)
        override = None
        if own_state is not None and inner.requested is not None and own_state != inner.requested:
            override = Recommendation(key, own_state, inner.index)
        requested = own_state if own_state is not None else inner.requested
        step = Step(index, transition, inner.group, inner.cause, requested, DETOUR_OUTER, override=override)
        self._enter(inner, inner.transition.start, "released")
        self._record(step)
        self._check_continuity(index, transition)
        self._check_legal(step, "released", transition.finish, requested)
        # The second half repeats the first half's recommendations: each is credited to
        # the half whose own step made it, and is pushed once.
        merged = transition.recommendations
        first_half = [(k, s) for k, s in merged.items() if inner_recommendations.get(k) == s]
        second_half = [(k, s) for k, s in merged.items() if inner_recommendations.get(k) != s]
        self.graph.infer(inner.index, key, inner.transition.start, "released", inner_recommendations.items(), self.states)
        self._push(inner, first_half, inner.index, into=step)
        self._push(step, second_half, index, relations=RELATIONS.get(("released", transition.finish)))
        self._enter(step, "released", transition.finish)

    def _abandon_detour(self, inner: Step, *, at_end: bool = False) -> None:
        """A first half with no second half: a direct release, or a detour that raised."""
        key = inner.key
        if inner.requested is None:
            inner.role = STEP
            self._check_legal(inner, inner.transition.start, "released", None)
            own = inner.transition.recommendations
            self._push(inner, own.items(), inner.index, relations=RELATIONS.get((inner.transition.start, "released")))
            self._enter(inner, inner.transition.start, "released")
            return
        self._enter(inner, inner.transition.start, "released")
        for recommended in inner.transition.recommendations:
            self.received[recommended] = inner.index  # emitted, then lost with the exception
        own_state = inner.transition.recommendations.get(key)
        target = own_state if own_state is not None else inner.requested
        blamed = self._detour_blame(inner)
        where = "the trace ends there" if at_end else "the cascade went on without it"
        self.violations.append(
            Violation(
                "unfinished-cascade", key, inner.index, inner.stimulus_id,
                f"{format_key(key)} left {inner.transition.start} for released (entry {inner.index}) to serve "
                f"{format_key(key)}: {inner.requested}, but the detour's second step (released->{target}) was "
                f"never logged and {where}: it raised",
                recommendation=blamed,
            )
        )  # fmt: skip
        self._hypothetical(key, target, blamed, inner.stimulus_id)
        # The scheduler's loop died with the exception: what was pending was never applied.
        self.pending.clear()

    def _detour_blame(self, inner: Step) -> Recommendation:
        """The recommendation a half-done detour was serving (its own override first)."""
        key = inner.key
        own_state = inner.transition.recommendations.get(key)
        request = inner.cause
        if own_state is not None and own_state != inner.requested:
            return Recommendation(key, own_state, inner.index, replaced=request)
        if request is not None:
            return request
        return Recommendation(key, inner.requested or "released", None)

    # ------------------------------------------------------------------ the pending dict

    def _pop_cause(self, key: Key, silent: list[Recommendation] | None) -> Recommendation | None:
        pending = self.pending
        states = self.states
        while pending:
            top_key, top = pending.popitem()
            if top_key == key:
                return top
            current = states.get(top_key)
            if current == top.state or current == "forgotten":
                if silent is not None:
                    silent.append(top)
                continue
            pending[top_key] = top  # it was last; putting it back keeps it last
            break
        return pending.pop(key, None)

    def _push(
        self,
        step: Step,
        recommendations: Iterable[tuple[Key, str]],
        emitter: int,
        *,
        into: Step | None = None,
        relations: Mapping[str, str] | None = None,
    ) -> None:
        """Merge recommendations into the pending dict; with ``relations`` (the emitting step's
        row of ``RELATIONS``), also add the graph edges they imply, in the same pass."""
        pending = self.pending
        received = self.received
        detail = self.detail
        target = into if into is not None else step
        own_key = step.key
        for key, state in recommendations:
            if relations is not None:
                relation = relations.get(state)
                if relation is not None:  # Graph.add ignores a key's edge to itself
                    self.graph.add_inferred(emitter, own_key, key, state, relation, self.states)
            old = pending.get(key)
            if old is None:
                recommendation = Recommendation(key, state, emitter, None)
            elif old.state != state:
                recommendation = Recommendation(key, state, emitter, old)
                if detail:
                    target.add_replaced(old)
            else:
                recommendation = Recommendation(key, state, emitter, old.replaced)
            pending[key] = recommendation
            if detail:
                step.add_emitted(recommendation)
            received[key] = emitter
            if state not in SCHEDULER_STATES:
                self._unknown_recommended(step, state)

    def _close_group(self, *, at_end: bool = False) -> None:
        """The stimulus is over: nothing pending may be left, suspects become violations."""
        pending = self.pending
        states = self.states
        leftovers = []
        while pending:
            _, recommendation = pending.popitem()
            current = states.get(recommendation.key)
            if current is None or current == recommendation.state or current == "forgotten":
                continue  # satisfied, gone, or a key the log never showed
            leftovers.append(recommendation)
        if leftovers:
            first = leftovers[0]
            where = "the trace ends" if at_end else "the next stimulus starts"
            self.violations.append(
                Violation(
                    "unfinished-cascade", first.key, None, self.stimulus,
                    f"{where} with {len(leftovers)} recommendation(s) never applied; next would have been "
                    f"{format_key(first.key)}: {states.get(first.key)} -> {first.state}"
                    f"{'' if first.event is None else f' (from entry {first.event})'}: it most likely raised",
                    recommendation=first,
                )
            )  # fmt: skip
            self._hypothetical(first.key, first.state, first, self.stimulus)
        self._settle()

    # ------------------------------------------------------------------ checks

    def _record(self, step: Step) -> None:
        if self.steps is not None:
            self.steps.append(step)
        key = step.key
        if key not in self.states and step.transition.start != "released":
            self.first_starts_released = False
        self.last_step[key] = step

    def _check_continuity(self, index: int, transition: SchedulerTransition) -> None:
        key = transition.key
        known = self.states.get(key)
        if known is None or known == transition.start:
            return
        if known == "forgotten" and transition.start == "released":
            return  # a forgotten key submitted again starts afresh
        self.violations.append(
            Violation(
                "continuity", key, index, transition.stimulus_id,
                f"{format_key(key)} {transition.start}->{transition.finish} but the log last left it {known}",
                step=self.last_step.get(key),
            )
        )  # fmt: skip

    def _check_legal(self, step: Step, start: str, finish: str, requested: str | None) -> None:
        pairs = self.legal_pairs
        if (start, finish) in pairs or (requested is not None and (start, requested) in pairs):
            return
        if start == finish and (step.key in step.transition.recommendations or requested is None):
            return  # a no-op whose real decision is in its recommendations
        if start not in SCHEDULER_STATES or finish not in SCHEDULER_STATES:
            return  # reported as unknown-state already
        release = self.table.label if self.table is not None else "any release"
        asked = f" (asked for {requested})" if requested not in (None, finish) else ""
        self.violations.append(
            Violation(
                "illegal-transition", step.key, step.index, step.stimulus_id,
                f"{format_key(step.key)} {start}->{finish}{asked} is not a transition of {release}",
                step=step,
            )
        )  # fmt: skip

    def _check_override(self, inner: Step) -> None:
        key = inner.key
        own_state = inner.transition.recommendations.get(key)
        if own_state is None or inner.requested is None or own_state == inner.requested:
            return
        self.violations.append(
            Violation(
                "detour-override", key, inner.index, inner.stimulus_id,
                f"{format_key(key)} was asked to go {inner.transition.start}->{inner.requested}; the detour "
                f"through released recommended {format_key(key)}: {own_state} on its way, which replaces "
                f"the request",
                recommendation=Recommendation(key, own_state, inner.index, replaced=inner.cause),
            )
        )  # fmt: skip

    def _unknown_state(self, index: int, transition: SchedulerTransition) -> None:
        for state in (transition.start, transition.finish):
            if state not in SCHEDULER_STATES and state not in self.unknown_states:
                self.unknown_states.add(state)
                self.violations.append(
                    Violation(
                        "unknown-state", transition.key, index, transition.stimulus_id,
                        f"state {state!r} is not a scheduler state of any release",
                    )
                )  # fmt: skip

    def _unknown_recommended(self, step: Step, state: str) -> None:
        if state not in self.unknown_states:
            self.unknown_states.add(state)
            self.violations.append(
                Violation(
                    "unknown-state", step.key, step.index, step.stimulus_id,
                    f"recommended state {state!r} is not a scheduler state of any release",
                )
            )  # fmt: skip

    def _enter(self, step: Step, start: str, finish: str) -> None:
        """Update the key's state and note what its new state might break."""
        key = step.key
        self.states[key] = finish
        if finish in ACTIVE and key in self.graph.dependencies:
            self._check_dependencies(step, finish)
        if finish in BAD_DEPENDENCY or start == "memory":
            self._left(step, start, finish)

    def _check_dependencies(self, step: Step, finish: str) -> None:
        """A key became active: its dependencies must not be erred or forgotten (nor elsewhere than memory)."""
        key = step.key
        states = self.states
        for dependency in self.graph.dependencies.get(key, _NONE):
            dependency_state = states.get(dependency)
            if dependency_state in BAD_DEPENDENCY:
                self._suspect("dependency-erred-or-forgotten", key, dependency, step)
            elif finish in NEEDS_MEMORY and dependency_state not in (None, "memory"):
                self._suspect("dependency-not-in-memory", key, dependency, step)

    def _left(self, step: Step, start: str, finish: str) -> None:
        """A key erred, was forgotten or left memory: what that breaks for its dependents."""
        key = step.key
        if finish == "forgotten":
            self._forget(key)
        dependents = self.graph.dependents.get(key)
        if not dependents:
            return
        states = self.states
        if finish in BAD_DEPENDENCY:
            rule = "dependency-erred-or-forgotten" if finish == "erred" else "dependency-forgotten-while-needed"
            for dependent in dependents:
                if states.get(dependent) in ACTIVE:
                    if finish == "erred":
                        self._suspect(rule, dependent, key, step)
                    else:
                        self._suspect(rule, key, dependent, step)
        if start == "memory" and finish != "memory":
            for dependent in dependents:
                if states.get(dependent) in NEEDS_MEMORY:
                    self._suspect("dependency-not-in-memory", dependent, key, step, missing_check=True)

    def _suspect(self, rule: str, key: Key, related: Key, step: Step, *, missing_check: bool = False) -> None:
        self.suspects.setdefault((rule, key), _Suspect(rule, key, related, step, missing_check))

    def _violates(self, rule: str, key: Key) -> Key | None:
        """The dependency (or dependent) that makes ``key`` break ``rule`` now, if any."""
        states = self.states
        state = states.get(key)
        if rule == "dependency-erred-or-forgotten":
            if state in ACTIVE:
                for dependency in self.graph.dependencies_of(key):
                    if states.get(dependency) in BAD_DEPENDENCY:
                        return dependency
        elif rule == "dependency-not-in-memory":
            if state in NEEDS_MEMORY:
                for dependency in self.graph.dependencies_of(key):
                    if states.get(dependency) not in (None, "memory"):
                        return dependency
        elif rule == "dependency-forgotten-while-needed" and state == "forgotten":
            for dependent in self.graph.dependents_of(key):
                if states.get(dependent) in ACTIVE:
                    return dependent
        return None

    def _settle(self) -> None:
        states = self.states
        for suspect in self.suspects.values():
            related = self._violates(suspect.rule, suspect.key)
            if related is None:
                continue
            key = suspect.key
            step = suspect.step
            missing: list[tuple[Key, str]] = []
            if suspect.rule == "dependency-forgotten-while-needed":
                message = (
                    f"{format_key(key)} is forgotten while its dependent {format_key(related)} is "
                    f"{states.get(related)}"
                )
            else:
                message = (
                    f"{format_key(key)} is {states.get(key)} while its dependency {format_key(related)} is "
                    f"{states.get(related)}"
                )
                if suspect.missing_check and self.received.get(key, -1) < step.index:
                    missing.append((key, "waiting"))
                    message += f"; {format_key(key)} was never recommended anything when {format_key(related)} left memory"
            self.violations.append(Violation(suspect.rule, key, step.index, step.stimulus_id, message, step=step, missing=missing))
        self.suspects.clear()

    def _hypothetical(self, key: Key, state: str, blamed: Recommendation, stimulus_id: str | None) -> None:
        """Whether applying a recommendation that raised would have broken an invariant."""
        if state not in ACTIVE:
            return
        for dependency in self.graph.dependencies_of(key):
            dependency_state = self.states.get(dependency)
            if dependency_state in BAD_DEPENDENCY:
                self.violations.append(
                    Violation(
                        "dependency-erred-or-forgotten", key, None, stimulus_id,
                        f"applying {format_key(key)}: {state} would have put {format_key(key)} in {state} while "
                        f"its dependency {format_key(dependency)} is {dependency_state}",
                        recommendation=blamed,
                    )
                )  # fmt: skip
                return

    def _forget(self, key: Key) -> None:
        """A forgotten key keeps its state and edges (for the checks), not its last entry.

        Dropping the last step frees the entry it holds (the bulk of a key's memory): the
        replay of a long stream is then bounded by the live keys plus a window of
        :data:`MAX_FORGOTTEN` cheap forgotten ones, not by the trace.
        """
        self.last_step.pop(key, None)
        self.received.pop(key, None)
        forgotten = self.forgotten
        forgotten[key] = None
        if len(forgotten) > MAX_FORGOTTEN:
            oldest, _ = forgotten.popitem(last=False)
            if self.states.get(oldest) == "forgotten":
                del self.states[oldest]
                self.graph.drop(oldest)

    # ------------------------------------------------------------------ end of trace

    def _check_deadlocks(self) -> None:
        """Waiting tasks whose dependency chain ends in an erred or forgotten task."""
        states = self.states
        blocked_by: dict[Key, Key] = {}
        frontier = [key for key, state in states.items() if state in BAD_DEPENDENCY]
        while frontier:
            blocker = frontier.pop()
            for dependent in self.graph.dependents_of(blocker):
                if states.get(dependent) == "waiting" and dependent not in blocked_by:
                    blocked_by[dependent] = blocker
                    frontier.append(dependent)
        for key, blocker in blocked_by.items():
            chain = [key, blocker]
            while chain[-1] in blocked_by and len(chain) < 50:
                chain.append(blocked_by[chain[-1]])
            links = ", which waits on ".join(f"{format_key(k)} ({states.get(k)})" for k in chain)
            step = self.last_step.get(key)
            self.violations.append(
                Violation(
                    "deadlock", key, step.index if step else None, step.stimulus_id if step else None,
                    f"stuck for ever: {links}",
                    step=step,
                )
            )  # fmt: skip

    def check_dump(self, task_graph: TaskGraph | None, transition_counter: int | None) -> None:
        """Compare a dump's own task table and counter with the replay."""
        if task_graph is not None:
            self._check_task_table(task_graph.tasks)
        if transition_counter is not None and transition_counter > self.count:
            complete = self.first_starts_released and self.count not in CONFIGURED_LOG_LENGTHS
            if complete:
                missing = transition_counter - self.count
                self.violations.append(
                    Violation(
                        "counter-ahead", self.last_logged_key(), None, self.stimulus,
                        f"transition_counter is {transition_counter} but the complete log holds {self.count} "
                        f"entries: {missing} transition(s) started and never finished (they raised)",
                    )
                )  # fmt: skip

    def last_logged_key(self) -> Key:
        """The key whose first entry came last."""
        return next(reversed(self.states)) if self.states else ""

    def _check_task_table(self, tasks: Mapping[Key, object]) -> None:
        states = self.states
        reported = {(v.rule, v.key) for v in self.violations}
        for key, task in tasks.items():
            dump_state: str = getattr(task, "state", "unknown")
            replayed = states.get(key)
            step = self.last_step.get(key)
            event = step.index if step else None
            if replayed is not None and replayed != dump_state:
                self.violations.append(
                    Violation(
                        "dump-final-state", key, event, step.stimulus_id if step else None,
                        f"the dump's task table has {format_key(key)} {dump_state}, the log leaves it {replayed}",
                        step=step,
                    )
                )  # fmt: skip
            if dump_state in ACTIVE and ("deadlock", key) not in reported:
                for dependency in getattr(task, "dependencies", ()):
                    dependency_task = tasks.get(dependency)
                    dependency_state = getattr(dependency_task, "state", None)
                    if dependency_state in BAD_DEPENDENCY and ("dependency-erred-or-forgotten", key) not in reported:
                        self.violations.append(
                            Violation(
                                "dump-final-state", key, event, step.stimulus_id if step else None,
                                f"the dump's task table has {format_key(key)} {dump_state} while its dependency "
                                f"{format_key(dependency)} is {dependency_state}",
                                step=step,
                            )
                        )  # fmt: skip
                        break
