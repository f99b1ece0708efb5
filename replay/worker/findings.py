"""What the worker-side checks report: a finding about one machine (a worker, or the scheduler).

The same fields as a scheduler finding (see :class:`replay.provenance.Finding`), plus the
machine it is about and the index of the stimulus (in that worker's ``stimulus_log``) that
led to it. ``event`` is the index of the entry in that worker's ``log``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from replay.events import CanonicalKey
from replay.keys import key_to_json
from replay.machine.rules.base import Severity


class WorkerFinding(BaseModel):
    """One problem on one machine."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    rule: str
    severity: Severity
    #: ``"scheduler"`` or the worker's address
    machine: str
    #: the entry of that machine's log where it shows (None: no entry shows it)
    event: int | None
    #: the stimulus of the worker's ``stimulus_log`` that led to it (None: unknown or the scheduler)
    stimulus_index: int | None
    key: CanonicalKey | None
    stimulus_id: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape: a scheduler finding's fields plus machine and stimulus_index."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "event": self.event,
            "key": None if self.key is None else key_to_json(self.key),
            "stimulus_id": self.stimulus_id,
            "message": self.message,
            "culprit": None,
            "missing": [],
            "machine": self.machine,
            "stimulus_index": self.stimulus_index,
        }
