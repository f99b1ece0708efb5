"""``replay diff`` through the command line: golden views, the JSON contract, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli
from replay.render.theme import THEME
from tests.conftest import ROOT, check_golden
from tests.test_diff import BUGGY, FIXED, MAPREDUCE, MAPREDUCE_AGAIN, truncated_copy


@pytest.fixture(autouse=True)
def in_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are given relative to the checkout, so the views do not depend on where it is."""
    monkeypatch.chdir(ROOT)


def relative(path: str | Path) -> str:
    return str(Path(path).relative_to(ROOT)) if Path(path).is_absolute() and ROOT in Path(path).parents else str(path)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    """Run ``replay diff`` with a fixed-width colourless console; exit code, stdout, stderr."""
    console = Console(width=100, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    arguments = ["diff", *map(relative, args)]
    result = CliRunner().invoke(cli, arguments, obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_seed_view_golden() -> None:
    code, out, err = invoke(BUGGY / "dump.msgpack.gz", FIXED / "dump.msgpack.gz")
    assert (code, err) == (1, "")
    assert "✗ diverge at A[16] / B[16], stimulus remove_b2" in out
    assert "  A [16] f processing → erred  recommends {g: erred}\n  B [16] f processing → erred  recommends {}" in out
    check_golden("diff/seed-2024.2.1-vs-2024.3.0.txt", out)


def test_mapreduce_view_golden() -> None:
    code, out, _ = invoke(MAPREDUCE / "dump.msgpack.gz", MAPREDUCE_AGAIN / "dump.msgpack.gz", "--limit", "20")
    assert code == 0
    assert "✓ equivalent up to scheduling order" in out
    check_golden("diff/mapreduce-2026.8.0-two-captures.txt", out)


def test_truncated_view_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    truncated_copy(BUGGY / "transition_log.msgpack", 9, tmp_path)
    shutil.copy(BUGGY / "transition_log.msgpack", tmp_path / "full.msgpack")
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("full.msgpack", "last-9.msgpack")
    assert code == 0
    assert "✓ truncated: B is A without its first 12 entries; the 9 entries they share are identical" in out
    check_golden("diff/seed-truncated.txt", out)


def test_json_contract() -> None:
    code, out, _ = invoke(BUGGY / "story.txt", FIXED / "transition_log.msgpack", "--json")
    assert code == 1
    document = json.loads(out)
    assert set(document) == {
        "first_divergence",
        "verdict",
        "equivalent",
        "truncation",
        "keys",
        "findings",
        "sources",
        "summary",
    }
    assert document["first_divergence"] == {
        "a_event": 16,
        "b_event": 16,
        "stimulus": "remove_b2",
        "a": {
            "event": 16,
            "key": "f",
            "start": "processing",
            "finish": "erred",
            "recommendations": [["g", "erred"]],
            "stimulus_id": "remove_b2",
            "timestamp": document["first_divergence"]["a"]["timestamp"],
        },
        "b": {
            "event": 16,
            "key": "f",
            "start": "processing",
            "finish": "erred",
            "recommendations": [],
            "stimulus_id": "remove_b2",
            "timestamp": document["first_divergence"]["b"]["timestamp"],
        },
    }
    assert isinstance(document["first_divergence"]["a"]["timestamp"], float)
    g = next(item for item in document["keys"] if item["key"] == "g")
    assert g == {
        "key": "g",
        "a_path": ["released", "waiting", "processing", "memory", "released", "waiting"],
        "b_path": ["released", "waiting", "processing", "memory", "released", "forgotten"],
        "common": 5,
        "a_final": "waiting",
        "b_final": "forgotten",
    }
    assert [(item["rule"], item["key"], item["event"]) for item in document["findings"]["a_only"]] == [
        ("detour-override", "g", 17),
        ("dependency-erred-or-forgotten", "g", 18),
        ("deadlock", "g", 18),
        ("deadlock", "ha", 20),
    ]
    assert document["findings"]["b_only"] == []
    assert document["summary"] == {"equal": 16, "changed": 1, "a_only": 4, "b_only": 8, "keys": 4}
    assert document["sources"]["a"]["format"] == "story-text"


def test_json_tuple_keys_and_equivalence() -> None:
    code, out, _ = invoke(MAPREDUCE / "transition_log.msgpack", MAPREDUCE / "dump.yaml", "--json")
    assert code == 0
    document = json.loads(out)
    assert (document["verdict"], document["first_divergence"], document["keys"]) == ("identical", None, [])
    code, out, _ = invoke(MAPREDUCE / "dump.msgpack.gz", MAPREDUCE_AGAIN / "dump.msgpack.gz", "--json", "--strict")
    assert code == 1
    first = json.loads(out)["first_divergence"]
    assert (first["a_event"], first["b_event"], first["stimulus"]) == (None, 56, "update-graph-*")
    assert first["b"]["key"] == ["reduce", 0, 2]


def test_summary_line() -> None:
    code, out, _ = invoke(FIXED / "dump.yaml", FIXED / "client_story.msgpack", "--summary")
    assert (code, out) == (0, "identical after normalisation: 25 entries\n")


def test_unreadable_input_exits_3(tmp_path: Path) -> None:
    broken = tmp_path / "broken.msgpack"
    broken.write_bytes(b"\xc1 not msgpack")
    process = subprocess.run(
        [sys.executable, "-m", "replay", "diff", str(BUGGY / "dump.yaml"), str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 3
    assert process.stdout == ""
    assert process.stderr.startswith("replay: error:") and process.stderr.count("\n") == 1


def test_missing_argument_is_a_usage_error() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "replay", "diff", str(BUGGY / "dump.yaml")], capture_output=True, text=True, check=False
    )
    assert process.returncode == 2


def test_a_difference_in_the_first_rows_shows_only_its_own_context() -> None:
    """Context before a difference near the top stops at row 0; it never wraps to the table's end."""
    from dataclasses import replace

    from replay.diff import AlignedRow, diff_traces
    from replay.ingest import open_trace
    from replay.render.diff import CONTEXT, SideBySideView

    diff = diff_traces(open_trace(BUGGY / "transition_log.msgpack"), open_trace(FIXED / "transition_log.msgpack"))
    rows = (AlignedRow("changed", 0, 0), *(AlignedRow("equal", n, n) for n in range(1, 20)))
    view = SideBySideView(replace(diff, rows=rows, first_divergence=rows[0]))
    assert list(view._shown()) == [(0, CONTEXT + 1)]
