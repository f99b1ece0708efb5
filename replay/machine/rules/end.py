"""Rules checked once the whole trace has been replayed."""

from __future__ import annotations

from functools import partial

from replay.events import Key
from replay.keys import format_key
from replay.machine.rules.base import Rule, Violation
from replay.machine.world import BAD_DEPENDENCY, World

#: When the rules of this module are checked (``replay rules`` shows it).
AT_THE_END = "at the end of the trace"
_rule = partial(Rule, when=AT_THE_END)

DEADLOCK = _rule("deadlock", "error", "at the end of the trace a task waits on a dependency that can never finish")

RULES = (DEADLOCK,)

#: How many links of a long chain a message names.
MAX_CHAIN = 50


def check_deadlocks(world: World) -> list[Violation]:
    """Waiting tasks whose dependency chain ends in an erred or forgotten task."""
    states = world.states
    blocked_by: dict[Key, Key] = {}
    frontier = [key for key, state in states.items() if state in BAD_DEPENDENCY]
    while frontier:
        blocker = frontier.pop()
        for dependent in world.graph.dependents_of(blocker):
            if states.get(dependent) == "waiting" and dependent not in blocked_by:
                blocked_by[dependent] = blocker
                frontier.append(dependent)
    violations = []
    for key, blocker in blocked_by.items():
        chain = [key, blocker]
        while chain[-1] in blocked_by and len(chain) < MAX_CHAIN:
            chain.append(blocked_by[chain[-1]])
        links = ", which waits on ".join(f"{format_key(k)} ({states.get(k)})" for k in chain)
        step = world.last_step.get(key)
        violations.append(
            Violation(
                DEADLOCK, key, step.index if step else None, step.stimulus_id if step else None,
                f"stuck for ever: {links}", step=step,
            )
        )  # fmt: skip
    return violations
