"""The instrumented model of the scheduler's task state machine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from replay.events import Trace
from replay.ingest.records import paused_gc
from replay.machine.findings import RULES, Finding, Rule
from replay.machine.replayer import Replayer
from replay.machine.steps import Recommendation, Step
from replay.machine.tables import TABLES, TransitionTable, table_for
from replay.releases import Release, parse_release

__all__ = ["RULES", "TABLES", "Finding", "Recommendation", "ReplayResult", "Rule", "Step", "TransitionTable", "replay_trace", "table_for"]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """Everything one replay found."""

    trace: Trace
    release: Release | None
    replayer: Replayer
    findings: tuple[Finding, ...]

    @property
    def events(self) -> int:
        return self.replayer.count

    @property
    def steps(self) -> list[Step]:
        return self.replayer.steps or []

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "warning")

    def source_json(self) -> dict[str, Any]:
        """What was replayed, as the JSON documents of ``run`` and ``diff`` give it."""
        metadata = self.trace.metadata
        return {
            "path": metadata.path,
            "format": metadata.format,
            "distributed_version": metadata.distributed_version,
            "events": self.events,
        }


def trace_release(trace: Trace, distributed_version: str | None = None) -> Release | None:
    """The release to replay ``trace`` as: the option wins, then what the trace says."""
    return parse_release(distributed_version) or parse_release(trace.metadata.distributed_version)


def replay_trace(trace: Trace, distributed_version: str | None = None, *, keep_steps: bool = True) -> ReplayResult:
    """Replay a whole trace and explain what it breaks."""
    from replay.provenance import explain  # provenance builds on the machine, not the reverse

    release = trace_release(trace, distributed_version)
    replayer = Replayer(release, trace.graph, keep_steps=keep_steps)
    # The replay allocates a few acyclic objects per entry and frees them by reference
    # counting; the cyclic collector's passes over the growing heap only cost time.
    with paused_gc():
        replayer.run(trace.iter_transitions())
        # A dump's task table and counter, wherever they were read from (a dump or its export).
        dump_table = trace.graph if trace.graph is not None and trace.graph.source == "dump" else None
        replayer.check_dump(dump_table, trace.metadata.transition_counter)
        findings = tuple(explain(replayer.violations))
    return ReplayResult(trace=trace, release=release, replayer=replayer, findings=findings)
