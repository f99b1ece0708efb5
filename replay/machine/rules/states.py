"""Rules about a key's state and its neighbours', checked once the key itself settles.

Real runs pass through such states inside a cascade: a failed task's dependents sit in
``waiting`` for a few entries before their own ``erred`` is popped. So a rule only
*suspects* a key when a step puts the pair in a bad state, and the suspicion counts
when the key that must move (the *mover*: the dependent) took no further step in the
cascade: no pending recommendation moved it, whatever became of the other key. It is
then reported at the entry that created the state, like the scheduler's own
``validate_<state>`` checks that run on every key a cascade touched.

Each rule says which steps make it suspicious (``triggered_by``), what it suspects then
(``suspects``) and how it words a finding (``message``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from replay.events import Key
from replay.keys import format_key
from replay.machine.rules.base import Assertion, Rule, Violation
from replay.machine.steps import Recommendation, Step
from replay.machine.world import ACTIVE, BAD_DEPENDENCY, NEEDS_MEMORY, World

#: When the rules of this module are checked (``replay rules`` shows it).
WHEN_THE_KEY_SETTLES = "when the cascade ends, if the key took no further step"
_rule = partial(Rule, when=WHEN_THE_KEY_SETTLES)

DEPENDENCY_ERRED_OR_FORGOTTEN = _rule(
    "dependency-erred-or-forgotten", "error",
    "a task in waiting, queued, processing or no-worker has an erred or forgotten dependency",
    assertions=(Assertion(None, None, "validate_task_state", "assert dts.state != 'forgotten'"),),
)  # fmt: skip
DEPENDENCY_NOT_IN_MEMORY = _rule(
    "dependency-not-in-memory", "error",
    "a dependency left memory under a task in processing, queued or no-worker, and nothing moved the task",
    assertions=(
        Assertion(None, None, "validate_processing / validate_queued / validate_no_worker", "assert dts.who_has",
                  at_cascade_end=True),
    ),
)  # fmt: skip
DEPENDENCY_FORGOTTEN_WHILE_NEEDED = _rule(
    "dependency-forgotten-while-needed", "error",
    "a task is forgotten while a dependent still waits for, queues on or processes with it",
    assertions=(Assertion(None, None, "validate_task_state", "assert dts.state != 'forgotten'"),),
)  # fmt: skip


@dataclass(slots=True)
class Suspect:
    """A pair in a bad state after ``step``; it counts if ``mover`` takes no later step in the cascade."""

    rule: StateRule
    key: Key
    related: Key
    step: Step
    mover: Key
    #: the related key's state when the pair went bad
    related_state: str
    #: the mover's state then
    state: str
    #: the step that put ``key`` in its state, whose cause is the culprit (``step`` when that was it)
    culprit_step: Step | None = None


def _neighbour_suspect(
    rule: StateRule, world: World, step: Step, dependent: Key, dependent_state: str, finish: str
) -> Suspect:
    """``step`` moved a dependency and left ``dependent`` in a state that no longer holds.

    The culprit is what put the dependent in that state; the step that moved the
    dependency is where the pair went bad.
    """
    return Suspect(rule, dependent, step.key, step, dependent, finish, dependent_state,
                   world.last_step.get(dependent, step))  # fmt: skip


def missing_recommendation(world: World, suspect: Suspect, state: str) -> list[tuple[Key, str]]:
    """``[(key, state)]`` when nothing was recommended to the suspect's key since the pair went bad."""
    if world.received.get(suspect.key, -1) < suspect.step.index:
        return [(suspect.key, state)]
    return []


class StateRule:
    """One invariant between a key and a neighbour; subclasses fill in the three parts."""

    rule: Rule

    def triggered_by(self, start: str, finish: str) -> bool:
        """Whether a step ``start->finish`` can break the rule (for its key or a neighbour)."""
        raise NotImplementedError

    def suspects(self, world: World, step: Step, start: str, finish: str) -> Iterator[Suspect]:
        """The pairs ``step`` put in a bad state."""
        raise NotImplementedError

    def message(self, world: World, suspect: Suspect) -> tuple[str, list[tuple[Key, str]]]:
        """The finding's words, and the recommendations that were missing."""
        raise NotImplementedError


