"""The replay's internal records: pending recommendations and replayed steps.

Slotted dataclasses rather than pydantic models: the replay loop makes one of each
per log entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from replay.events import Key, SchedulerTransition

#: The role of an entry in its cascade.
STEP = "step"
NO_OP = "no-op"
DETOUR_INNER = "detour-inner"
DETOUR_OUTER = "detour-outer"


@dataclass(slots=True, eq=False)
class Recommendation:
    """A pending ``{key: state}``; ``event`` emitted it (None: the stimulus itself)."""

    key: Key
    state: str
    event: int | None
    #: the pending recommendation for the same key, to a different state, that this one replaced
    replaced: Recommendation | None = None


@dataclass(slots=True, eq=False)
class Step:
    """One log entry as replayed: what asked for it and what it did."""

    index: int
    transition: SchedulerTransition
    group: int
    cause: Recommendation | None
    requested: str | None
    role: str = STEP
    #: for the second half of a detour: the first half's own recommendation that overrode the request
    override: Recommendation | None = None
    #: recommendations this step pushed (for a detour's second half, only those of its own)
    emitted: list[Recommendation] = field(default_factory=list)
    #: pending recommendations that this step's recommendations replaced
    replaced: list[Recommendation] = field(default_factory=list)
    #: recommendations popped without an entry (already satisfied) right before this step
    silent: list[Recommendation] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return self.transition.key

    @property
    def stimulus_id(self) -> str | None:
        return self.transition.stimulus_id
