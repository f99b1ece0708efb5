"""``replay info``: what a trace holds, in one pass."""

from __future__ import annotations

from dataclasses import dataclass, field

from replay.events import Key, Trace


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


def summarise(trace: Trace) -> TraceSummary:
    """One pass over the entries (streams stay streams)."""
    summary = TraceSummary()
    keys = summary.keys
    stimuli = summary.stimuli
    for transition in trace.iter_transitions():
        summary.entries += 1
        keys.add(transition.key)
        stimuli.add(transition.stimulus_id)
        timestamp = transition.timestamp
        if timestamp is not None:
            if summary.first_time is None:
                summary.first_time = timestamp
            summary.last_time = timestamp
    summary.worker_records = len(trace.worker_records)
    summary.unrecognised_records = sum(1 for r in trace.worker_records if r.kind == "unrecognised")
    return summary
