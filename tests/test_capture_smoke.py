"""One small real capture on the installed ``distributed`` (the newest, in CI), then replayed.

Skipped where ``distributed`` is not installed; ``.ci/run`` installs the newest release,
so in CI the capture path runs on every change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from replay.ingest import open_trace
from replay.provenance import replay_trace
from tests.conftest import ROOT

pytest.importorskip("distributed")


@pytest.mark.parametrize("scenario", ["seed", "task-raises"])
def test_capture_and_replay_on_installed_distributed(scenario: str, tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "replay.capture", scenario, "--out", str(tmp_path), "--timeout", "90"],
        check=True, env=environment, timeout=180, capture_output=True,
    )  # fmt: skip
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["entries"] > 0
    forms = [tmp_path / "transition_log.msgpack", tmp_path / "dump.msgpack.gz", tmp_path / "dump.yaml"]
    reference = open_trace(forms[0]).materialise()
    assert len(reference) == meta["entries"]
    for form in forms[1:]:
        assert open_trace(form).materialise() == reference
    result = replay_trace(open_trace(forms[1]))
    assert result.errors == 0, [finding.message for finding in result.findings]
