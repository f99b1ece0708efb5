"""``replay worker``: each worker's stimulus log re-executed through a real WorkerState.

In-process re-execution needs the dump's own release installed (CI installs the newest
distributed, so it covers the dumps of that release). Other releases run through the
interpreters named by ``REPLAY_TEST_PYTHONS`` (``2022.8.1=/venvs/a/bin/python,2022.9.0=...``);
the tests that need one skip without it. The worker-bug traces' expected.json files say, from
the release's source and decided before any replay ran, which stimulus and task each bug
shows at, and what the fixed release writes instead.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

import msgpack
import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli, main
from replay.events import Trace
from replay.ingest import open_trace
from replay.ingest.keys import canonical_key
from replay.machine.rules.base import Rule
from replay.releases import parse_release
from replay.render.theme import THEME
from replay.worker import reexecute
from replay.worker.model import RULES as MODEL_RULES
from replay.worker.reexecute import (
    FIRST_EVENTS,
    RULES,
    Choice,
    Interpreter,
    WorkersResult,
    check_worker,
    check_workers,
    installed_release,
    runner_document,
)
from tests.conftest import LARGE_RUNS, TRACES, check_golden

#: The release an interpreter has, from ``REPLAY_TEST_PYTHONS``.
PYTHONS: dict[str, str] = dict(
    item.split("=", 1) for item in os.environ.get("REPLAY_TEST_PYTHONS", "").split(",") if "=" in item
)
INSTALLED = installed_release()
BUGS = ("2022.8.1/wbug-6916", "2022.7.0/wbug-6676", "2022.8.0/wbug-6914", "2022.6.1/wbug-6673")
FIXED = ("2022.9.0/wbug-6916", "2022.7.1/wbug-6676", "2022.8.1/wbug-6914", "2022.7.0/wbug-6673")
#: What each bug shows at on its own release, by which of replay's checks (the stimulus and key
#: are read from expected.json).
OWN_RELEASE_RULE = {
    "2022.8.1/wbug-6916": "seceded-task-executing",
    "2022.7.0/wbug-6676": "resources-unaccounted",
    "2022.8.0/wbug-6914": "reexecution-raised",
    "2022.6.1/wbug-6673": "reexecution-raised",
}
#: Buggy stimuli through the fixed release: the stimulus, key and recorded log index where the
#: logs part ways, as each expected.json's fixed_release_reexecution words it.
THROUGH_FIXED = {
    "2022.8.1/wbug-6916": (2, "x", None, "at stimulus 2"),
    "2022.7.0/wbug-6676": (1, "y", 10, "(log index 10)"),
    "2022.8.0/wbug-6914": (4, "z", 14, "log index 14 (stimulus 4)"),
    "2022.6.1/wbug-6673": (4, "x", None, "stimulus 4 writes"),
}
#: The fixed stimuli through the last buggy release (each expected.json of the fixed release says it).
THROUGH_BUGGY = {
    "2022.9.0/wbug-6916": ("2022.8.1", "differential-diverged", 2, "x"),
    "2022.7.1/wbug-6676": ("2022.7.0", "differential-diverged", 1, "y"),
    "2022.8.1/wbug-6914": ("2022.8.0", "differential-raised", 2, "x"),
    "2022.7.0/wbug-6673": ("2022.6.1", "differential-raised", 3, "x"),
}
#: A worker that sat through many gathers at once: which of several ready tasks takes a free
#: thread follows the order of a set of string keys, which per-process hashing changes.
ORDER_DEPENDENT = "2026.8.0/large-graph"
WORKER_DOCUMENT_KEYS = {"address", "name", "release", "events", "stimuli", "reexecuted", "reexecuted_on",
                        "differential", "findings", "divergence"}  # fmt: skip


def dumps() -> list[Path]:
    return sorted(
        path
        for name in ("dump.msgpack.gz", "dump.yaml")
        for path in TRACES.glob(f"*/*/{name}")
        if path.parent.name not in LARGE_RUNS
    )


def directory_name(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}"


CLEAN_DUMPS = [path for path in dumps() if directory_name(path) not in BUGS]


@cache
def trace_of(path: Path) -> Trace:
    return open_trace(path, worker_logs=True)


def release_of(path: Path) -> str:
    release = trace_of(path).metadata.distributed_version
    assert release is not None
    return release


def expected(directory: str) -> dict[str, Any]:
    return json.loads((TRACES / directory / "expected.json").read_text())  # type: ignore[no-any-return]


def python_for(release: str) -> str:
    """The interpreter of ``release`` from REPLAY_TEST_PYTHONS (skips without it)."""
    if release not in PYTHONS:
        pytest.skip(f"REPLAY_TEST_PYTHONS names no interpreter of distributed {release}")
    return PYTHONS[release]


def invoke(*args: str, width: int = 100) -> tuple[int, str, str]:
    """A command through click with a fixed-width colourless console: exit code, stdout, stderr."""
    console = Console(width=width, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, list(args), obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_main(*args: str) -> tuple[int, str, str]:
    """The real entry point (error mapping included): exit code, stdout, stderr."""
    runner = CliRunner()
    with runner.isolation() as (stdout, stderr, _):
        try:
            main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        return code, stdout.getvalue().decode(), stderr.getvalue().decode()


def worker_json(*args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_main("worker", *args, "--json")
    assert err == "", err
    return code, json.loads(out)


def assert_reproduced(result: WorkersResult, path: Path) -> None:
    """Every worker with stimuli re-executed: nothing raised, every check held, every entry reproduced."""
    for report in result.workers:
        if not report.stimuli:
            continue
        assert report.reexecuted, report.findings
        assert report.comparison is not None
        assert report.handled == report.stimuli
        assert not [finding for finding in report.findings if finding.severity == "error"], report.findings
        if directory_name(path) == ORDER_DEPENDENT and report.divergence is not None:
            warnings = [finding for finding in report.findings if finding.severity == "warning"]
            assert {finding.rule for finding in warnings} <= {"reexecution-diverged", "after-divergence"}
            (diverged,) = [finding for finding in warnings if finding.rule == "reexecution-diverged"]
            assert "the same tasks moved in another order" in diverged.message
            continue
        assert report.divergence is None, report.findings
        assert {finding.rule for finding in report.findings} <= {"reexecution-filled"}
        assert report.comparison.compared + report.comparison.skipped == report.events


# -- the dumps of the installed release, re-executed in this process ------------------------


@pytest.mark.parametrize("path", CLEAN_DUMPS, ids=lambda path: f"{directory_name(path)}/{path.name}")
def test_a_clean_dump_of_the_installed_release_reproduces_its_logs_in_process(path: Path) -> None:
    if INSTALLED is None or parse_release(INSTALLED) != parse_release(release_of(path)):
        pytest.skip(f"distributed {release_of(path)} is not installed here")
    result = check_workers(trace_of(path))
    assert all(report.interpreter == Interpreter(INSTALLED) for report in result.workers if report.reexecuted)
    assert_reproduced(result, path)


def test_the_runner_script_alone_gives_what_the_process_gives() -> None:
    """The standalone script, fed a real worker's document on standard input, in a fresh interpreter."""
    path = TRACES / "2026.8.0/mapreduce/dump.msgpack.gz"
    if INSTALLED is None or parse_release(INSTALLED) != parse_release(release_of(path)):
        pytest.skip("distributed 2026.8.0 is not installed here")
    in_process = check_workers(trace_of(path))
    through = check_workers(trace_of(path), python=sys.executable)
    assert [report.interpreter.python for report in through.workers if report.interpreter] == [sys.executable] * 2
    assert [report.findings for report in through.workers] == [report.findings for report in in_process.workers]
    assert_reproduced(through, path)


