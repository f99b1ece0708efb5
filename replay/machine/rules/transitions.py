"""Rules checked at one transition, against the states of the key's neighbours at that moment.

Most are preconditions the scheduler asserts inside its ``_transition_*`` functions when
``distributed.scheduler.validate`` is on; each rule says which releases assert it and how
(:class:`~replay.machine.rules.base.Assertion`), so a finding can say "with validate on,
2024.2.1 raises here". Some were never asserted but hold by the meaning of the states
(a task does not run before its dependencies are in memory): those hold for every release
and say that no assertion of the release checks them.

A precondition counts at the transition, whatever later entries of the cascade do: the
scheduler with validate on raises right there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from replay.events import Key
from replay.keys import format_key
from replay.machine.rules.base import Assertion, Rule, Violation
from replay.machine.steps import Recommendation, Step
from replay.machine.world import World
from replay.releases import Release

Pair = tuple[str, str]

#: When the rules of this module are checked (``replay rules`` shows it).
AT_THE_TRANSITION = "at the transition"
_rule = partial(Rule, when=AT_THE_TRANSITION)

WAITING_ON_FORGOTTEN = _rule(
    "waiting-on-forgotten", "error", "a task goes released->waiting while one of its dependencies is forgotten",
    assertions=(
        Assertion(None, (2022, 12, 0), "_transition_released_waiting",
                  "assert not any(dts.state == 'forgotten' for dts in ts.dependencies)"),
        Assertion((2022, 12, 0), None, "_transition_released_waiting",
                  "assert dts.state not in {'forgotten', 'erred'}"),
    ),
)  # fmt: skip
WAITING_ON_ERRED = _rule(
    "waiting-on-erred", "error",
    "a task goes released->waiting while one of its dependencies is erred (before 2022.12.0 the "
    "scheduler did this on purpose and recommended the task erred next)",
    since=(2022, 12, 0),
    assertions=(
        Assertion((2022, 12, 0), None, "_transition_released_waiting",
                  "assert dts.state not in {'forgotten', 'erred'}"),
    ),
)  # fmt: skip
STARTED_WITHOUT_DEPENDENCIES = _rule(
    "started-without-dependencies", "error",
    "a task enters processing, queued or no-worker while one of its dependencies is not in memory",
    assertions=(
        Assertion(None, (2022, 9, 0), "transition_waiting_processing",
                  "assert all(dts.who_has for dts in ts.dependencies)"),
        Assertion((2022, 9, 0), None, "validate_processing / validate_queued / validate_no_worker",
                  "assert dts.who_has", at_cascade_end=True),
    ),
)  # fmt: skip
MEMORY_WITHOUT_DEPENDENCIES = _rule(
    "memory-without-dependencies",
    "error",
    "a task goes from waiting or no-worker straight to memory while one of its dependencies is not "
    "in memory: the scheduler takes a result it never asked for (from 2022.11.0 it ignores one)",
)
UNWANTED_RUN = _rule(
    "unwanted-run",
    "error",
    "a task ran for nobody: it finished into memory and at once recommended itself released, as the "
    "scheduler does when no client wants a result and no dependent needs it; reported at the entry "
    "that started it",
)

RULES = (WAITING_ON_FORGOTTEN, WAITING_ON_ERRED, STARTED_WITHOUT_DEPENDENCIES, MEMORY_WITHOUT_DEPENDENCIES,
         UNWANTED_RUN)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Precondition:
    """A rule about the dependencies' states when a task takes one of ``transitions``.

    A dependency breaks it when its state is in ``forbidden``, or, with ``required``,
    when its state is known and neither required nor ``ignored``.
    """

    rule: Rule
    transitions: frozenset[Pair]
    forbidden: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    #: states that say nothing here (a forgotten dependency is another rule's business)
    ignored: frozenset[str] = frozenset()

    def broken_by(self, state: str | None) -> bool:
        if state is None:
            return False  # a key the log has not shown: unknown, never an alarm
        if self.required:
            return state not in self.required and state not in self.ignored
        return state in self.forbidden

    def describe(self, key: Key, start: str, finish: str, dependency: Key, state: str) -> str:
        return f"{format_key(key)} went {start}->{finish} while its dependency {format_key(dependency)} is {state}"


PRECONDITIONS = (
    Precondition(WAITING_ON_FORGOTTEN, frozenset({("released", "waiting")}), forbidden=frozenset({"forgotten"})),
    Precondition(WAITING_ON_ERRED, frozenset({("released", "waiting")}), forbidden=frozenset({"erred"})),
    Precondition(
        STARTED_WITHOUT_DEPENDENCIES,
        frozenset({("waiting", "processing"), ("waiting", "queued"), ("waiting", "no-worker"),
                   ("queued", "processing"), ("no-worker", "processing")}),
        required=frozenset({"memory"}), ignored=frozenset({"forgotten"}),
    ),
    Precondition(
        MEMORY_WITHOUT_DEPENDENCIES, frozenset({("waiting", "memory"), ("no-worker", "memory")}),
        required=frozenset({"memory"}), ignored=frozenset({"forgotten"}),
    ),
)  # fmt: skip


def preconditions_for(release: Release | None) -> dict[Pair, tuple[Precondition, ...]]:
    """The preconditions of ``release`` by the transition they guard (looked up once per entry)."""
    by_pair: dict[Pair, list[Precondition]] = {}
    for precondition in PRECONDITIONS:
        if precondition.rule.holds_for(release):
            for pair in precondition.transitions:
                by_pair.setdefault(pair, []).append(precondition)
    return {pair: tuple(checks) for pair, checks in by_pair.items()}


def check_preconditions(
    world: World,
    checks: tuple[Precondition, ...],
    key: Key,
    start: str,
    finish: str,
) -> list[tuple[Precondition, Key, str]]:
    """What ``key``'s step ``start->finish`` breaks: (precondition, dependency, its state) each."""
    broken: list[tuple[Precondition, Key, str]] = []
    dependencies = world.graph.dependencies.get(key)
    if not dependencies:
        return broken
    states = world.states
    for precondition in checks:
        for dependency in dependencies:
            state = states.get(dependency)
            if precondition.broken_by(state):
                broken.append((precondition, dependency, state))  # type: ignore[arg-type]
                break
    return broken


