"""``replay info``: what a trace holds, in one pass."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter

from replay.events import Key, SchedulerTransition, Trace
from replay.ingest import WorkerRecordCounts


@dataclass(slots=True)
class TraceSummary:
    """Counts and spans of one trace."""

    entries: int = 0
    keys: set[Key] = field(default_factory=set)
    stimuli: set[str | None] = field(default_factory=set)
    first_time: float | None = None
    last_time: float | None = None
    worker_records: int = 0
    unrecognised_records: int = 0

    @property
    def span_seconds(self) -> float | None:
        if self.first_time is None or self.last_time is None:
            return None
        return self.last_time - self.first_time


_timestamp = itemgetter(5)


def _known(timestamp: float | None) -> bool:
    return timestamp is not None


def _one_pass(summary: TraceSummary, transitions: Iterable[SchedulerTransition]) -> None:
    keys = summary.keys
    stimuli = summary.stimuli
    entries = 0
    first_time = last_time = None
    for key, _, _, _, stimulus_id, timestamp in transitions:
        entries += 1
        keys.add(key)
        stimuli.add(stimulus_id)
        if timestamp is not None:
            if first_time is None:
                first_time = timestamp
            last_time = timestamp
    summary.entries = entries
    summary.first_time = first_time
    summary.last_time = last_time


def summarise(trace: Trace, workers: WorkerRecordCounts | None = None) -> TraceSummary:
    """One pass over the entries (streams stay streams). ``workers``: the worker records
    counted while reading (else the trace's own records are counted)."""
    summary = TraceSummary()
    transitions = trace.transitions
    if isinstance(transitions, tuple):  # held: a few passes in C
        summary.entries = len(transitions)
        summary.keys = set(map(itemgetter(0), transitions))
        summary.stimuli = set(map(itemgetter(4), transitions))
        summary.first_time = next(filter(_known, map(_timestamp, transitions)), None)
        summary.last_time = next(filter(_known, map(_timestamp, reversed(transitions))), None)
    else:
        _one_pass(summary, trace.iter_transitions())
    if workers is None:
        workers = WorkerRecordCounts(
            len(trace.worker_records), sum(1 for r in trace.worker_records if r.kind == "unrecognised")
        )
    summary.worker_records = workers.total
    summary.unrecognised_records = workers.unrecognised
    return summary