def test_a_truncated_log_is_compared_with_the_tail_of_the_reexecuted_one() -> None:
    path = TRACES / "2026.8.0/truncated/dump.msgpack.gz"
    if INSTALLED is None or parse_release(INSTALLED) != parse_release(release_of(path)):
        pytest.skip("distributed 2026.8.0 is not installed here")
    result = check_workers(trace_of(path))
    assert [report.comparison.truncated for report in result.workers if report.comparison] == [True, True]
    assert [report.events for report in result.workers] == [1000, 1000]


# -- other releases, through their interpreters ----------------------------------------------


@pytest.mark.parametrize("path", CLEAN_DUMPS, ids=lambda path: f"{directory_name(path)}/{path.name}")
def test_a_clean_dump_reproduces_its_logs_through_its_release(path: Path) -> None:
    release = release_of(path)
    parsed = parse_release(release)
    if parsed is None or parsed < reexecute.WORKER_STATE_SINCE:
        pytest.skip("predates WorkerState")
    result = check_workers(trace_of(path), python=python_for(release))
    assert_reproduced(result, path)


@pytest.mark.parametrize("form", ["dump.msgpack.gz", "dump.yaml"])
@pytest.mark.parametrize("directory", BUGS)
def test_a_worker_bug_is_named_by_its_own_release(directory: str, form: str) -> None:
    """The stimulus and task of expected.json, by the check that sees it on the buggy release."""
    want = expected(directory)["findings"][0]
    python = python_for(want_release := directory.split("/", maxsplit=1)[0])
    code, document = worker_json(str(TRACES / directory / form), "--python", python)
    assert code == 1
    (worker,) = [worker for worker in document["workers"] if worker["address"] == want["machine"]]
    assert worker["release"] == want_release
    assert worker["reexecuted_on"] == {"release": want_release, "how": python}
    errors = [finding for finding in worker["findings"] if finding["severity"] == "error"]
    first = errors[0]
    assert (first["rule"], first["stimulus_index"], first["stimulus_id"]) == (
        OWN_RELEASE_RULE[directory], want["stimulus_index"], want["stimulus_id"])  # fmt: skip
    assert canonical_key(first["key"]) == canonical_key(want["key"])
    assert first["machine"] == want["machine"]
    # the logs themselves are what the release writes: the bug is in what it did, not in a lost entry
    assert worker["divergence"] is None
    others = [other for other in document["workers"] if other["address"] != want["machine"]]
    assert all(finding["severity"] == "info" for other in others for finding in other["findings"])