def precondition_violation(
    world: World, step: Step, start: str, finish: str, precondition: Precondition, dependency: Key, state: str
) -> Violation:
    """The finding for a broken precondition at ``step``."""
    rule = precondition.rule
    return Violation(
        rule, step.key, step.index, step.stimulus_id,
        f"{precondition.describe(step.key, start, finish, dependency, state)}; {rule.validate_note(world.release)}",
        step=step,
    )  # fmt: skip


def hypothetical_violations(
    world: World,
    checks: tuple[Precondition, ...],
    key: Key,
    start: str,
    finish: str,
    blamed: Recommendation,
    stimulus_id: str | None,
) -> list[Violation]:
    """What applying a recommendation that raised (and was never logged) would have broken."""
    violations = []
    for precondition, dependency, state in check_preconditions(world, checks, key, start, finish):
        rule = precondition.rule
        violations.append(
            Violation(
                rule, key, None, stimulus_id,
                f"applying {format_key(key)}: {blamed.state} would have taken {format_key(key)} {start}->{finish} "
                f"while its dependency {format_key(dependency)} is {state}; {rule.validate_note(world.release)}",
                recommendation=blamed,
            )
        )  # fmt: skip
    return violations


def check_unwanted_run(world: World, step: Step, own: Mapping[Key, str]) -> Violation | None:
    """A task that finished into memory and recommended itself released was run for nobody."""
    key = step.key
    if own.get(key) != "released" or step.transition.start != "processing":
        return None
    started = world.last_step.get(key)
    if started is None or started.transition.finish != "processing":
        return None  # the log does not show what started it
    return Violation(
        UNWANTED_RUN, key, started.index, started.stimulus_id,
        f"{format_key(key)} went {started.transition.start}->processing here, but when it finished (entry "
        f"{step.index}) the scheduler released the result at once: no client wanted it and no dependent "
        f"needed it",
        step=started,
    )  # fmt: skip
