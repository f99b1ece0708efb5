"""``replay scan``: every trace replayed as ``replay run`` replays it, findings grouped by signature.

Also the speed work that came with it: the dump reader's task table and TaskState reprs, and
the optional ISA-L inflater, each checked to give what the plain path gives.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from rich.console import Console

from replay.cli import App, cli, main
from replay.diff import Normaliser
from replay.events import SchedulerTransition
from replay.ingest import DEFAULT_LIMITS, msgpack_reader, open_trace
from replay.ingest.dump import _Reprs
from replay.ingest.keys import key_from_taskstate
from replay.render.scan import ScanView, markdown, scan_progress
from replay.render.theme import THEME
from replay.scan import (
    FileScan,
    ScanRun,
    ScanSettings,
    Source,
    expand,
    replay_command,
    report,
    scan_sources,
    shell_word,
)
from tests.conftest import LARGE_RUNS, ROOT, TRACES

SEED = TRACES / "2024.2.1/seed"
HOSTILE = ROOT / "tests/hostile/corpus"
#: Scanned in every "however it runs" comparison: bugs of several releases, clean traces,
#: files that are not traces (meta.json, expected.json), a glob and a path that does not exist.
MIXED = ("traces/2024.2.1", "traces/2022.12.0/bug-7354-retry", "traces/2026.8.0/bug-7354-retry",
         "traces/2024.6.0/*/dump.yaml", "traces/2026.8.0/mapreduce", "no/such/trace.msgpack")  # fmt: skip

#: The documented ``replay scan --json`` document (docs/scan.md), strictly.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["files", "groups", "summary"],
    "properties": {
        "files": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["path", "format", "events", "errors", "warnings", "unreadable"],
            "properties": {
                "path": {"type": "string"},
                "format": {"type": ["string", "null"]},
                "events": {"type": ["integer", "null"], "minimum": 0},
                "errors": {"type": "integer", "minimum": 0},
                "warnings": {"type": "integer", "minimum": 0},
                "unreadable": {"type": ["string", "null"]},
            },
        }},
        "groups": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["signature", "rule", "count", "releases", "example", "command"],
            "properties": {
                "signature": {"type": "string"},
                "rule": {"type": "string"},
                "count": {"type": "integer", "minimum": 1},
                "releases": {"type": "array", "items": {"type": ["string", "null"]}, "minItems": 1},
                "example": {"type": "string"},
                "command": {"type": "string", "pattern": "replay run "},
            },
        }},
        "summary": {
            "type": "object", "additionalProperties": False,
            "required": ["files", "with_errors", "unreadable"],
            "properties": {name: {"type": "integer", "minimum": 0} for name in ("files", "with_errors", "unreadable")},
        },
    },
}  # fmt: skip


def scan_cli(*args: str, cwd: Path = ROOT) -> tuple[int, str, str]:
    """``python -m replay scan ARGS`` in its own process (the scan forks its workers)."""
    done = subprocess.run([sys.executable, "-m", "replay", "scan", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "REPLAY_DEBUG": ""}, check=False, timeout=600)  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def scan_json(*args: str) -> dict[str, Any]:
    code, out, err = scan_cli(*args, "--json")
    assert code in (0, 1, 3), err
    document: dict[str, Any] = json.loads(out)
    Draft202012Validator(SCHEMA).validate(document)
    return document


def run_json(path: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    """``replay run PATH --json`` in this process: its exit code and document (or its error line)."""
    with pytest.raises(SystemExit) as exit_:
        main(["run", path, "--json"])
    captured = capsys.readouterr()
    code = int(exit_.value.code or 0)
    return code, json.loads(captured.out) if code in (0, 1) else captured.err.strip()


# --------------------------------------------------------------------------- agreement with run

#: ``replay run PATH --json`` for each path given, in one process of its own (a large trace
#: replayed in the test process would raise its peak RSS, which Linux hands on to every later
#: child: the hostile corpus's memory bounds would then measure this test).
RUNS_CODE = """
import contextlib, io, json, sys
from replay.cli import main
for path in sys.argv[1:]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["run", path, "--json"])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    print(json.dumps([path, code, json.loads(out.getvalue()) if code in (0, 1) else err.getvalue().strip()]))
"""


def runs_json(paths: list[str]) -> dict[str, tuple[int, Any]]:
    done = subprocess.run([sys.executable, "-c", RUNS_CODE, *paths], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=900, env={**os.environ, "REPLAY_DEBUG": ""})  # fmt: skip
    return {path: (code, ran) for path, code, ran in map(json.loads, done.stdout.splitlines())}


def test_every_committed_trace_agrees_with_run() -> None:
    """The whole traces/ directory: one row per file, the error count of `replay run --json`, or its exit-3 reason."""
    document = scan_json("traces")
    rows = {row["path"]: row for row in document["files"]}
    on_disk = sorted(str(path.relative_to(ROOT)) for path in TRACES.rglob("*") if path.is_file())
    assert sorted(rows) == on_disk
    ran_all = runs_json(on_disk)
    for path in on_disk:
        code, ran = ran_all[path]
        row = rows[path]
        if code == 3:
            assert row["unreadable"] is not None and ran == f"replay: error: {path}: {row['unreadable']}", path
            continue
        assert row["unreadable"] is None, path
        assert (row["errors"], row["warnings"]) == (ran["summary"]["errors"], ran["summary"]["warnings"]), path
        assert (row["format"], row["events"]) == (ran["source"]["format"], ran["source"]["events"]), path
        assert code == (1 if row["errors"] else 0)
    summary = document["summary"]
    assert summary == {"files": len(on_disk), "with_errors": sum(1 for row in rows.values() if row["errors"]),
                       "unreadable": sum(1 for row in rows.values() if row["unreadable"])}  # fmt: skip
    # the seed bug's six forms: one group, shown by its smallest form
    seed = [group for group in document["groups"] if Path(group["example"]).parent == SEED.relative_to(ROOT)]
    assert [(group["rule"], group["count"]) for group in seed] == [("dependency-erred-or-forgotten", 6)]


def test_the_seed_bug_in_every_form_is_one_group(capsys: pytest.CaptureFixture[str]) -> None:
    document = scan_json(str(SEED.relative_to(ROOT)))
    forms = [row["path"] for row in document["files"] if row["unreadable"] is None]
    assert len(forms) == 6 and all(row["errors"] for row in document["files"] if row["unreadable"] is None)
    (group,) = document["groups"]
    assert group["rule"] == "dependency-erred-or-forgotten"
    assert group["count"] == 6
    assert group["releases"] == ["2024.2.1", None]  # the dumps say it; the bare log, stories and client story do not
    assert group["example"] == "traces/2024.2.1/seed/transition_log.msgpack"  # 21 entries, the fewest bytes
    assert group["signature"] == (
        "dependency-erred-or-forgotten g: f processing→erred ⇒ g: erred; g memory→released ⇒ g: waiting "
        "replacing erred; g released→waiting [remove_b2]"
    )
    assert group["command"] == "replay run traces/2024.2.1/seed/transition_log.msgpack --key g"
    # the command shows it
    runner = CliRunner()
    console = Console(width=100, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    shown = runner.invoke(cli, group["command"].split()[1:], obj=App(console=console))
    assert shown.exit_code == 1
    assert "dependency-erred-or-forgotten" in shown.stdout and "g: waiting emitted by [17]" in shown.stdout


def test_a_bug_still_there_on_a_later_release_is_one_group_with_both_releases() -> None:
    """dask/distributed#7354's regression, captured on 2022.12.0 and still there on 2026.8.0."""
    document = scan_json("traces/2022.12.0/bug-7354-retry", "traces/2026.8.0/bug-7354-retry")
    (group,) = document["groups"]
    assert group["releases"] == ["2022.12.0", "2026.8.0"]
    assert group["count"] == 4  # the two dumps of each: the bare logs hold no finding
    assert "[stimulus-retry-*]" in group["signature"]  # the stimulus's number normalised away


