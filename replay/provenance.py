"""Cause chains: from a replayed step back to the recommendation that asked for it.

The machine reports *violations* (which rule, which key, which entry); this module names
each one's culprit recommendation, turns it into a :class:`Finding`, and puts the whole
run's answer in one immutable :class:`ReplayResult`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from replay.events import CanonicalKey, Key, Trace, TraceMetadata
from replay.keys import key_to_json
from replay.machine import MachineResult, Recommendation, Severity, Step, Violation, replay_entries
from replay.releases import Release, parse_release


class Overrode(BaseModel):
    """The earlier recommendation a culprit replaced."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    event: int | None
    state: str


class Culprit(BaseModel):
    """The recommendation that asked for the invalid state, and which entry emitted it."""

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
    """One reported problem; ``event`` is the entry that created the invalid state.

    ``key`` is None only when the log cannot tell which key (a dump's counter ahead of a
    log with nothing left pending).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    rule: str
    severity: Severity
    event: int | None
    key: CanonicalKey | None
    stimulus_id: str | None
    message: str
    culprit: Culprit | None = None
    missing: tuple[Missing, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape, keys as JSON values."""
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
            "key": None if self.key is None else key_to_json(self.key),
            "stimulus_id": self.stimulus_id,
            "message": self.message,
            "culprit": culprit,
            "missing": [{"key": key_to_json(m.key), "state": m.state} for m in self.missing],
        }


def explain(violations: Iterable[Violation]) -> list[Finding]:
    """Findings with their culprits, in the order the violations were found."""
    findings = []
    for violation in violations:
        if violation.recommendation is not None:
            recommendation = violation.recommendation
            culprit: Culprit | None = culprit_of_recommendation(recommendation, recommendation.key, recommendation.state)
        elif violation.step is not None:
            culprit = culprit_of(violation.step)
        else:
            culprit = None
        findings.append(
            Finding(
                rule=violation.rule.name,
                severity=violation.rule.severity,
                event=violation.event,
                key=violation.key,
                stimulus_id=violation.stimulus_id,
                message=violation.message,
                culprit=culprit,
                missing=tuple(Missing(key=key, state=state) for key, state in violation.missing),
            )
        )
    return findings


def culprit_of(step: Step) -> Culprit:
    """The recommendation that sent ``step``'s key where it went.

    For the second half of a detour whose first half overrode the request, that
    overriding recommendation is the culprit and the request is what it overrode.
    A recommendation that replaced a different pending one for the same key reports
    the replaced one as overridden. A stimulus root has no emitting entry.
    """
    key = step.key
    if step.override is not None:
        cause = step.cause
        overrode = Overrode(event=cause.event if cause else None, state=cause.state if cause else "?")
        return Culprit(event=step.override.event, key=key, state=step.override.state, overrode=overrode)
    return culprit_of_recommendation(step.cause, key, step.transition.finish)


def culprit_of_recommendation(recommendation: Recommendation | None, key: Key, fallback_state: str) -> Culprit:
    """A culprit from one pending recommendation (None: the stimulus root)."""
    if recommendation is None:
        return Culprit(event=None, key=key, state=fallback_state)
    replaced = recommendation.replaced
    overrode = Overrode(event=replaced.event, state=replaced.state) if replaced is not None else None
    return Culprit(event=recommendation.event, key=key, state=recommendation.state, overrode=overrode)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """Everything one replay found: what was replayed, the steps, the findings, the end state."""

    metadata: TraceMetadata
    notes: tuple[str, ...]
    release: Release | None
    #: the transition table checked against, in words
    table: str
    events: int
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...]
    final_states: Mapping[Key, str]
    #: the log holds the run from its start (every key's first entry starts from released)
    complete_log: bool
    #: where the dependencies came from: "dump" for a dump's task table, "inferred" from recommendations
    graph_source: str

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "warning")

    def source_json(self) -> dict[str, Any]:
        """What was replayed, as the JSON documents of ``run`` and ``diff`` give it."""
        metadata = self.metadata
        return {
            "path": metadata.path,
            "format": metadata.format,
            "distributed_version": metadata.distributed_version,
            "events": self.events,
        }

    def only(self, findings: Iterable[Finding]) -> ReplayResult:
        """The same result with only ``findings`` (a narrowed report)."""
        return replace(self, findings=tuple(findings))


def trace_release(trace: Trace, distributed_version: str | None = None) -> Release | None:
    """The release to replay ``trace`` as: the option wins, then what the trace says."""
    return parse_release(distributed_version) or parse_release(trace.metadata.distributed_version)


def replay_trace(trace: Trace, distributed_version: str | None = None, *, keep_steps: bool = True) -> ReplayResult:
    """Replay a whole trace and explain what it breaks."""
    release = trace_release(trace, distributed_version)
    machine: MachineResult = replay_entries(
        trace.iter_transitions(),
        release,
        trace.graph,
        transition_counter=trace.metadata.transition_counter,
        workers=trace.metadata.worker_addresses,
        keep_steps=keep_steps,
    )
    return ReplayResult(
        metadata=trace.metadata,
        notes=trace.notes,
        release=release,
        table=machine.table,
        events=machine.events,
        steps=machine.steps,
        findings=tuple(explain(machine.violations)),
        final_states=machine.final_states,
        complete_log=machine.complete_log,
        graph_source=machine.graph_source,
    )
