"""The instrumented replay of a scheduler transition log.

The scheduler logs outcomes, not inputs. The replay re-derives, entry by entry, what
asked for each transition (:mod:`~replay.machine.mirror`), keeps every key's state
(:mod:`~replay.machine.world`) and runs the rules (:mod:`~replay.machine.rules`) when
they apply:

* at each entry: is it possible (continuity, the release's table, state names), and
  does it break a precondition the scheduler asserts (or should) at that transition;
* when a step puts a key and a neighbour in a bad state: a suspicion, which counts once
  the cascade ends if the key that had to move took no further step;
* at the end of each cascade: recommendations never applied (a transition raised);
* at the end of the trace: deadlocks; for a dump, its task table and its counter.

Implicit detours through ``released``: ``X->released`` logged for a request other than
``released`` is the first half of a detour; the next entry for the key, ``released->Y``,
is the second half and repeats the first half's recommendations. Where an unknown
request reads equally well as a direct release followed by the key's own
recommendation, the pair is read as a detour whenever the second half repeats the first
half's recommendations. The first half logs the state the key is left in, which is not
always ``released``: a transition function may decline and leave the key where it was
(2025.4.1 releasing a lost actor logs ``memory->memory {key: erred}``). So ``X->X``
asked to go elsewhere may be a first half too; the next entry decides, and when it is no
second half the entry was a declined direct transition, a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from replay.events import SCHEDULER_STATES, Key, SchedulerTransition, TaskGraph, TaskRecord
from replay.machine.graph import RELATIONS
from replay.machine.mirror import QueueMirror
from replay.machine.rules import log, transitions
from replay.machine.rules.base import Violation
from replay.machine.rules.dump import check_task_table
from replay.machine.rules.end import check_deadlocks
from replay.machine.rules.states import STATE_RULES, StateRule, Suspect, hypothetical_bad_dependency
from replay.machine.steps import DETOUR_INNER, DETOUR_OUTER, NO_OP, STEP, Recommendation, Step
from replay.machine.world import World
from replay.releases import Release

Pair = tuple[str, str]

#: For each (start, finish), the state rules a step of that pair can break.
STATE_TRIGGERS: dict[Pair, tuple[StateRule, ...]] = {
    (start, finish): rules
    for start in SCHEDULER_STATES
    for finish in SCHEDULER_STATES
    if (rules := tuple(rule for rule in STATE_RULES if rule.triggered_by(start, finish)))
}
_NO_PRECONDITIONS: tuple[transitions.Precondition, ...] = ()


@dataclass(frozen=True, slots=True)
class MachineResult:
    """What one replay found, and the state it ended in; nothing here changes afterwards."""

    release: Release | None
    #: the transition table checked against, in words
    table: str
    events: int
    steps: tuple[Step, ...]
    violations: tuple[Violation, ...]
    #: every key's state at the end (forgotten keys only within the replay's window)
    final_states: Mapping[Key, str]
    #: every key's first entry started from released: the log holds the run from its start
    complete_log: bool
    #: where dependencies came from: "dump" (a dump's task table), "inferred" or another source
    graph_source: str


class Replayer:
    """Feed entries in log order with :meth:`feed_all`, then call :meth:`finish`."""

    def __init__(
        self,
        release: Release | None = None,
        task_graph: TaskGraph | None = None,
        *,
        keep_steps: bool = True,
    ) -> None:
        self.world = World(release, task_graph)
        self.mirror = QueueMirror(self.world, detail=keep_steps, on_unknown_state=self._unknown_recommended)
        #: a dump's task table: the state of keys the log never showed, and a check of its own
        self.dump_tasks: Mapping[Key, TaskRecord] = (
            task_graph.tasks if task_graph is not None and task_graph.source == "dump" else {}
        )
        self.graph_source = task_graph.source if task_graph is not None else "inferred"
        self.preconditions = transitions.preconditions_for(release)
        self.open_detour: Step | None = None
        self.suspects: dict[tuple[str, Key], Suspect] = {}
        self.violations: list[Violation] = []
        #: the last cascade that raised: its blamed recommendation explains a counter ahead
        self.last_unfinished: Violation | None = None
        self.steps: list[Step] | None = [] if keep_steps else None
        self.detail = keep_steps
        self.group = -1
        #: the index of the first entry of the cascade being fed
        self.group_start = 0
        self.stimulus: str | None = None
        self.count = 0
        #: every key's first entry so far started from released: the log is complete
        self.first_starts_released = True
        self.unknown_states: set[str] = set()

    # ------------------------------------------------------------------ feeding

    def run(self, transitions_in_order: Iterable[SchedulerTransition]) -> Replayer:
        """Feed every entry and finish."""
        self.feed_all(transitions_in_order)
        self.finish()
        return self

    def feed_all(self, transitions_in_order: Iterable[SchedulerTransition]) -> None:
        """Replay entries in log order.

        One loop with the usual case inline (a legal step that continues the key's
        last state): a method call per entry and per helper would cost more than the
        replay itself. Anything unusual goes through :meth:`_unusual`.
        """
        world = self.world
        states = world.states
        last_step = world.last_step
        legal_pairs = world.legal_pairs
        pending = self.mirror.pending
        pop_cause = self.mirror.pop_cause
        push = self.mirror.push
        preconditions = self.preconditions
        enter = self._enter
        triggering = STATE_TRIGGERS
        steps = self.steps
        detail = self.detail
        stimulus = self.stimulus
        group = self.group
        count = self.count
        try:
            for transition in transitions_in_order:
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
                    self.group_start = index
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
                        cause = pop_cause(key, silent)
                requested = None if cause is None else cause.state
                pair = (start, finish)
                legal = pair in legal_pairs
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
                if not legal:
                    self._report(log.check_legal(world, step, start, finish, requested))
                if own:
                    push(step, own.items(), index, relations=RELATIONS.get(pair))
                checks = preconditions.get(pair)
                if checks is not None:
                    self._at_transition(step, start, finish, checks)
                if finish == "memory" and own and own.get(key) == "released":  # rare: a result nobody wants
                    self._report(transitions.check_unwanted_run(world, step, own))
                last_step[key] = step
                if pair in triggering or finish == "forgotten":
                    enter(step, start, finish)
                else:  # what _enter does when no rule can be broken: the usual case, inline
                    states[key] = finish
        finally:
            self.count = count

    def finish(self) -> None:
        """Settle the last cascade and run the end-of-trace checks."""
        if self.open_detour is not None:
            inner, self.open_detour = self.open_detour, None
            self._abandon_detour(inner, at_end=True)
        self._close_group(at_end=True)
        self.violations.extend(check_deadlocks(self.world))

    def settle(self) -> bool:
        """End the cascade being fed now, for a caller that knows it is over (a live recording
        gone quiet: the recorder writes only between handlers, and a handler runs its cascade
        to the end). False, and nothing done, while a detour is half done: its second half may
        still come."""
        if self.open_detour is not None:
            return False
        if self.mirror.pending or self.suspects:
            self._close_group()
        return True

    def settled(self, start: int = 0) -> int:
        """How far ``violations`` (from ``start``) can no longer change: up to the first one at an
        entry of the cascade being fed, which later entries of that cascade may still settle."""
        ready = start
        for violation in self.violations[start:]:
            if violation.event is not None and violation.event >= self.group_start:
                break
            ready += 1
        return ready

    def check_dump(self, transition_counter: int | None, workers: Iterable[str] = ()) -> None:
        """Compare a dump's own task table and counter with the replay."""
        if self.dump_tasks:
            reported = {(violation.rule.name, violation.key) for violation in self.violations}
            self.violations.extend(check_task_table(self.world, self.dump_tasks, frozenset(workers), reported))
        self._report(log.check_counter(self.count, transition_counter, self.first_starts_released, self.last_unfinished))

    def result(self) -> MachineResult:
        """The replay's findings and final state, frozen."""
        table = self.world.table.label if self.world.table is not None else "any release's table"
        return MachineResult(
            release=self.world.release,
            table=table,
            events=self.count,
            steps=tuple(self.steps or ()),
            violations=tuple(self.violations),
            final_states=MappingProxyType(dict(self.world.states)),
            complete_log=self.first_starts_released and self.count not in log.CONFIGURED_LOG_LENGTHS,
            graph_source=self.graph_source,
        )

    # ------------------------------------------------------------------ one entry

    def _report(self, violation: Violation | None) -> None:
        if violation is not None:
            self.violations.append(violation)

    def _record(self, step: Step) -> None:
        if self.steps is not None:
            self.steps.append(step)
        key = step.key
        if key not in self.world.states and step.transition.start != "released":
            self.first_starts_released = False
        self.world.last_step[key] = step

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
        self._report(log.check_continuity(self.world, index, transition))
        if start not in SCHEDULER_STATES or finish not in SCHEDULER_STATES:
            for state in (start, finish):
                self._unknown_state(transition.key, index, transition.stimulus_id, state, "state")
        if finish == "released" and start != "released" and requested != "released":
            step = Step(index, transition, self.group, cause, requested, DETOUR_INNER, silent=silent)
            self._record(step)
            self._report(log.check_override(step))
            self.open_detour = step
            return True
        if start == finish != "released" and requested not in (None, start, "released"):
            # a declined transition, or the first half of a detour that left the key where it was
            step = Step(index, transition, self.group, cause, requested, DETOUR_INNER, silent=silent)
            self._record(step)
            self.open_detour = step
            return True
        return False

    def _at_transition(
        self, step: Step, start: str, finish: str, checks: tuple[transitions.Precondition, ...]
    ) -> None:
        """The preconditions of one transition, checked before the key's new state is entered."""
        world = self.world
        for precondition, dependency, state in transitions.check_preconditions(world, checks, step.key, start, finish):
            self.violations.append(
                transitions.precondition_violation(world, step, start, finish, precondition, dependency, state)
            )

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
        if inner.transition.finish != "released":  # a first half that left the key where it was
            self._report(log.check_override(inner))
        self._enter(inner, inner.transition.start, "released")
        self._record(step)
        self._report(log.check_continuity(self.world, index, transition))
        self._report(log.check_legal(self.world, step, "released", transition.finish, requested))
        # The second half repeats the first half's recommendations: each is credited to
        # the half whose own step made it, and is pushed once.
        merged = transition.recommendations
        first_half = [(k, s) for k, s in merged.items() if inner_recommendations.get(k) == s]
        second_half = [(k, s) for k, s in merged.items() if inner_recommendations.get(k) != s]
        world = self.world
        world.graph.infer(inner.index, key, inner.transition.start, "released", inner_recommendations.items(), world.states)
        self.mirror.push(inner, first_half, inner.index, into=step)
        self.mirror.push(step, second_half, index, relations=RELATIONS.get(("released", transition.finish)))
        checks = self.preconditions.get(("released", transition.finish))
        if checks is not None:
            self._at_transition(step, "released", transition.finish, checks)
        self._enter(step, "released", transition.finish)

    def _abandon_detour(self, inner: Step, *, at_end: bool = False) -> None:
        """A first half with no second half: a direct release, a declined transition (``X->X``),
        or a detour that raised."""
        start = inner.transition.start
        if inner.transition.finish == start:
            self._declined(inner)
            return
        if inner.requested is None:
            inner.role = STEP
            self._report(log.check_legal(self.world, inner, start, "released", None))
            own = inner.transition.recommendations
            self.mirror.push(inner, own.items(), inner.index, relations=RELATIONS.get((start, "released")))
            self._enter(inner, start, "released")
            return
        self._enter(inner, start, "released")
        received = self.world.received
        for recommended in inner.transition.recommendations:
            received[recommended] = inner.index  # emitted, then lost with the exception
        own_state = inner.transition.recommendations.get(inner.key)
        target = own_state if own_state is not None else inner.requested
        blamed = log.detour_blame(inner)
        self._unfinished(log.unfinished_detour(inner, target, blamed, at_end=at_end))
        self._hypothetical(inner.key, "released", target, blamed, inner.stimulus_id)
        # The scheduler's loop died with the exception: what was pending was never applied.
        self.mirror.pending.clear()

    def _declined(self, step: Step) -> None:
        """An ``X->X`` entry with no second half: a direct transition that declined, replayed as
        the usual path replays a no-op."""
        state = step.transition.start
        own = step.transition.recommendations
        step.role = NO_OP
        self._report(log.check_legal(self.world, step, state, state, step.requested))
        self.mirror.push(step, own.items(), step.index, relations=RELATIONS.get((state, state)))
        checks = self.preconditions.get((state, state))
        if checks is not None:
            self._at_transition(step, state, state, checks)
        if state == "memory" and own.get(step.key) == "released":
            self._report(transitions.check_unwanted_run(self.world, step, own))
        self._enter(step, state, state)

    # ------------------------------------------------------------------ states

    def _enter(self, step: Step, start: str, finish: str) -> None:
        """Update the key's state and note what its new state might break."""
        key = step.key
        world = self.world
        world.states[key] = finish
        rules = STATE_TRIGGERS.get((start, finish))
        if rules is not None:
            suspects = self.suspects
            for rule in rules:
                for suspect in rule.suspects(world, step, start, finish):
                    suspects.setdefault((rule.rule.name, suspect.key), suspect)
        if finish == "forgotten":
            world.forget(key)

    def _close_group(self, *, at_end: bool = False) -> None:
        """The stimulus is over: nothing pending may be left, suspicions are settled."""
        leftovers = self.mirror.leftovers(self._unseen_state)
        if leftovers:
            first = leftovers[0]
            seen = self.world.states.get(first.key)
            # leftovers only hold keys whose state is known or given (see QueueMirror.leftovers)
            current = seen if seen is not None else f"{self._unseen_state(first.key)} (never logged)"
            self._unfinished(log.unfinished_cascade(leftovers, current, self.stimulus, at_end=at_end))
            self._hypothetical(first.key, seen or str(self._unseen_state(first.key)), first.state, first, self.stimulus)
        self._settle()

    def _settle(self) -> None:
        """Suspicions whose mover took no further step count, at the entry that made them."""
        world = self.world
        for suspect in self.suspects.values():
            if world.moved_after(suspect.mover, suspect.step.index):
                continue  # transient: a recommendation moved the key on
            message, missing = suspect.rule.message(world, suspect)
            step = suspect.step
            culprit_step = suspect.culprit_step or step
            self.violations.append(
                Violation(suspect.rule.rule, suspect.key, step.index, step.stimulus_id, message, step=culprit_step,
                          missing=missing)
            )  # fmt: skip
        self.suspects.clear()

    def _unseen_state(self, key: Key) -> str | None:
        """The state of a key the log never showed: the dump's, or released in a complete log."""
        task = self.dump_tasks.get(key)
        if task is not None:
            return task.state
        return "released" if self.first_starts_released else None

    def _unfinished(self, violation: Violation) -> None:
        self.violations.append(violation)
        self.last_unfinished = violation

    def _hypothetical(self, key: Key, current: str, state: str, blamed: Recommendation, stimulus_id: str | None) -> None:
        """What applying a recommendation that raised would have broken.

        The transitions it would have run are checked against the preconditions; only
        when none breaks is the state it would have left checked, so one cause is told once.
        """
        world = self.world
        if (current, state) in world.legal_pairs or "released" in (current, state):
            pairs = [(current, state)]
        else:
            pairs = [(current, "released"), ("released", state)]
        broken = [
            violation
            for start, finish in pairs
            for violation in transitions.hypothetical_violations(
                world, self.preconditions.get((start, finish), _NO_PRECONDITIONS), key, start, finish, blamed,
                stimulus_id,
            )
        ]
        if not broken:
            self._report(hypothetical_bad_dependency(world, key, state, blamed, stimulus_id))
        self.violations.extend(broken)

    def _unknown_state(self, key: Key, index: int, stimulus_id: str | None, state: str, what: str) -> None:
        if state not in SCHEDULER_STATES and state not in self.unknown_states:
            self.unknown_states.add(state)
            self.violations.append(log.unknown_state(key, index, stimulus_id, state, what))

    def _unknown_recommended(self, step: Step, state: str) -> None:
        self._unknown_state(step.key, step.index, step.stimulus_id, state, "recommended state")
