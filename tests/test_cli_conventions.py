"""What a new user meets first: options checked, honest wording, standard input, plain output."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli
from replay.ingest.native import write_trace
from replay.render.theme import THEME
from replay.testing import trace_of
from tests.conftest import ROOT, TRACES

SEED = TRACES / "2024.2.1/seed"
BARE_SEED = SEED / "transition_log.msgpack"
OLD_LOG = TRACES / "2021.12.0/task-raises/dump.msgpack.gz"
COMMANDS = ("run", "info", "convert", "rules", "table", "story", "cascade", "timeline", "stats", "diff")


def invoke(*args: str, width: int = 100) -> tuple[int, str, str]:
    console = Console(width=width, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, list(args), obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def command_line(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The real command in a fresh process (its error mapping, its exit)."""
    return subprocess.run([sys.executable, "-m", "replay", *args], input=stdin, capture_output=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=120, check=False)  # fmt: skip


# -- options are checked -------------------------------------------------------------------


def test_an_unknown_key_is_a_usage_error_in_run_as_in_story() -> None:
    for args in (("run", "--key", "zzz"), ("story", "zzz")):
        result = command_line(args[0], str(SEED / "dump.msgpack.gz"), *args[1:])
        assert (result.returncode, result.stdout) == (2, b""), args
        assert result.stderr.decode() == "replay: error: no key 'zzz' in the trace; keys include f, g, ha, hb\n"


@pytest.mark.parametrize("width", ["0", "-5", "19"])
@pytest.mark.parametrize("command", [("run",), ("cascade", "--event", "0")])
def test_a_width_too_small_to_lay_out_is_refused(command: tuple[str, ...], width: str) -> None:
    code, out, err = invoke(command[0], str(SEED / "dump.msgpack.gz"), *command[1:], "--width", width)
    assert code == 2 and out == ""
    assert "'--width'" in err


@pytest.mark.parametrize("version", ["banana", "1999.1.1", ""])
def test_a_release_replay_has_no_table_for_is_refused(version: str) -> None:
    for args in (("run", str(BARE_SEED)), ("table",), ("stats", str(BARE_SEED))):
        code, out, err = invoke(*args, "--distributed-version", version)
        assert code == 2 and out == "", (args, out)
        assert "'--distributed-version'" in err
    code, _, err = invoke("diff", str(BARE_SEED), str(BARE_SEED), "--a-version", version)
    assert code == 2 and "'--a-version'" in err


def test_a_given_release_is_shown_as_given() -> None:
    code, out, _ = invoke("run", str(BARE_SEED), "--distributed-version", "2024.2.1")
    assert code == 1
    assert out.splitlines()[1].startswith("log-msgpack · distributed 2024.2.1 (given) · 21 events")


def test_stats_top_must_be_positive() -> None:
    assert invoke("stats", str(BARE_SEED), "--top", "-1")[0] == 2
    assert invoke("stats", str(BARE_SEED), "--top", "0")[0] == 2


# -- honest words --------------------------------------------------------------------------


def test_a_clean_dump_says_what_was_checked() -> None:
    code, out, _ = invoke("run", str(TRACES / "2024.3.0/seed/dump.yaml"))
    assert code == 0
    assert out.splitlines()[3:] == [
        "✓ no findings in 25 entries: every transition is legal for 2022.11.0 - before 2024.8.0, every",
        "cascade finished, and every state checked was valid",
    ]


def test_a_clean_bounded_bare_log_says_what_could_not_be_checked() -> None:
    code, out, _ = invoke("run", str(TRACES / "2026.8.0/truncated/transition_log.msgpack"))
    assert code == 0
    text = " ".join(out.split())
    assert "release unknown: only the rules of every release were checked" in text
    assert "the log starts partway through the run" in text
    assert "no task table: dependencies come only from what recommendations imply" in text


def test_a_counter_ahead_with_an_unknown_culprit_names_no_key() -> None:
    dump = TRACES / "2022.11.1/bug-7348/dump.msgpack.gz"
    document = json.loads(invoke("run", str(dump), "--json")[1])
    assert [(f["rule"], f["key"], f["stimulus_id"], f["culprit"]) for f in document["findings"]] == [
        ("counter-ahead", None, None, None)
    ]
    code, out, _ = invoke("run", str(dump))
    assert code == 1
    assert "ERROR counter-ahead  event ?  key unknown\n" in out
    assert "story of" not in out


# -- exit codes ----------------------------------------------------------------------------


