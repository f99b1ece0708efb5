"""The benchmark script runs end to end in smoke mode (no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_benchmark_smoke_prints_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--repeat", "1"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for label in (
        "replay run --json (dump)",
        "replay run --json (bare log)",
        "floor: gunzip + msgpack.unpackb (bare log)",
        "streamed log peak RSS",
        "streamed log throughput",
        "time growth for 2x entries",
    ):
        assert label in out, label
    assert "exit 3" not in out and "exit 2" not in out