def test_a_compute_task_of_a_cancelled_long_running_task_raises_on_2022_6_1() -> None:
    python = python_for("2022.6.1")
    result = check_workers(trace_of(TRACES / "2022.6.1/wbug-6673/dump.msgpack.gz"), python=python)
    (raised,) = [finding for finding in result.findings if finding.rule == "reexecution-raised"]
    assert (raised.stimulus_index, raised.key) == (4, "x")
    assert "raised AssertionError in handle_stimulus" in raised.message
    assert 'assert ts._previous == "flight"' in raised.message
    filled = {(cls, name) for report in result.workers for cls, name, _, _ in report.filled}
    assert ("UnpauseEvent", "_classes") in filled  # 2022.6.1's spurious start-up event


def test_the_resources_bug_reads_resources_from_the_scheduler_and_fills_the_gather() -> None:
    python = python_for("2022.7.0")
    result = check_workers(trace_of(TRACES / "2022.7.0/wbug-6676/dump.msgpack.gz"), python=python)
    (report,) = [report for report in result.workers if report.address == "tcp://127.0.0.1:45755"]
    (unaccounted,) = [finding for finding in report.findings if finding.rule == "resources-unaccounted"]
    assert (unaccounted.stimulus_index, unaccounted.key, unaccounted.severity) == (1, "y", "error")
    assert "available {'R': 1.0} + held by running tasks {'R': 1.0} (y) is not the worker's {'R': 1.0}" in (
        unaccounted.message)  # fmt: skip
    assert "still broken after 1 later stimulus (the last, 2: available {'R': 2.0}" in unaccounted.message
    filled = {(cls, name) for cls, name, _, _ in report.filled}
    assert {("GatherDepSuccessEvent", "worker"), ("GatherDepSuccessEvent", "total_nbytes")} <= filled
    assert report.comparison is not None and report.comparison.skipped == 2  # request-dep, receive-dep


@pytest.mark.parametrize("form", ["dump.msgpack.gz", "dump.yaml"])
@pytest.mark.parametrize("directory", FIXED)
def test_a_fixed_release_reproduces_its_own_dump(directory: str, form: str) -> None:
    python = python_for(directory.split("/", maxsplit=1)[0])
    code, document = worker_json(str(TRACES / directory / form), "--python", python)
    assert code == 0
    assert document["summary"] == {"errors": 0, "warnings": 0}
    assert all(worker["reexecuted"] and worker["divergence"] is None for worker in document["workers"])


@pytest.mark.parametrize("directory", BUGS)
def test_the_buggy_stimuli_through_the_fixed_release_show_what_the_fix_changes(directory: str) -> None:
    facts = expected(directory)
    fixed = facts["fix"]["first_fixed"]
    stimulus, key, log_index, words = THROUGH_FIXED[directory]
    assert words in facts["fixed_release_reexecution"]
    code, document = worker_json(str(TRACES / directory / "dump.msgpack.gz"), "--python", python_for(fixed))
    assert code == 0  # the releases differ: that is the answer, not an error of the dump
    (worker,) = [worker for worker in document["workers"] if worker["address"] == facts["findings"][0]["machine"]]
    assert worker["differential"] is True
    assert worker["reexecuted_on"]["release"] == fixed
    divergence = worker["divergence"]
    assert (divergence["stimulus_index"], divergence["key"]) == (stimulus, key)
    stimuli = trace_of(TRACES / directory / "dump.msgpack.gz")
    (dump,) = [dump for dump in stimuli.workers if dump.address == worker["address"]]
    assert divergence["stimulus_id"] == dump.stimuli[stimulus].stimulus_id
    (diverged,) = [finding for finding in worker["findings"] if finding["rule"] == "differential-diverged"]
    assert (diverged["severity"], diverged["stimulus_index"], diverged["event"]) == ("info", stimulus, log_index)