def test_run_and_diff_give_verdicts_the_views_do_not() -> None:
    dump = str(SEED / "dump.msgpack.gz")
    assert invoke("run", dump)[0] == 1
    assert invoke("diff", dump, str(TRACES / "2024.3.0/seed/dump.msgpack.gz"))[0] == 1
    for args in (("story", dump, "g"), ("cascade", dump, "remove_b2"), ("timeline", dump), ("stats", dump),
                 ("info", dump), ("rules",), ("table",)):  # fmt: skip
        assert invoke(*args)[0] == 0, args


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_page_has_an_example_and_the_exit_codes(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert re.search(r"^  Examples?:$", out, re.MULTILINE), out
    assert "Exit codes: 0 done" in out
    assert "``" not in out


@pytest.mark.parametrize("command", ["run", "diff", "story", "cascade", "timeline", "stats"])
def test_every_command_that_pages_takes_pager_and_no_pager(command: str) -> None:
    out = invoke(command, "--help")[1]
    assert "--pager / --no-pager" in out


@pytest.mark.parametrize("command", ["rules", "table"])
def test_rules_and_table_fit_columns(command: str) -> None:
    result = command_line(command, env={"COLUMNS": "72"})
    lines = result.stdout.decode().splitlines()
    assert lines and max(len(line) for line in lines) <= 72
    assert "``" not in result.stdout.decode()


# -- standard input ------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["transition_log.msgpack", "dump.msgpack.gz", "dump.yaml", "story.txt"])
def test_a_dash_reads_standard_input(form: str) -> None:
    result = command_line("run", "-", "--json", "--distributed-version", "2024.2.1",
                          stdin=(SEED / form).read_bytes())  # fmt: skip
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["source"]["path"] == "<stdin>"
    assert ("waiting-on-erred", 18, "g") in [(f["rule"], f["event"], f["key"]) for f in document["findings"]]


def test_unreadable_standard_input_is_one_line() -> None:
    result = command_line("run", "-", stdin=b"\x00\x01garbage")
    assert result.returncode == 3
    assert result.stderr.decode().startswith("replay: error: <stdin>: ")
    assert result.stderr.count(b"\n") == 1


# -- plain output --------------------------------------------------------------------------


def test_piped_output_has_no_trailing_spaces() -> None:
    result = command_line("run", str(SEED / "dump.msgpack.gz"), "--width", "100")
    lines = result.stdout.decode().splitlines()
    assert len(lines) > 40
    assert [line for line in lines if line != line.rstrip()] == []


def test_no_color_on_a_terminal_is_plain() -> None:
    """NO_COLOR: no escape code at all, not even bold or dim (read through a real pseudo-terminal)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "replay", "run", str(SEED / "dump.msgpack.gz"), "--width", "100", "--no-pager"],
        stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "100"},
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    output = b"".join(chunks).decode()
    assert "ERROR waiting-on-erred" in output
    assert "\x1b[" not in output


# -- files to write ------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--svg", "--html"])
def test_an_export_to_a_missing_directory_fails_before_any_output(option: str) -> None:
    result = command_line("story", str(SEED / "dump.msgpack.gz"), "g", option, "/missing/dir/x.out")
    assert (result.returncode, result.stdout) == (3, b"")
    assert result.stderr.decode() == "replay: error: /missing/dir/x.out: cannot write: no directory '/missing/dir'\n"


# -- logs without stimulus ids -------------------------------------------------------------


def test_a_log_without_stimulus_ids_says_so_and_can_be_selected() -> None:
    code, out, _ = invoke("cascade", str(OLD_LOG), "(no stimulus id)")
    assert code == 0 and out.startswith("cascade (no stimulus id)  events 0 to 23")
    assert "None" not in out
    story = invoke("story", str(OLD_LOG), "bad")[1]
    assert "── (no stimulus id) ──" in story and "None" not in story
    result = command_line("cascade", str(OLD_LOG), "None")
    assert result.returncode == 2
    assert result.stderr.decode() == "replay: error: no stimulus 'None' in the trace; stimuli include (no stimulus id)\n"


# -- layout with real keys and paths -------------------------------------------------------


def test_a_long_hashed_key_is_never_broken(tmp_path: Path) -> None:
    key = "block_on_event-61d5c6496c7ccb689556f82280e23c83"
    trace = trace_of(
        ("x", "processing", "memory", {key: "processing", "y": "released"}, "task-finished-1"),
        (key, "waiting", "processing", {}, "task-finished-1"),
    )
    path = tmp_path / "long-key.json"
    with path.open("wb") as stream:
        write_trace(trace, "json", stream)
    for command in (("story", str(path), "x"), ("story", str(path), key)):
        out = invoke(*command)[1]
        assert key in out, out


def test_a_long_path_is_never_broken(tmp_path: Path) -> None:
    directory = tmp_path / ("a-rather-long-directory-name-" * 3)
    directory.mkdir()
    path = directory / "seed-transition-log.msgpack"
    path.write_bytes(BARE_SEED.read_bytes())
    out = invoke("run", str(path), "--width", "40")[1]
    assert out.splitlines()[0] == str(path)
    out = invoke("diff", str(path), str(path), "--width", "40")[1]
    assert f"A {path}" in out.splitlines()


# -- the workers of a dump in run ------------------------------------------------------------


def test_run_with_workers_adds_each_machine_and_validates() -> None:
    from jsonschema import Draft202012Validator

    dump = str(TRACES / "2022.6.1/wbug-6673/dump.msgpack.gz")
    code, out, _ = invoke("run", dump, "--workers", "--json")
    document = json.loads(out)
    schema = json.loads((ROOT / "docs/schema/run.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(document)) == []
    assert code == 1 and document["findings"] == []  # the scheduler's log is clean; the worker is not
    assert [(f["rule"], f["machine"], f["stimulus_index"], f["key"]) for f in document["workers"]] == [
        ("worker-counter-ahead", "tcp://127.0.0.1:34667", 4, "x"),
        ("processing-will-not-report", "tcp://127.0.0.1:34667", 4, "x"),
    ]
    assert document["summary"] == {"errors": 2, "warnings": 0}
    text = invoke("run", dump, "--workers")[1]
    assert "✗ workers: 2 error(s), 0 warning(s)" in text and "tcp://127.0.0.1:34667 (a)" in text
    clean_code, clean, _ = invoke("run", str(TRACES / "2022.7.0/wbug-6673/dump.msgpack.gz"), "--workers")
    assert clean_code == 0 and "✓ workers: every worker's log and the scheduler's view of it agree" in clean
    assert "workers" not in json.loads(invoke("run", dump, "--json")[1])
