"""Rules about the log itself: is each entry possible, and did every cascade finish?

These hold for every release; each function checks one rule and words its finding.
"""

from __future__ import annotations

from functools import partial

from replay.events import SCHEDULER_STATES, Key, SchedulerTransition
from replay.keys import format_key
from replay.machine.rules.base import Rule, Violation
from replay.machine.steps import Recommendation, Step
from replay.machine.world import World

#: When the rules of this module are checked (``replay rules`` shows it).
AT_EACH_ENTRY = "at each entry"
_rule = partial(Rule, when=AT_EACH_ENTRY)

CONTINUITY = _rule("continuity", "error", "a transition starts from a state other than the one the task was in")
ILLEGAL_TRANSITION = _rule(
    "illegal-transition", "error",
    "a transition is neither a table edge of the release, nor a detour half, nor a no-op",
)  # fmt: skip
UNKNOWN_STATE = _rule("unknown-state", "warning", "a state name that no release of distributed uses")
DETOUR_OVERRIDE = _rule(
    "detour-override", "warning",
    "an implicit detour through released went where its own recommendation said, not where it was asked to go",
)  # fmt: skip
UNFINISHED_CASCADE = _rule(
    "unfinished-cascade", "error",
    "recommendations were left pending or a detour was left half done: a transition raised and was never logged",
)  # fmt: skip
COUNTER_AHEAD = _rule(
    "counter-ahead", "error", "the dump's transition_counter is ahead of its complete log: transitions raised"
)

RULES = (CONTINUITY, ILLEGAL_TRANSITION, UNKNOWN_STATE, DETOUR_OVERRIDE, UNFINISHED_CASCADE, COUNTER_AHEAD)

#: Log lengths that mean "the deque was full": a log this long is truncated, not complete.
CONFIGURED_LOG_LENGTHS = frozenset({1000, 100_000})


def check_continuity(world: World, index: int, transition: SchedulerTransition) -> Violation | None:
    """The entry starts where the log last left the key (a forgotten key may start afresh)."""
    key = transition.key
    known = world.states.get(key)
    if known is None or known == transition.start:
        return None
    if known == "forgotten" and transition.start == "released":
        return None  # a forgotten key submitted again starts afresh
    return Violation(
        CONTINUITY, key, index, transition.stimulus_id,
        f"{format_key(key)} {transition.start}->{transition.finish} but the log last left it {known}",
        step=world.last_step.get(key),
    )  # fmt: skip


def check_legal(world: World, step: Step, start: str, finish: str, requested: str | None) -> Violation | None:
    """The pair is an edge of the release's table (or the requested one is), or a no-op decision."""
    pairs = world.legal_pairs
    if (start, finish) in pairs or (requested is not None and (start, requested) in pairs):
        return None
    if start == finish and (step.key in step.transition.recommendations or requested is None):
        return None  # a no-op whose real decision is in its recommendations
    if start not in SCHEDULER_STATES or finish not in SCHEDULER_STATES:
        return None  # reported as unknown-state already
    release = world.table.label if world.table is not None else "any release"
    asked = f" (asked for {requested})" if requested not in (None, finish) else ""
    return Violation(
        ILLEGAL_TRANSITION, step.key, step.index, step.stimulus_id,
        f"{format_key(step.key)} {start}->{finish}{asked} is not a transition of {release}",
        step=step,
    )  # fmt: skip


def unknown_state(step_key: Key, index: int, stimulus_id: str | None, state: str, what: str) -> Violation:
    """A state name no release uses (reported once per name by the caller)."""
    return Violation(
        UNKNOWN_STATE, step_key, index, stimulus_id, f"{what} {state!r} is not a scheduler state of any release"
    )


def check_override(inner: Step) -> Violation | None:
    """A detour's first half recommended its own key somewhere other than where it was asked to go."""
    key = inner.key
    own_state = inner.transition.recommendations.get(key)
    if own_state is None or inner.requested is None or own_state == inner.requested:
        return None
    return Violation(
        DETOUR_OVERRIDE, key, inner.index, inner.stimulus_id,
        f"{format_key(key)} was asked to go {inner.transition.start}->{inner.requested}; the detour "
        f"through released recommended {format_key(key)}: {own_state} on its way, which replaces the request",
        recommendation=Recommendation(key, own_state, inner.index, replaced=inner.cause),
    )  # fmt: skip


def detour_blame(inner: Step) -> Recommendation:
    """The recommendation a half-done detour was serving (its own override first)."""
    key = inner.key
    own_state = inner.transition.recommendations.get(key)
    request = inner.cause
    if own_state is not None and own_state != inner.requested:
        return Recommendation(key, own_state, inner.index, replaced=request)
    if request is not None:
        return request
    return Recommendation(key, inner.requested or "released", None)


def unfinished_detour(inner: Step, target: str, blamed: Recommendation, *, at_end: bool) -> Violation:
    """A detour's first half was logged and its second half never was: it raised."""
    key = inner.key
    where = "the trace ends there" if at_end else "the cascade went on without it"
    return Violation(
        UNFINISHED_CASCADE, key, inner.index, inner.stimulus_id,
        f"{format_key(key)} left {inner.transition.start} for released (entry {inner.index}) to serve "
        f"{format_key(key)}: {inner.requested}, but the detour's second step (released->{target}) was "
        f"never logged and {where}: it raised",
        recommendation=blamed,
    )  # fmt: skip


def unfinished_cascade(
    leftovers: list[Recommendation], current: str, stimulus_id: str | None, *, at_end: bool
) -> Violation:
    """Recommendations left pending when the stimulus ended: the next one (from ``current``) raised."""
    first = leftovers[0]
    where = "the trace ends" if at_end else "the next stimulus starts"
    source = "" if first.event is None else f" (from entry {first.event})"
    return Violation(
        UNFINISHED_CASCADE, first.key, None, stimulus_id,
        f"{where} with {len(leftovers)} recommendation(s) never applied; next would have been "
        f"{format_key(first.key)}: {current} -> {first.state}{source}: it most likely raised",
        recommendation=first,
    )  # fmt: skip


def check_counter(
    count: int, transition_counter: int | None, complete: bool, raised: Violation | None
) -> Violation | None:
    """A dump's ``transition_counter`` ahead of a complete log: transitions started and raised.

    ``raised`` is the last unfinished cascade the replay saw, whose blamed recommendation
    is then the culprit; without one the culprit is unknown and the finding says so.
    """
    if transition_counter is None or transition_counter <= count:
        return None
    if not complete or count in CONFIGURED_LOG_LENGTHS:
        return None  # a bounded log that dropped its oldest entries: truncation, not failures
    missing = transition_counter - count
    message = (
        f"transition_counter is {transition_counter} but the complete log holds {count} entries: "
        f"{missing} transition(s) started and never finished (they raised)"
    )
    if raised is None or raised.recommendation is None:
        return Violation(
            COUNTER_AHEAD, None, None, None,
            message + "; the log shows no pending recommendation, so which one raised is unknown",
        )  # fmt: skip
    blamed = raised.recommendation
    return Violation(
        COUNTER_AHEAD, blamed.key, raised.event, raised.stimulus_id,
        message + f"; the one that raised was applying {format_key(blamed.key)}: {blamed.state}",
        recommendation=blamed,
    )  # fmt: skip
