"""Every hostile input gets its documented answer from the real CLI, in bounded time and memory.

Each (case, command) runs ``python -m replay COMMAND FILE`` in its own process; its peak
CPU time and RSS are read from ``os.wait4``. All runs happen once per session, two at a time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cases import BY_NAME, CASES, Case
from make_corpus import LARGE, SEED, SENTINEL, SMALL, write_large

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
COMMANDS = ("run", "info")
#: CPU seconds of the whole process. Each case takes under 5 s alone; the bound is CPU time,
#: not wall-clock time, with a wide margin: a shared 2-core CI machine runs 3x slower when busy.
MAX_CPU_TIME = 15.0
MAX_RSS_MB = 500
#: a hang guard, not a measurement: the process is killed after this long
KILL_AFTER = 120.0


@dataclass(frozen=True)
class Outcome:
    code: int
    cpu_time: float
    rss_mb: float
    stdout: str
    stderr: str


def run_cli(*args: str) -> Outcome:
    """``python -m replay ARGS`` in a fresh process; its exit code, CPU time and peak RSS."""
    process = subprocess.Popen(
        [sys.executable, "-m", "replay", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "120", "REPLAY_DEBUG": ""},
    )
    chunks: dict[str, bytes] = {}

    def drain(name: str) -> None:
        stream = getattr(process, name)
        chunks[name] = stream.read()
        stream.close()

    readers = [threading.Thread(target=drain, args=(name,)) for name in ("stdout", "stderr")]
    for reader in readers:
        reader.start()
    killer = threading.Timer(KILL_AFTER, process.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        killer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    for reader in readers:
        reader.join()
    return Outcome(
        code=process.returncode,
        cpu_time=usage.ru_utime + usage.ru_stime,
        rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        stdout=chunks["stdout"].decode(errors="replace"),
        stderr=chunks["stderr"].decode(errors="replace"),
    )


@pytest.fixture(scope="session")
def corpus_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    large = tmp_path_factory.mktemp("hostile-large")
    paths = {name: CORPUS / name for name in SMALL}
    paths.update({path.name: path for path in write_large(large)})
    return paths


@pytest.fixture(scope="session")
def outcomes(corpus_paths: dict[str, Path]) -> dict[tuple[str, str], Outcome]:
    SENTINEL.unlink(missing_ok=True)
    jobs = [(case.name, command) for case in CASES for command in COMMANDS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda job: run_cli(job[1], str(corpus_paths[job[0]])), jobs)
        return dict(zip(jobs, results))


def test_every_corpus_file_has_a_case() -> None:
    assert set(SMALL) | set(LARGE) == set(BY_NAME)


def test_committed_corpus_is_what_the_script_writes() -> None:
    for name, build in SMALL.items():
        assert (CORPUS / name).read_bytes() == build(), f"regenerate: python tests/hostile/make_corpus.py {CORPUS}"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_answer(case: Case, command: str, outcomes: dict[tuple[str, str], Outcome],
                corpus_paths: dict[str, Path]) -> None:  # fmt: skip
    outcome = outcomes[case.name, command]
    report = f"{case.name} {command}: exit {outcome.code}, {outcome.cpu_time:.2f} s CPU, {outcome.rss_mb:.0f} MB\n{outcome.stderr}"
    assert "Traceback" not in outcome.stderr + outcome.stdout, report
    assert outcome.cpu_time <= MAX_CPU_TIME, report
    assert outcome.rss_mb <= MAX_RSS_MB, report
    if case.error is not None:
        assert outcome.code == 3, report
        lines = [line for line in outcome.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, report
        prefix = f"replay: error: {corpus_paths[case.name]}: "
        assert lines[0].startswith(prefix), report
        assert re.match(case.error, lines[0][len(prefix) :]), report
    else:
        expected = case.run_codes if command == "run" else (0,)
        assert outcome.code in expected, report
        assert outcome.stderr.strip() == "", report


def test_nothing_was_executed(outcomes: dict[tuple[str, str], Outcome]) -> None:
    assert outcomes  # every case has run, python-object YAML and hostile calls included
    assert not SENTINEL.exists()


def _entries(info_stdout: str) -> str:
    found = re.search(r"^entries\s+(\d+)$", info_stdout, re.MULTILINE)
    assert found is not None, info_stdout
    return found.group(1)


@pytest.mark.parametrize("case", [case for case in CASES if case.same_as], ids=lambda case: case.name)
def test_bom_and_crlf_read_like_the_original(case: Case, outcomes: dict[tuple[str, str], Outcome]) -> None:
    assert case.same_as is not None
    original = run_cli("info", str(SEED / case.same_as))
    assert _entries(outcomes[case.name, "info"].stdout) == _entries(original.stdout)


def test_empty_log_dump_is_zero_events(outcomes: dict[tuple[str, str], Outcome]) -> None:
    for name in ("empty-log-dump.msgpack.gz", "empty-log-dump.yaml"):
        assert "0 events" in outcomes[name, "run"].stdout
        assert _entries(outcomes[name, "info"].stdout) == "0"


def test_unknown_states_are_kept_as_findings(corpus_paths: dict[str, Path]) -> None:
    import json

    outcome = run_cli("run", "--json", str(corpus_paths["unknown-states.json"]))
    document = json.loads(outcome.stdout)
    assert document["source"]["events"] == 5
    unknown = {finding["message"] for finding in document["findings"] if finding["rule"] == "unknown-state"}
    assert unknown, document["findings"]


def test_limits_can_be_raised(tmp_path: Path) -> None:
    """An input refused under a default limit is read once the limit is raised."""
    entry = "('x', 'released', 'waiting', {}, 'stimulus', 1.0)"
    nested = tmp_path / "nested.txt"
    nested.write_text("[" * 80 + entry + "]" * 80 + "\n")
    assert "nested deeper than 64" in run_cli("info", str(nested)).stderr
    raised = run_cli("info", "--max-depth", "100", str(nested))
    assert raised.code == 0, raised.stderr
    assert _entries(raised.stdout) == "1"
    lowered = run_cli("info", "--max-text-bytes", "1000", str(SEED / "story.txt"))
    assert lowered.code == 3
    assert "text larger than" in lowered.stderr
