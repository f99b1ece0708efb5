"""What the worker-side checks report: a finding about one machine (a worker, or the scheduler).

A scheduler finding (:class:`replay.provenance.Finding`) plus the machine it is about and the
index of the stimulus (in that worker's ``stimulus_log``) that led to it. ``event`` is the index of the entry in that worker's ``log``.
"""

from __future__ import annotations

from typing import Any

from replay.provenance import Finding


class WorkerFinding(Finding):
    """One problem on one machine (a worker finding never has a culprit or missing recommendations)."""

    #: ``"scheduler"`` or the worker's address
    machine: str
    #: the stimulus of the worker's ``stimulus_log`` that led to it (None: unknown or the scheduler)
    stimulus_index: int | None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape: a scheduler finding's fields plus machine and stimulus_index."""
        return {**super().to_json(), "machine": self.machine, "stimulus_index": self.stimulus_index}
