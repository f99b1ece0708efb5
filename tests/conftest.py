"""Shared fixtures: where the committed real traces are, and a colourless console."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from replay.cli import main

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "traces"
GOLDEN = Path(__file__).resolve().parent / "golden"

#: Runs too large for every test to read: the benchmark's traces (a test that wants one names it).
LARGE_RUNS = frozenset({"benchmark-large", "large-table"})

#: Files in a trace directory that describe the run rather than hold it.
NOT_TRACES = frozenset({"meta.json", "expected.json", "README.md"})

#: Every input form the capture script writes for one run.
FORMS = ("transition_log.msgpack", "dump.msgpack.gz", "dump.yaml", "story.txt", "story_pprint.txt", "client_story.msgpack")


def trace_files(*, include_large: bool = False) -> list[Path]:
    """Every committed trace file (not meta.json), small ones only unless asked."""
    files = []
    for path in sorted(TRACES.glob("*/*/*")):
        if path.name in NOT_TRACES or path.is_dir():
            continue
        if not include_large and path.parent.name in LARGE_RUNS:
            continue
        files.append(path)
    return files


def forms_of(directory: Path) -> list[Path]:
    """The input forms present for one captured run."""
    return [directory / name for name in FORMS if (directory / name).exists()]


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; REPLAY_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("REPLAY_UPDATE_GOLDEN") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if os.environ.get("REPLAY_UPDATE_GOLDEN") != "1":
            pytest.fail(f"golden file {name} was missing and has been written; rerun")
    assert text == path.read_text(), f"output differs from tests/golden/{name} (REPLAY_UPDATE_GOLDEN=1 to accept)"


def run_main(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    """The real entry point (error mapping included): exit code, stdout, stderr."""
    runner = CliRunner()
    with runner.isolation(env=env) as (stdout, stderr, _):
        try:
            main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        else:  # pragma: no cover - main always exits
            code = -1
        return code, stdout.getvalue().decode(), stderr.getvalue().decode()