def test_the_fix_of_6916_writes_the_secede_of_a_cancelled_task() -> None:
    """The entry expected.json names, exactly: 2022.9.0 logs the secede 2022.8.1 dropped."""
    python = python_for("2022.9.0")
    _, document = worker_json(str(TRACES / "2022.8.1/wbug-6916/dump.msgpack.gz"), "--python", python)
    (worker,) = document["workers"]
    assert worker["divergence"]["recorded"] == []
    assert worker["divergence"]["replayed"] == [["x", "cancelled", "long-running", "cancelled", [],
                                                 "secede-1795990763.1905584"]]  # fmt: skip


@pytest.mark.parametrize("directory", FIXED)
def test_the_fixed_stimuli_through_the_buggy_release(directory: str) -> None:
    buggy, rule, stimulus, key = THROUGH_BUGGY[directory]
    result = check_workers(trace_of(TRACES / directory / "dump.msgpack.gz"), python=python_for(buggy))
    found = [finding for finding in result.findings if finding.rule == rule]
    assert [(finding.stimulus_index, finding.key, finding.severity) for finding in found] == [(stimulus, key, "info")]
    assert result.errors == 0


# -- without the release: said, or refused with --reexecute ----------------------------------


def test_without_the_release_the_report_says_how_to_get_it() -> None:
    path = TRACES / "2022.8.1/wbug-6916/dump.msgpack.gz"
    if INSTALLED == "2022.8.1":
        pytest.skip("distributed 2022.8.1 is installed here")
    code, document = worker_json(str(path))
    assert code == 1  # the model replay of the log still finds the lost secede
    (worker,) = document["workers"]
    assert set(worker) == WORKER_DOCUMENT_KEYS
    assert (worker["reexecuted"], worker["reexecuted_on"], worker["divergence"]) == (False, None, None)
    assert (worker["events"], worker["stimuli"], worker["release"]) == (10, 5, "2022.8.1")
    model, unavailable = worker["findings"]
    assert (model["rule"], model["stimulus_index"], model["key"]) == ("worker-secede-lost", 2, "x")
    assert (unavailable["rule"], unavailable["severity"]) == ("reexecution-unavailable", "warning")
    assert "`pip install distributed==2022.8.1`" in unavailable["message"]
    assert document["summary"] == {"errors": 1, "warnings": 1}
    assert document["source"] == {"path": str(path), "format": "dump-msgpack", "distributed_version": "2022.8.1",
                                  "events": 7}  # fmt: skip
    code, out, err = run_main("worker", str(path), "--reexecute")
    assert (code, out) == (3, "")
    assert err.count("\n") == 1
    assert "cannot re-execute" in err and "pip install distributed==2022.8.1" in err


@pytest.mark.parametrize("directory", ["2021.12.0/mapreduce", "2022.5.0/mapreduce"])
def test_a_release_before_worker_state_cannot_be_reexecuted(directory: str) -> None:
    path = TRACES / directory / "dump.msgpack.gz"
    code, document = worker_json(str(path))
    assert code == 0
    for worker in document["workers"]:
        assert worker["reexecuted"] is False
        assert [finding["rule"] for finding in worker["findings"]] == ["reexecution-unavailable"]
        assert "predates WorkerState" in worker["findings"][0]["message"]
    code, _, err = run_main("worker", str(path), "--reexecute")
    assert code == 3 and "predates WorkerState" in err


def test_a_stimulus_log_without_its_beginning_is_not_reexecuted() -> None:
    """A real worker's log with its first stimuli cut, and one as long as its bound."""
    dump = trace_of(TRACES / "2026.8.0/worker-lost/dump.msgpack.gz").workers[1]
    cut = next(index for index, stimulus in enumerate(dump.stimuli) if stimulus.event not in FIRST_EVENTS)
    no_release = Choice(None, "not needed: the log is refused before")
    for shortened, words in [
        (dump.model_copy(update={"stimuli": dump.stimuli[cut:]}), f"it starts with a {dump.stimuli[cut].event}"),
        (dump.model_copy(update={"log_length": len(dump.stimuli)}), f"it holds {len(dump.stimuli)} stimuli, its bound"),
    ]:
        report = check_worker(shortened, [], "2026.8.0", no_release)
        assert report.reexecuted is False
        (finding,) = report.findings
        assert (finding.rule, finding.severity, finding.stimulus_index) == ("stimulus-log-incomplete", "warning", 0)
        assert words in finding.message


