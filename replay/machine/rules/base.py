"""What the replay reports: findings, their culprit recommendations, and the rule catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from replay.events import CanonicalKey
from replay.ingest.keys import key_to_json

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named invariant or check, listed by ``replay rules``."""

    name: str
    severity: Severity
    description: str


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("dependency-erred-or-forgotten", "error",
             "a task in waiting, queued, processing or no-worker has an erred or forgotten dependency"),
        Rule("dependency-not-in-memory", "error",
             "a task in processing or queued has a dependency that is not in memory"),
        Rule("dependency-forgotten-while-needed", "error",
             "a task is forgotten while a dependent still waits for, queues on or processes with it"),
        Rule("detour-override", "warning",
             "an implicit detour through released went where its own recommendation said, "
             "not where it was asked to go"),
        Rule("deadlock", "error",
             "at the end of the trace a task waits on a dependency that can never finish"),
        Rule("continuity", "error",
             "a transition starts from a state other than the one the task was in"),
        Rule("illegal-transition", "error",
             "a transition is neither a table edge of the release, nor a detour half, nor a no-op"),
        Rule("unknown-state", "warning", "a state name that no release of distributed uses"),
        Rule("unfinished-cascade", "error",
             "recommendations were left pending or a detour was left half done: a transition "
             "raised and was never logged"),
        Rule("counter-ahead", "error",
             "the dump's transition_counter is ahead of its complete log: transitions raised"),
        Rule("dump-final-state", "error",
             "the dump's task table disagrees with the replayed final state, or breaks an invariant"),
    )
}  # fmt: skip


class Overrode(BaseModel):
    """The earlier recommendation a culprit replaced."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event: int | None
    state: str


class Culprit(BaseModel):
    """The recommendation that asked for the invalid state, and whom it emitted."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event: int | None
    key: CanonicalKey
    state: str
    overrode: Overrode | None = None


class Missing(BaseModel):
    """A recommendation the scheduler should have made and did not."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key: CanonicalKey
    state: str


class Finding(BaseModel):
    """One reported problem; ``event`` is the entry that created the invalid state."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    rule: str
    severity: Severity
    event: int | None
    key: CanonicalKey
    stimulus_id: str | None
    message: str
    culprit: Culprit | None = None
    missing: tuple[Missing, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md §5 shape, keys as JSON values."""
        culprit = None
        if self.culprit is not None:
            culprit = {
                "event": self.culprit.event,
                "key": key_to_json(self.culprit.key),
                "state": self.culprit.state,
                "overrode": None
                if self.culprit.overrode is None
                else {"event": self.culprit.overrode.event, "state": self.culprit.overrode.state},
            }
        return {
            "rule": self.rule,
            "severity": self.severity,
            "event": self.event,
            "key": key_to_json(self.key),
            "stimulus_id": self.stimulus_id,
            "message": self.message,
            "culprit": culprit,
            "missing": [{"key": key_to_json(m.key), "state": m.state} for m in self.missing],
        }
