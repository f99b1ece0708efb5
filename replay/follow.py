"""Follow a live recording: replay it as it grows, and hand out each finding once it is settled.

A finding is settled when its cascade has ended: when the next stimulus starts, or when the
recording has been quiet for a while (the recorder writes only between the scheduler's
handlers, and a handler runs its cascade to the end, so a quiet recording holds whole
cascades). The command line polls :meth:`Follower.poll` and prints what it returns.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from replay.ingest.recording import RecordingTail
from replay.machine import Replayer, Step
from replay.provenance import Finding, explain
from replay.releases import Release

#: Seconds without a new entry after which the cascade being fed counts as ended.
QUIET_AFTER = 0.5
#: Steps kept for the views of a long follow: past this many, the oldest half is dropped.
MAX_STEPS = 400_000


class Follower:
    """A replay of a recording that is still being written."""

    def __init__(self, tail: RecordingTail, release: Release | None, *, quiet_after: float = QUIET_AFTER) -> None:
        self.tail = tail
        self.quiet_after = quiet_after
        # steps are kept: a finding's cascade is shown with it
        self.replayer = Replayer(release, None)
        #: violations already handed out
        self.handed_out = 0
        self.quiet_since: float | None = None

    @property
    def table(self) -> str:
        """The transition table checked against, in words."""
        table = self.replayer.world.table
        return table.label if table is not None else "any release's table"

    @property
    def events(self) -> int:
        return self.replayer.count

    @property
    def steps(self) -> Sequence[Step]:
        """The steps kept so far (the newest, on a long follow)."""
        return self.replayer.steps or ()

    def poll(self) -> tuple[list[Finding], bool]:
        """Feed what the recording gained; the findings settled since the last call, and whether
        anything was read."""
        batch = self.tail.poll()
        replayer = self.replayer
        if batch:
            replayer.feed_all(batch)
            self.quiet_since = None
        elif self.quiet_since is None:
            self.quiet_since = time.monotonic()
        quiet = self.quiet_since is not None and time.monotonic() - self.quiet_since >= self.quiet_after
        ready = len(replayer.violations) if quiet and replayer.settle() else replayer.settled(self.handed_out)
        findings = self._hand_out(ready)
        steps = replayer.steps
        if steps is not None and len(steps) > MAX_STEPS:
            del steps[: MAX_STEPS // 2]
        return findings, bool(batch)

    def finish(self) -> list[Finding]:
        """The recording ended (or the user stopped): the end-of-trace checks, and what is left."""
        replayer = self.replayer
        replayer.finish()
        replayer.check_dump(self.tail.metadata().transition_counter if self.tail.done else None)
        return self._hand_out(len(replayer.violations))

    def _hand_out(self, ready: int) -> list[Finding]:
        if ready <= self.handed_out:
            return []
        violations = self.replayer.violations[self.handed_out : ready]
        self.handed_out = ready
        return explain(violations)