# --------------------------------------------------------------------------- however it runs


def test_rows_come_back_in_the_order_given() -> None:
    """Largest first for the work, the order given for the answer (in a process of its own: the pool forks)."""
    code = (
        "import sys; from replay.scan import ScanRun, ScanSettings, expand, scan_sources; from replay.ingest import DEFAULT_LIMITS; "
        "sources = expand(sys.argv[1:]); "
        "rows = scan_sources(sources, ScanSettings.of(DEFAULT_LIMITS), ScanRun(workers=2)); "
        "print([row.path for row in rows] == [source.path for source in sources], len(rows))"
    )
    paths = [str(TRACES / "2026.8.0/mapreduce"), str(SEED / "story.txt"), str(SEED / "dump.yaml")]
    done = subprocess.run([sys.executable, "-c", code, *paths], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "9"]


def test_same_result_with_one_process_every_core_and_on_a_cluster() -> None:
    one = scan_json(*MIXED, "--workers", "1")
    default = scan_json(*MIXED)
    assert one == default
    assert [row["path"] for row in one["files"]][-1] == "no/such/trace.msgpack"
    assert one["files"][-1]["unreadable"] == "no such file"
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        on_cluster = scan_json(*MIXED, "--scheduler", cluster.scheduler_address)
    assert on_cluster == one