class DependencyErredOrForgotten(StateRule):
    """A task that still needs its dependencies has one that can never finish."""

    rule = DEPENDENCY_ERRED_OR_FORGOTTEN

    def triggered_by(self, start: str, finish: str) -> bool:
        return finish in ACTIVE or finish == "erred"

    @staticmethod
    def bad_dependency(world: World, key: Key) -> tuple[Key, str] | None:
        """The first dependency of ``key`` that is erred or forgotten, with its state."""
        states = world.states
        for dependency in world.graph.dependencies_of(key):
            state = states.get(dependency)
            if state in BAD_DEPENDENCY:
                return dependency, state
        return None

    def suspects(self, world: World, step: Step, start: str, finish: str) -> Iterator[Suspect]:
        states = world.states
        key = step.key
        if finish in ACTIVE:
            bad = self.bad_dependency(world, key)
            if bad is not None:
                yield Suspect(self, key, bad[0], step, key, bad[1], finish)
        else:  # the key erred: every dependent that still needs it
            for dependent in world.graph.dependents_of(key):
                dependent_state = states.get(dependent)
                if dependent_state in ACTIVE:
                    yield _neighbour_suspect(self, world, step, dependent, dependent_state, finish)

    def message(self, world: World, suspect: Suspect) -> tuple[str, list[tuple[Key, str]]]:
        text = (
            f"{format_key(suspect.key)} is {suspect.state} while its dependency {format_key(suspect.related)} "
            f"is {suspect.related_state}"
        )
        if suspect.culprit_step is None:  # the key itself went there
            return text, []
        missing = missing_recommendation(world, suspect, "erred")
        if missing:
            text += (
                f"; {format_key(suspect.key)} was never recommended anything when {format_key(suspect.related)} erred"
            )
        return text, missing


def hypothetical_bad_dependency(
    world: World, key: Key, state: str, blamed: Recommendation, stimulus_id: str | None
) -> Violation | None:
    """Whether applying ``key: state`` (a recommendation that raised) would have left ``key``
    needing an erred or forgotten dependency."""
    bad = DependencyErredOrForgotten.bad_dependency(world, key) if state in ACTIVE else None
    if bad is None:
        return None
    dependency, dependency_state = bad
    return Violation(
        DEPENDENCY_ERRED_OR_FORGOTTEN, key, None, stimulus_id,
        f"applying {format_key(key)}: {state} would have put {format_key(key)} in {state} while its "
        f"dependency {format_key(dependency)} is {dependency_state}",
        recommendation=blamed,
    )  # fmt: skip


class DependencyNotInMemory(StateRule):
    """A running (or about to run) task lost a dependency's data and was left where it was."""

    rule = DEPENDENCY_NOT_IN_MEMORY

    def triggered_by(self, start: str, finish: str) -> bool:
        return start == "memory" and finish != "memory"

    def suspects(self, world: World, step: Step, start: str, finish: str) -> Iterator[Suspect]:
        states = world.states
        for dependent in world.graph.dependents_of(step.key):
            dependent_state = states.get(dependent)
            if dependent_state in NEEDS_MEMORY:
                yield _neighbour_suspect(self, world, step, dependent, dependent_state, finish)

    def message(self, world: World, suspect: Suspect) -> tuple[str, list[tuple[Key, str]]]:
        key, related = suspect.key, suspect.related
        text = (
            f"{format_key(key)} is {suspect.state} while its dependency {format_key(related)} is "
            f"{suspect.related_state}"
        )
        missing = missing_recommendation(world, suspect, "waiting")
        if missing:
            text += f"; {format_key(key)} was never recommended anything when {format_key(related)} left memory"
        return text, missing


class DependencyForgottenWhileNeeded(StateRule):
    """A task was forgotten under a dependent that still needs it."""

    rule = DEPENDENCY_FORGOTTEN_WHILE_NEEDED

    def triggered_by(self, start: str, finish: str) -> bool:
        return finish == "forgotten"

    def suspects(self, world: World, step: Step, start: str, finish: str) -> Iterator[Suspect]:
        states = world.states
        for dependent in world.graph.dependents_of(step.key):
            dependent_state = states.get(dependent)
            if dependent_state in ACTIVE:
                yield Suspect(self, step.key, dependent, step, dependent, dependent_state, finish)
                return

    def message(self, world: World, suspect: Suspect) -> tuple[str, list[tuple[Key, str]]]:
        return (
            f"{format_key(suspect.key)} is forgotten while its dependent {format_key(suspect.related)} is "
            f"{suspect.related_state}",
            [],
        )


STATE_RULES: tuple[StateRule, ...] = (
    DependencyErredOrForgotten(),
    DependencyNotInMemory(),
    DependencyForgottenWhileNeeded(),
)
RULES = tuple(state_rule.rule for state_rule in STATE_RULES)