# -- the command ------------------------------------------------------------------------------


def test_a_worker_is_chosen_by_address_or_name() -> None:
    path = str(TRACES / "2022.7.0/wbug-6676/dump.msgpack.gz")
    _, by_address = worker_json(path, "--worker", "tcp://127.0.0.1:45755")
    _, by_name = worker_json(path, "--worker", "a")
    assert [worker["address"] for worker in by_address["workers"]] == ["tcp://127.0.0.1:45755"]
    assert by_name["workers"] == by_address["workers"]
    code, out, err = run_main("worker", path, "--worker", "tcp://127.0.0.1:1")
    assert (code, out) == (2, "")
    assert "no worker 'tcp://127.0.0.1:1'" in err


def test_a_log_without_workers_is_refused() -> None:
    code, out, err = run_main("worker", str(TRACES / "2022.8.1/wbug-6916/transition_log.msgpack"))
    assert (code, out) == (3, "")
    assert "replay worker reads a cluster dump" in err


def test_a_python_without_distributed_is_a_usage_error() -> None:
    true = shutil.which("true")
    if true is None:
        pytest.skip("no `true` program")
    code, out, err = run_main("worker", str(TRACES / "2022.8.1/wbug-6916/dump.msgpack.gz"), "--python", true)
    assert (code, out) == (2, "")
    assert err.startswith(f"replay: error: --python {true}: ") and err.count("\n") == 1


def test_the_runner_document_keeps_what_the_dump_spelled() -> None:
    """Keys as the dump has them (the runner puts them in the release's form), resources from the scheduler."""
    trace = trace_of(TRACES / "2026.8.0/mapreduce/dump.msgpack.gz")
    document = runner_document(trace.workers[0], stringified_keys=False)
    packed = msgpack.unpackb(msgpack.packb(document), use_list=False, strict_map_key=False)
    first_with_dependencies = next(stimulus for stimulus in packed["stimuli"] if stimulus["fields"].get("who_has"))
    assert all(isinstance(key, str) and key.startswith("[") for key in first_with_dependencies["fields"]["who_has"])
    assert isinstance(first_with_dependencies["key"], tuple)
    resources = trace_of(TRACES / "2022.7.0/wbug-6676/dump.msgpack.gz").workers
    assert {worker.name: runner_document(worker, True)["resources"] for worker in resources} == {
        "b": None, "a": {"R": 1.0}}  # fmt: skip


def test_the_rules_are_named_once_and_cover_every_finding() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(isinstance(rule, Rule) and rule.description for rule in RULES)
    severities = {rule.name: rule.severity for rule in (*RULES, *MODEL_RULES)}
    for path in (TRACES / "2022.8.1/wbug-6916/dump.msgpack.gz", TRACES / "2021.12.0/mapreduce/dump.msgpack.gz"):
        for finding in check_workers(trace_of(path)).findings:
            assert severities[finding.rule] == finding.severity


# -- golden text ------------------------------------------------------------------------------


def test_golden_view_without_the_release() -> None:
    if INSTALLED == "2022.8.1":
        pytest.skip("distributed 2022.8.1 is installed here")
    code, out, err = invoke("worker", str(TRACES / "2022.8.1/wbug-6916/dump.msgpack.gz"))
    assert (code, err) == (1, "")  # the model replay finds the lost secede
    check_golden("worker/wbug-6916-2022.8.1-not-installed.txt", out.replace(str(TRACES), "traces"))


@pytest.mark.parametrize("release", ["2022.8.1", "2022.9.0"])
def test_golden_view_of_the_secede_bug(release: str) -> None:
    """On its own release (the check that names it), and through the fixed release (what the fix changes)."""
    python = python_for(release)
    code, out, err = invoke("worker", str(TRACES / "2022.8.1/wbug-6916/dump.msgpack.gz"), "--python", python)
    assert (code, err) == (1 if release == "2022.8.1" else 0, "")
    check_golden(f"worker/wbug-6916-2022.8.1-on-{release}.txt", out.replace(str(TRACES), "traces"))