def test_a_worker_url_is_read_where_it_runs() -> None:
    """A file:// URL: listed through fsspec here, read in the process that replays it."""
    pytest.importorskip("fsspec")
    local = scan_json(str(SEED))
    url = scan_json(f"file://{SEED}/")
    assert [row["path"] for row in url["files"]] == [f"file://{SEED}/{Path(row['path']).name}" for row in local["files"]]
    for a, b in zip(local["files"], url["files"], strict=True):
        assert {**a, "path": None} == {**b, "path": None}
    assert url["groups"][0]["command"] == f"replay run {SEED}/transition_log.msgpack --key g"


def test_memory_urls_scan_in_process() -> None:
    fsspec = pytest.importorskip("fsspec")
    with fsspec.open("memory://scan-test/seed.yaml", "wb") as target:
        target.write((SEED / "dump.yaml").read_bytes())
    rows = scan_sources(expand(["memory://scan-test/", "memory://scan-test/nothing-*"]), ScanSettings.of(DEFAULT_LIMITS),
                        ScanRun(workers=1))  # fmt: skip
    assert [(row.path, row.errors, row.unreadable) for row in rows] == [
        ("memory://scan-test/seed.yaml", 4, None),
        ("memory://scan-test/nothing-*", 0, "no file matches the pattern"),
    ]


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[str]:
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(directory))  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_http_urls() -> None:
    pytest.importorskip("fsspec")
    pytest.importorskip("aiohttp")
    with serving(SEED) as base:
        document = scan_json(f"{base}/dump.msgpack.gz", f"{base}/missing.msgpack")
    first, missing = document["files"]
    assert (first["format"], first["errors"]) == ("dump-msgpack", 4)
    assert missing["unreadable"] is not None
    assert document["groups"][0]["command"].startswith(f"curl -sSfL {base}/dump.msgpack.gz | replay run - --key")


def test_without_fsspec_a_url_is_an_unreadable_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)  # import fsspec raises ImportError
    rows = scan_sources(expand(["s3://bucket/dump.msgpack.gz"]), ScanSettings.of(DEFAULT_LIMITS), ScanRun(workers=1))
    assert rows[0].unreadable == "reading s3:// URLs needs fsspec (pip install fsspec)"


# --------------------------------------------------------------------------- rows and exit codes


def test_unreadable_inputs_are_rows_with_runs_reason(capsys: pytest.CaptureFixture[str]) -> None:
    names = ["corrupt.msgpack", "dump-bad-entry.msgpack.gz", "dump-log-not-list.msgpack.gz", "billion-laughs.yaml"]
    paths = [str((HOSTILE / name).relative_to(ROOT)) for name in names]
    code, out, _ = scan_cli(*paths, "--json")
    assert code == 3  # nothing at all could be read
    rows = json.loads(out)["files"]
    for path, row in zip(paths, rows, strict=True):
        ran_code, ran = run_json(path, capsys)
        assert ran_code == 3 and ran == f"replay: error: {path}: {row['unreadable']}"


