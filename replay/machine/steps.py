"""The replay's internal records: pending recommendations and replayed steps.

Slotted dataclasses rather than pydantic models: the replay loop makes one of each
per log entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


class Step:
    """One log entry as replayed: what asked for it and what it did.

    A plain slotted class, not a dataclass: one is made per log entry, and the three
    lists (emitted, replaced, silent) are made only when something goes in them
    (most steps have none; ``replay run --json`` keeps none of them).
    """

    __slots__ = ("_emitted", "_replaced", "_silent", "cause", "group", "index", "key", "override", "requested",
                 "role", "transition")  # fmt: skip

    def __init__(
        self,
        index: int,
        transition: SchedulerTransition,
        group: int,
        cause: Recommendation | None,
        requested: str | None,
        role: str = STEP,
        override: Recommendation | None = None,
        silent: list[Recommendation] | None = None,
    ) -> None:
        self.index = index
        self.transition = transition
        self.key: Key = transition[0]
        self.group = group
        self.cause = cause
        self.requested = requested
        self.role = role
        #: for the second half of a detour: the first half's own recommendation that overrode the request
        self.override = override
        self._emitted: list[Recommendation] | None = None
        self._replaced: list[Recommendation] | None = None
        self._silent = silent or None

    def __repr__(self) -> str:
        return f"Step({self.index}, {self.transition!r}, role={self.role!r}, requested={self.requested!r})"

    @property
    def stimulus_id(self) -> str | None:
        return self.transition.stimulus_id

    @property
    def emitted(self) -> Sequence[Recommendation]:
        """Recommendations this step pushed (for a detour's second half, only those of its own)."""
        return self._emitted or []

    @property
    def replaced(self) -> Sequence[Recommendation]:
        """Pending recommendations that this step's recommendations replaced."""
        return self._replaced or []

    @property
    def silent(self) -> Sequence[Recommendation]:
        """Recommendations popped without an entry (already satisfied) right before this step."""
        return self._silent or []

    def add_emitted(self, recommendation: Recommendation) -> None:
        if self._emitted is None:
            self._emitted = [recommendation]
        else:
            self._emitted.append(recommendation)

    def add_replaced(self, recommendation: Recommendation) -> None:
        if self._replaced is None:
            self._replaced = [recommendation]
        else:
            self._replaced.append(recommendation)
