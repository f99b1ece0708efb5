"""``replay run``, ``info``, ``convert``, ``rules`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli
from replay.ingest import open_trace
from replay.machine import RULES
from replay.render.theme import THEME
from tests.conftest import TRACES, check_golden

SEED = TRACES / "2024.2.1/seed"


def invoke(*args: str) -> tuple[int, str, str]:
    """Run a command with a fixed-width colourless console; exit code, stdout, stderr."""
    console = Console(width=100, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    runner = CliRunner()
    result = runner.invoke(cli, list(args), obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_report_golden_seed() -> None:
    code, out, err = invoke("run", str(SEED / "dump.msgpack.gz"))
    assert code == 1
    assert err == ""
    check_golden("run/seed-2024.2.1.txt", out.replace(str(TRACES), "traces"))


def test_run_report_golden_seed_validate() -> None:
    code, out, _ = invoke("run", str(TRACES / "2024.2.1/seed-validate/transition_log.msgpack"), "--distributed-version", "2024.2.1")
    assert code == 1
    check_golden("run/seed-validate-2024.2.1.txt", out.replace(str(TRACES), "traces"))


def test_run_clean_trace() -> None:
    code, out, _ = invoke("run", str(TRACES / "2024.3.0/seed/dump.yaml"))
    assert code == 0
    assert "✓ no findings" in out


def test_run_json_contract() -> None:
    code, out, _ = invoke("run", str(SEED / "story.txt"), "--json")
    assert code == 1
    document = json.loads(out)
    assert set(document) == {"source", "findings", "summary"}
    assert document["source"] == {"path": str(SEED / "story.txt"), "format": "story-text", "distributed_version": None, "events": 21}
    assert document["summary"] == {"errors": 3, "warnings": 1}
    invalid = document["findings"][1]
    assert invalid == {
        "rule": "dependency-erred-or-forgotten",
        "severity": "error",
        "event": 18,
        "key": "g",
        "stimulus_id": "remove_b2",
        "message": "g is waiting while its dependency f is erred",
        "culprit": {"event": 17, "key": "g", "state": "waiting", "overrode": {"event": 16, "state": "erred"}},
        "missing": [],
    }


def test_run_key_filter_and_tuple_keys_in_json() -> None:
    code, out, _ = invoke("run", str(SEED / "dump.yaml"), "--json", "--key", "ha")
    assert code == 1
    assert [f["key"] for f in json.loads(out)["findings"]] == ["ha"]
    code, out, _ = invoke("run", str(TRACES / "2026.8.0/mapreduce/dump.msgpack.gz"), "--json")
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_info() -> None:
    code, out, _ = invoke("info", str(SEED / "dump.msgpack.gz"))
    assert code == 0
    lines = dict(line.split(None, 1) if " " in line else (line, "") for line in out.splitlines())
    assert "dump-msgpack" in out and "2024.2.1" in out
    assert "entries             21" in out
    assert "keys                4" in out
    assert "graph               4 tasks from the dump's task table" in out
    assert lines


@pytest.mark.parametrize("kind", ["jsonl", "json", "msgpack"])
@pytest.mark.parametrize("source", ["2024.2.1/seed/dump.msgpack.gz", "2026.8.0/mapreduce/dump.yaml"])
def test_convert_round_trip_is_lossless(kind: str, source: str, tmp_path: Path) -> None:
    output = tmp_path / f"out.{kind}"
    code, _, err = invoke("convert", str(TRACES / source), "--to", kind, "-o", str(output))
    assert code == 0, err
    original = open_trace(TRACES / source, worker_logs=True)
    converted = open_trace(output, worker_logs=True)  # worker records are read only when asked
    assert converted.metadata.format == f"replay-{kind}"
    assert converted.materialise() == original.materialise()
    assert converted.graph == original.graph
    assert converted.worker_records == original.worker_records
    assert converted.metadata.distributed_version == original.metadata.distributed_version


def test_converted_dump_replays_with_the_dump_checks(tmp_path: Path) -> None:
    source = TRACES / "2024.2.1/seed-validate/dump.msgpack.gz"
    output = tmp_path / "seed-validate.jsonl"
    assert invoke("convert", str(source), "--to", "jsonl", "-o", str(output))[0] == 0
    rules = [[f["rule"] for f in json.loads(invoke("run", str(path), "--json")[1])["findings"]] for path in (source, output)]
    assert rules[0] == rules[1]
    assert "counter-ahead" in rules[1]


def test_rules_lists_every_rule_with_its_releases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = invoke("rules")
    assert code == 0
    assert out.splitlines()[0] == "dependency-erred-or-forgotten  error · scheduler · every release · checked when the cascade ends, if"
    assert "waiting-on-erred  error · scheduler · 2022.12.0 and later · checked at the transition" in out
    assert "worker-secede-lost  error · worker · every release · checked at each stimulus" in out
    assert "processing-stuck-on-worker  error · cluster ·" in out
    assert all(len(line) <= 100 for line in out.splitlines())
    catalogue = json.loads(invoke("rules", "--json")[1])
    assert [rule["name"] for rule in catalogue if rule["machine"] == "scheduler"] == list(RULES)
    assert len({rule["name"] for rule in catalogue}) == len(catalogue)
    erred = next(rule for rule in catalogue if rule["name"] == "waiting-on-erred")
    assert erred["machine"] == "scheduler"
    assert erred["assertions"] == [{"releases": "2022.12.0 and later", "where": "_transition_released_waiting",
                                    "code": "assert dts.state not in {'forgotten', 'erred'}", "at_cascade_end": False}]


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replay", *args], capture_output=True, text=True, timeout=60, check=False)


def test_bad_input_is_one_line_and_exit_3(tmp_path: Path) -> None:
    bad = tmp_path / "broken.msgpack"
    bad.write_bytes(b"\x93\xa1x")  # an array of 3 that ends after one string
    result = _main("run", str(bad))
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"replay: error: {bad}: ")
    assert "Traceback" not in result.stderr


def test_usage_error_is_exit_2() -> None:
    result = _main("run")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr


def test_process_output_arrives_whole_before_its_fast_exit() -> None:
    """The console entry ends with ``os._exit`` (no teardown): what it printed must be flushed first."""
    result = _main("run", "--json", str(SEED / "dump.msgpack.gz"))
    assert result.returncode == 1
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document["source"]["events"] == 21
    assert [finding["rule"] for finding in document["findings"]][:1] == ["detour-override"]
    report = _main("run", str(SEED / "dump.msgpack.gz"), "--width", "100")
    assert report.returncode == 1
    check_golden("run/seed-2024.2.1.txt", report.stdout.replace(str(TRACES), "traces"))