def test_exit_codes() -> None:
    clean = str(TRACES.relative_to(ROOT) / "2024.3.0/seed/dump.yaml")
    assert scan_cli(clean, "--json")[0] == 0
    assert scan_cli(clean, "no/such/file", "--json")[0] == 0  # something was read, and it is clean
    assert scan_cli(clean, str(SEED / "story.txt"), "--json")[0] == 1
    assert scan_cli("no/such/file", "--json")[0] == 3
    assert scan_cli("no/such/*.gz", "--json")[0] == 3
    code, _, err = scan_cli(clean, "--json", "--markdown")
    assert code == 2 and "choose one" in err
    code, _, err = scan_cli(clean, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2
    code, _, err = scan_cli(clean, "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "cannot connect to the scheduler" in err


def test_standard_input() -> None:
    done = subprocess.run([sys.executable, "-m", "replay", "scan", "-", "--json"], cwd=ROOT, capture_output=True,
                          input=(SEED / "dump.msgpack.gz").read_bytes(), check=False)  # fmt: skip
    document = json.loads(done.stdout)
    assert document["files"][0]["path"] == "<stdin>" and document["files"][0]["errors"] == 4
    assert document["groups"][0]["command"] == "replay run - --key g"


def test_directories_are_walked_sorted_and_hidden_files_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    shutil.copy(SEED / "story.txt", tmp_path / "b" / "z.txt")
    shutil.copy(SEED / "story.txt", tmp_path / "a.txt")
    shutil.copy(SEED / "story.txt", tmp_path / ".hidden" / "x.txt")
    shutil.copy(SEED / "story.txt", tmp_path / ".dot.txt")
    given = f"{tmp_path}/"
    # a file named twice is scanned once
    assert [source.path for source in expand([given, str(tmp_path / "a.txt")])] == [f"{given}a.txt", f"{given}b/z.txt"]
    assert [source.path for source in expand([f"{tmp_path}/**/*.txt"])] == [str(tmp_path / "a.txt"), str(tmp_path / "b/z.txt")]


# --------------------------------------------------------------------------- output


def report_of(*paths: str) -> Any:
    return report(scan_sources(expand(paths), ScanSettings.of(DEFAULT_LIMITS), ScanRun(workers=1)))


def test_rich_view_and_markdown() -> None:
    result = report_of(str(SEED.relative_to(ROOT)), "traces/2024.3.0/seed/dump.yaml")
    console = Console(width=120, no_color=True, force_terminal=False, theme=THEME, highlight=False, record=True,
                      file=io.StringIO())  # fmt: skip
    console.print(ScanView(result), crop=False)
    text = console.export_text()
    assert text.startswith("✗ 6 of 9 traces have error findings · 2 unreadable · 1 group")
    assert "  1  $ replay run traces/2024.2.1/seed/transition_log.msgpack --key g" in text
    assert "traces/2024.2.1/seed/meta.json: a map that is neither a cluster dump nor a replay trace" in text
    assert "1 clean trace not listed" in text
    page = markdown(result)
    assert page.startswith("## replay scan: ✗ 6 of 9 traces")
    assert "| 1 | `dependency-erred-or-forgotten` (error) | 6 | 2024.2.1, release unknown |" in page
    assert "`replay run traces/2024.2.1/seed/transition_log.msgpack --key g`" in page


def test_markdown_cells_hold_pipes_and_backticks() -> None:
    row = FileScan("odd|name`x.txt", unreadable="a | b")
    page = markdown(report([row]))
    assert "| ``odd\\|name`x.txt`` |" in page and "a \\| b" in page


def test_progress_bar_counts_traces() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, theme=THEME)
    with scan_progress(2, console) as advance:
        advance(FileScan("a", errors=1))
        advance(FileScan("b"))
    assert "2/2" in out.getvalue() and "1 with errors" in out.getvalue()


def test_commands_are_quoted_for_the_shell() -> None:
    assert shell_word("traces/a.msgpack") == "traces/a.msgpack"
    assert replay_command("my dir/d.yaml", "('x', 0)") == "replay run \"my dir/d.yaml\" --key \"('x', 0)\""
    assert replay_command("d.yaml", 'say "$HOME"') == "replay run d.yaml --key 'say \"$HOME\"'"
    assert replay_command("s3://b/d.msgpack.gz", None, "2024.2.1") == (
        "aws s3 cp s3://b/d.msgpack.gz - | replay run - --distributed-version 2024.2.1"
    )
    assert replay_command("gs://b/d.yaml", "g") == "gcloud storage cat gs://b/d.yaml | replay run - --key g"


# --------------------------------------------------------------------------- signatures


def test_one_run_is_normalised_as_diff_normalises_it() -> None:
    token = "0123456789abcdef0123456789abcdef"
    entries = [
        SchedulerTransition(("inc-" + token, 0), "released", "waiting", {"tcp://10.0.0.1:4000-x": "waiting"},
                            "remove-worker-tcp://10.0.0.1:4000-1795669430.36", 1.0),
        SchedulerTransition("sum-" + "1" * 32, "waiting", "processing", {}, "task-finished-" + "ab" * 16, 2.0),
    ]  # fmt: skip
    ours = Normaliser.single(entries)
    diffs, _ = Normaliser.pair(entries, entries)
    for entry in entries:
        assert ours.stimulus(entry.stimulus_id) == diffs.stimulus(entry.stimulus_id)
    # diff keeps a token both sides share and maps a one-sided one onto the other side's; alone, each is numbered
    assert ours.key(entries[0].key) == ("inc-<token-0>", 0) and ours.key(entries[1].key) == "sum-<token-0>"
    assert ours.key("tcp://10.0.0.1:4000-x") == diffs.key("tcp://10.0.0.1:4000-x") == "<worker-0>-x"
    assert ours.stimulus(entries[0].stimulus_id) == "remove-worker-<worker-0>-*"


def test_two_problems_of_one_trace_stay_apart() -> None:
    """dask/distributed#7402: two leaked tasks blamed on two recommendations, two signatures."""
    (row,) = scan_sources(expand(["traces/2022.12.0/bug-7402/transition_log.msgpack"]), ScanSettings.of(DEFAULT_LIMITS),
                          ScanRun(workers=1))  # fmt: skip
    assert sorted(problem.key for problem in row.problems) == ["leak-2", "leak-3"]
    assert all(problem.rule == "unwanted-run" for problem in row.problems)


def test_a_finding_without_culprit() -> None:
    result = report_of("traces/2022.11.1/bug-7348/dump.yaml")
    (group,) = result.groups
    assert group.signature == "counter-ahead: at the end of the log"
    assert group.command == "replay run traces/2022.11.1/bug-7348/dump.yaml"


# --------------------------------------------------------------------------- the speed work


TASKSTATE_NAMES = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
TASKSTATE_KEYS = st.recursive(
    st.one_of(TASKSTATE_NAMES, st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.tuples(inner, inner) | st.tuples(TASKSTATE_NAMES, inner, st.integers(0, 1000)),
    max_leaves=4,
)


@settings(max_examples=400, deadline=None)
@given(TASKSTATE_KEYS, st.sampled_from(["memory", "no-worker", "released"]), st.sampled_from(["TaskState", "Task"]))
def test_taskstate_reprs_read_fast_as_the_parser_reads_them(key: Any, state: str, kind: str) -> None:
    text = f"<{kind} {key!r} {state}>"
    parsed = key_from_taskstate(text)
    expected = None if parsed is None else parsed[0]
    found = _Reprs._key(text)
    assert found == expected and type(found) is type(expected) and repr(found) == repr(expected)


DUMPS = sorted(path for path in TRACES.glob("*/*/dump.msgpack.gz") if path.parent.name not in LARGE_RUNS)


@pytest.mark.parametrize("path", DUMPS[::4], ids=lambda path: f"{path.parent.parent.name}/{path.parent.name}")
def test_dumps_read_the_same_with_and_without_isal(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = open_trace(path, worker_logs=True)
    monkeypatch.setattr(msgpack_reader, "FAST_INFLATE", False)
    plain = open_trace(path, worker_logs=True)
    assert fast.materialise() == plain.materialise()
    assert fast.graph == plain.graph and fast.metadata == plain.metadata and fast.workers == plain.workers


def test_task_table_rows_keep_only_the_fields_replay_reads() -> None:
    parts = msgpack_reader.read_dump_parts(SEED / "dump.msgpack.gz", DEFAULT_LIMITS, worker_logs=False)
    tasks = parts["scheduler"]["tasks"]
    assert tasks and all(set(row) <= msgpack_reader.TASK_FIELDS for row in tasks.values())
    assert tasks["g"]["state"] == "waiting"


def test_corrupt_gzip_reads_the_same_with_isal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = (SEED / "dump.msgpack.gz").read_bytes()
    cut = tmp_path / "cut.msgpack.gz"
    cut.write_bytes(data[: len(data) // 2])
    answers = []
    for fast in (True, False):
        monkeypatch.setattr(msgpack_reader, "FAST_INFLATE", fast)
        code, line = run_json(str(cut), capsys)
        answers.append((code, line))
    assert answers[0][0] == answers[1][0] == 3
    assert "corrupt or truncated gzip data" in answers[0][1] and "corrupt or truncated gzip data" in answers[1][1]


def test_source_problem_short_circuits() -> None:
    row = scan_sources([Source("x", problem="no file matches the pattern")], ScanSettings.of(DEFAULT_LIMITS))[0]
    assert row.unreadable == "no file matches the pattern" and row.format is None


def test_benchmark_script_smoke() -> None:
    """benchmarks/scan.py end to end on small traces (no timing assertions)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/scan.py"), "--smoke", "--repeat", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for label in ("replay scan, 1 process", "replay scan, every core", "scan speed-up", "replay run --json (seed)"):
        assert label in done.stdout, label
    assert "JSON DIFFERS" not in done.stdout and "exit 3" not in done.stdout


def test_a_recording_directory_is_one_trace(tmp_path: Path) -> None:
    """A directory written by replay.record is one trace, not a manifest and segments to read one by one."""
    from tests.test_record import raw_entries, recorded

    recording = tmp_path / "runs" / "rec"
    recording.parent.mkdir()
    recorded(recording, raw_entries(TRACES / "2024.2.1/seed/transition_log.msgpack"))
    document = scan_json(str(tmp_path / "runs"))
    assert [(row["path"], row["format"], row["events"]) for row in document["files"]] == [
        (str(recording), "recording", 21)
    ]
