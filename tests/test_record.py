"""``replay.record``: the recorder plugin, reading a recording back, and ``run --follow``.

The writer's own behaviour is tested on a stand-in scheduler (what ``Scheduler._transition``
does: count, log, call the plugin) fed the entries of committed real traces; the three
ways of adding it to a real scheduler run on the installed ``distributed`` (the newest, in
CI), and on the old releases' venvs when they exist (``/work/venvs/d2022.12.0``,
``d2024.6.0``).
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

import msgpack
import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli
from replay.errors import UnreadableInputError
from replay.ingest import detect_format, open_trace
from replay.ingest import recording as reader
from replay.provenance import replay_trace
from replay.render.theme import THEME
from tests.conftest import ROOT, TRACES

pytest.importorskip("distributed")

from replay import record  # noqa: E402 - needs distributed
from replay.record import TransitionRecorder  # noqa: E402

SEED_LOG = TRACES / "2024.2.1/seed/transition_log.msgpack"
VENVS = Path(os.environ.get("VENVS", "/work/venvs"))


def raw_entries(path: Path) -> list[tuple[Any, ...]]:
    return list(msgpack.unpackb(path.read_bytes(), use_list=False, raw=False, strict_map_key=False))


class StandIn:
    """What a scheduler offers the recorder, and what ``Scheduler._transition`` does per transition."""

    def __init__(self, maxlen: int | None = None) -> None:
        self.transition_log: deque[tuple[Any, ...]] = deque(maxlen=maxlen)
        self.transition_counter = 0
        self.address = "tcp://127.0.0.1:8786"
        self.id = "Scheduler-stand-in"
        self.validate = False
        self.plugins: dict[str, Any] = {}

    def add_plugin(self, plugin: Any, name: str | None = None) -> None:
        self.plugins[name or plugin.name] = plugin

    def log(self, entry: tuple[Any, ...]) -> None:
        self.transition_counter += 1
        self.transition_log.append(entry)
        for plugin in self.plugins.values():
            plugin.transition(entry[0], entry[1], entry[2], stimulus_id=entry[4])


def recorded(directory: Path, entries: list[tuple[Any, ...]], *, close: bool = True, **options: Any) -> StandIn:
    scheduler = StandIn()
    recorder = TransitionRecorder(directory, **options)
    recorder.open(scheduler)
    scheduler.add_plugin(recorder)
    for entry in entries:
        scheduler.log(entry)
    if close:
        recorder.finish()
    return scheduler


def invoke(*args: str) -> tuple[int, str]:
    console = Console(width=100, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, list(args), obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout


# ---------------------------------------------------------------------------------- the writer


def test_recording_reads_back_as_the_scheduler_logged_it(tmp_path: Path) -> None:
    entries = raw_entries(TRACES / "2026.8.0/mapreduce/transition_log.msgpack")
    directory = tmp_path / "rec"
    scheduler = recorded(directory, entries, segment_bytes=4096)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["format"] == "replay-recording" and manifest["closed"] is True
    assert manifest["transition_counter"] == manifest["entries"] == len(entries) == scheduler.transition_counter
    assert manifest["scheduler_address"] == "tcp://127.0.0.1:8786"
    names = [segment["name"] for segment in manifest["segments"]]
    assert len(names) > 3 and names == sorted(names)
    assert all(segment["complete"] for segment in manifest["segments"])
    assert detect_format(directory) == "recording"
    trace = open_trace(directory)
    assert trace.metadata.format == "recording"
    assert trace.metadata.transition_counter == len(entries)
    assert trace.metadata.scheduler_address == "tcp://127.0.0.1:8786"
    assert trace.notes == ()
    assert trace.materialise() == open_trace(TRACES / "2026.8.0/mapreduce/transition_log.msgpack").materialise()
    assert list(trace.iter_transitions()) == list(trace.iter_transitions())  # re-iterable: a stream re-read
    assert replay_trace(trace).errors == 0


def test_seed_bug_through_a_recording_names_the_same_culprit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "_distributed_version", lambda: "2024.2.1")
    recorded(tmp_path / "rec", raw_entries(SEED_LOG))
    code, out = invoke("run", str(tmp_path / "rec"), "--json")
    code_log, out_log = invoke("run", str(SEED_LOG), "--distributed-version", "2024.2.1", "--json")
    assert code == code_log == 1
    document = json.loads(out)
    assert document["source"]["format"] == "recording"
    assert document["source"]["distributed_version"] == "2024.2.1"
    assert document["findings"] == json.loads(out_log)["findings"]
    culprit = next(f for f in document["findings"] if f["rule"] == "waiting-on-erred")["culprit"]
    assert culprit == {"event": 17, "key": "g", "state": "waiting", "overrode": {"event": 16, "state": "erred"}}


@pytest.mark.parametrize("interval", [0.0, 0.5])
def test_batches_are_written_between_handlers(tmp_path: Path, interval: float) -> None:
    """On a loop, entries wait for the handler to return (and ``flush_interval``); then one
    write holds them all."""
    entries = raw_entries(SEED_LOG)
    directory = tmp_path / "rec"

    async def main() -> list[int]:
        scheduler = StandIn()
        recorder = TransitionRecorder(directory, flush_interval=interval)
        await recorder.start(scheduler)
        scheduler.add_plugin(recorder)
        segment = directory / "segment-000000.msgpack"
        sizes = [segment.stat().st_size]
        for entry in entries[:10]:
            scheduler.log(entry)
        sizes.append(segment.stat().st_size)  # the handler is still running
        await asyncio.sleep(0)
        sizes.append(segment.stat().st_size)
        await asyncio.sleep(interval * 2)
        sizes.append(segment.stat().st_size)
        await recorder.close()
        return sizes

    header, inside, next_callback, later = asyncio.run(main())
    assert header == inside < later
    assert (next_callback == later) if interval == 0 else (next_callback == header)
    assert len(open_trace(directory).materialise()) == 10


def test_keep_segments_drops_the_oldest_and_says_so(tmp_path: Path) -> None:
    entries = raw_entries(TRACES / "2026.8.0/mapreduce/transition_log.msgpack")
    directory = tmp_path / "rec"
    recorded(directory, entries, segment_bytes=2048, keep_segments=3)
    manifest = json.loads((directory / "manifest.json").read_text())
    segments = sorted(directory.glob("segment-*.msgpack"))
    assert len(segments) == 3 == len(manifest["segments"])
    assert manifest["dropped_segments"] > 0
    trace = open_trace(directory)
    kept = trace.materialise()
    assert len(kept) == len(entries) - manifest["dropped_entries"]
    assert trace.metadata.transition_counter == len(kept)  # what the kept segments should hold
    assert kept == open_trace(TRACES / "2026.8.0/mapreduce/transition_log.msgpack").materialise()[-len(kept):]
    assert any("dropped" in note for note in trace.notes)
    result = replay_trace(trace)
    assert not result.complete_log


def test_a_torn_last_record_is_skipped_with_a_note(tmp_path: Path) -> None:
    entries = raw_entries(SEED_LOG)
    directory = tmp_path / "rec"
    recorded(directory, entries, close=False)  # a crash: never closed
    segment = directory / "segment-000000.msgpack"
    segment.write_bytes(segment.read_bytes()[:-7])
    trace = open_trace(directory)
    assert len(trace.materialise()) == len(entries) - 1
    assert trace.metadata.transition_counter is None
    assert any("incomplete" in note and "skipped" in note for note in trace.notes)
    assert any("not closed" in note for note in trace.notes)
    code, out = invoke("run", str(directory), "--distributed-version", "2024.2.1")
    assert "note: the last record of segment-000000.msgpack is incomplete" in out.replace("\n", " ").replace("  ", " ")
    assert code == 1


def test_a_recording_is_never_overwritten_unless_asked(tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    recorded(directory, raw_entries(SEED_LOG)[:3])
    with pytest.raises(FileExistsError, match="already holds a recording"):
        TransitionRecorder(directory).open(StandIn())
    recorded(directory, raw_entries(SEED_LOG)[:5], overwrite=True)
    assert len(open_trace(directory).materialise()) == 5


def test_placeholders_make_one_directory_per_recorder(tmp_path: Path) -> None:
    first, second = TransitionRecorder(tmp_path / "run-{pid}-{n}"), TransitionRecorder(tmp_path / "run-{pid}-{n}")
    first.open(StandIn())
    second.open(StandIn())
    assert first.path != second.path
    assert first.path is not None and first.path.name.startswith(f"run-{os.getpid()}-")
    first.finish()
    second.finish()


def test_only_settings_travel_when_the_plugin_is_sent(tmp_path: Path) -> None:
    recorder = TransitionRecorder(tmp_path / "rec", segment_bytes=1000, keep_segments=2)
    sent = copy.deepcopy(recorder)  # register_plugin pickles it the same way
    assert (sent.directory, sent.segment_bytes, sent.keep_segments, sent.name) == (
        recorder.directory, 1000, 2, recorder.name)  # fmt: skip
    assert not (tmp_path / "rec").exists()  # nothing opened on the client side


def test_a_log_that_keeps_nothing_is_recorded_from_the_hook(tmp_path: Path) -> None:
    scheduler = StandIn(maxlen=0)
    recorder = TransitionRecorder(tmp_path / "rec")
    recorder.open(scheduler)
    scheduler.add_plugin(recorder)
    for entry in raw_entries(SEED_LOG)[:4]:
        scheduler.log(entry)
    recorder.finish()
    trace = open_trace(tmp_path / "rec")
    read = trace.materialise()
    assert [entry.key for entry in read] == [entry[0] for entry in raw_entries(SEED_LOG)[:4]]
    assert all(entry.recommendations == {} for entry in read)
    assert any("did not match the scheduler's log" in note for note in trace.notes)


def test_a_key_msgpack_cannot_write_is_kept_as_its_repr(tmp_path: Path) -> None:
    class Odd:
        def __repr__(self) -> str:
            return "Odd()"

    odd = Odd()
    entries = [(odd, "released", "waiting", {odd: "processing"}, "s1", 1.0), ("x", "released", "waiting", {}, "s1", 1.0)]
    recorded(tmp_path / "rec", entries)
    read = open_trace(tmp_path / "rec").materialise()
    assert [entry.key for entry in read] == ["Odd()", "x"]
    assert read[0].recommendations == {"Odd()": "processing"}


def test_segments_without_a_manifest_still_read(tmp_path: Path) -> None:
    recorded(tmp_path / "rec", raw_entries(SEED_LOG))
    (tmp_path / "rec" / "manifest.json").unlink()
    trace = open_trace(tmp_path / "rec")
    assert len(trace.materialise()) == len(raw_entries(SEED_LOG))
    assert any("no manifest.json" in note for note in trace.notes)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnreadableInputError, match="is a directory, not a trace file"):
        open_trace(tmp_path / "empty")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(UnreadableInputError, match="not a recording's manifest"):
        open_trace(tmp_path / "other")


def test_every_command_reads_a_recording(tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    recorded(directory, raw_entries(SEED_LOG))
    code, out = invoke("info", str(directory))
    assert code == 0 and "recording" in out and "transition counter  21" in out
    assert invoke("convert", str(directory), "--to", "jsonl", "-o", str(tmp_path / "out.jsonl"))[0] == 0
    assert open_trace(tmp_path / "out.jsonl").materialise() == open_trace(directory).materialise()
    assert invoke("story", str(directory), "g")[0] == 0
    recorded(tmp_path / "again", raw_entries(SEED_LOG))
    assert invoke("diff", str(directory), str(tmp_path / "again"), "--summary")[0] == 0


def test_the_writer_and_the_reader_agree_on_names() -> None:
    assert (record.FORMAT, record.MANIFEST) == (reader.FORMAT, reader.MANIFEST)
    assert reader._SEGMENT.match(record.segment_name(0)) and reader._SEGMENT.match(record.segment_name(1234567))


def test_dask_setup_opens_once_and_only_on_a_scheduler(tmp_path: Path) -> None:
    scheduler = StandIn()
    context = record.dask_setup.make_context("dask_setup", ["--replay-dir", str(tmp_path / "rec")])
    asyncio.run(record.dask_setup.callback(scheduler, **context.params))
    assert list(scheduler.plugins) == [f"replay-recorder:{tmp_path / 'rec'}"]
    asyncio.run(record.dask_setup.callback(scheduler, **context.params))  # already recorded: kept
    assert len(scheduler.plugins) == 1

    class Worker:
        pass

    asyncio.run(record.dask_setup.callback(Worker(), **context.params))  # a worker's preload: nothing
    next(iter(scheduler.plugins.values())).finish()


# ---------------------------------------------------------------------------------- run --follow


def _line_of(stream: IO[str]) -> str:
    """One line of a child's output, read byte by byte from its pipe: ``communicate`` reads the
    pipe itself afterwards, so nothing may wait in the stream's buffer (a ``readline`` may take
    more than one line there, which ``communicate`` would never see)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = os.read(stream.fileno(), 1)
        if not byte:
            break
        line += byte
    return line.decode()


def _follow(directory: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "replay", "run", "--follow", str(directory), "--width", "100", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip


def test_follow_prints_each_finding_once_its_cascade_settles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live recording: the findings of remove_b2 come out while the writer pauses after it,
    and the whole output matches ``run`` on the closed recording."""
    monkeypatch.setattr(record, "_distributed_version", lambda: "2024.2.1")
    entries = raw_entries(SEED_LOG)
    directory = tmp_path / "rec"
    follower = _follow(directory, "--json")
    paused, resumed = threading.Event(), threading.Event()

    def write() -> None:
        scheduler = StandIn()
        recorder = TransitionRecorder(directory)
        recorder.open(scheduler)
        scheduler.add_plugin(recorder)
        for index, entry in enumerate(entries):
            scheduler.log(entry)
            if index == 20:  # the end of remove_b2's cascade
                paused.set()
                time.sleep(4)
                resumed.set()
            elif index + 1 < len(entries) and entries[index + 1][4] != entry[4]:
                # between stimuli only: a scheduler handler logs its whole cascade at once, and
                # the follower takes a quiet recording for a settled one
                time.sleep(0.01)
        recorder.finish()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert follower.stdout is not None
        first = _line_of(follower.stdout)
        assert paused.is_set() and not resumed.is_set(), "the finding waited for the next stimulus"
        rest, _ = follower.communicate(timeout=60)
    finally:
        writer.join()
        if follower.poll() is None:
            follower.kill()
    lines = [json.loads(line) for line in (first + rest).splitlines()]
    assert follower.returncode == 1
    summary = lines[-1]
    assert summary["source"]["events"] == len(entries)
    _, out = invoke("run", str(directory), "--json")
    assert lines[:-1] == json.loads(out)["findings"]
    assert summary["summary"] == json.loads(out)["summary"] == {"errors": 4, "warnings": 1}


def test_follow_stops_on_ctrl_c_with_the_summary(tmp_path: Path) -> None:
    directory = tmp_path / "rec"
    recorded(directory, raw_entries(SEED_LOG), close=False)  # live: never closed
    follower = _follow(directory, "--distributed-version", "2024.2.1")
    assert follower.stdout is not None
    lines = [_line_of(follower.stdout) for _ in range(3)]
    assert "following" in "".join(lines)
    time.sleep(1.5)
    follower.send_signal(signal.SIGINT)
    out, err = follower.communicate(timeout=30)
    assert follower.returncode == 1, err
    assert "ERROR waiting-on-erred  event 18  g  remove_b2" in out
    assert "culprit: g: waiting emitted by [17] g memory → released, overriding g: erred from [16] f" in out
    assert "stopped (Ctrl-C) after 21 entries" in out
    assert "✗ 4 error(s), 1 warning(s)" in out  # and the deadlock, found at the end


def test_follow_a_bounded_recording_says_what_was_dropped(tmp_path: Path) -> None:
    entries = raw_entries(TRACES / "2026.8.0/mapreduce/transition_log.msgpack")
    recorded(tmp_path / "rec", entries, segment_bytes=2048, keep_segments=2)
    code, out = invoke("run", "--follow", str(tmp_path / "rec"))
    manifest = json.loads((tmp_path / "rec" / "manifest.json").read_text())
    kept = len(entries) - manifest["dropped_entries"]
    assert f"the recording closed after {kept} entries" in out
    assert "note: the recording kept its newest 2 segment(s)" in out
    assert code == 0


def test_follow_refuses_what_it_cannot_tail(tmp_path: Path) -> None:
    assert invoke("run", "--follow", str(SEED_LOG))[0] == 2
    assert invoke("run", "--follow", "-")[0] == 2
    recorded(tmp_path / "rec", raw_entries(SEED_LOG))
    assert invoke("run", "--follow", str(tmp_path / "rec"), "--svg", str(tmp_path / "x.svg"))[0] == 2


# ---------------------------------------------------------------------------------- real clusters


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("replay_record_bench", ROOT / "benchmarks" / "record.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(python: Path | str, out: Path, transitions: int, *extra: str) -> dict[str, Any]:
    """``benchmarks/record.py check`` run by ``python``, then every recording verified here."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(python), str(ROOT / "benchmarks" / "record.py"), "check", "--transitions", str(transitions),
         "--out", str(out), "--no-verify", "--json", *extra],
        env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    bench = _bench()
    for way in summary["ways"]:
        summary["ways"][way].update(bench.verify(out / way))
    return summary


def _assert_exact(summary: dict[str, Any], ways: tuple[str, ...]) -> None:
    assert set(summary["ways"]) == set(ways)
    for way, ran in summary["ways"].items():
        assert ran["entries"] == ran["transition_counter"] >= 1000, (way, ran)
        assert ran["compared_with_log"] == ran["log_entries"] == ran["entries"], (way, ran)
        assert ran["differing"] == 0, (way, ran)
        assert ran["unmatched_entries"] == 0, (way, ran)
        assert ran["errors"] == 0 and ran["notes"] == [], (way, ran)


def test_three_ways_on_the_installed_distributed(tmp_path: Path) -> None:
    """dask scheduler --preload, the preload config, register_plugin: each recording holds exactly
    transition_counter entries, equal to the scheduler's own log, and replays without error."""
    import distributed

    summary = _check(sys.executable, tmp_path, 3000, "--no-processes", "--round-size", "400")
    assert summary["distributed"] == distributed.__version__
    _assert_exact(summary, ("cli", "config", "register"))


@pytest.mark.parametrize("release", ["2022.12.0", "2024.6.0"])
def test_recorder_on_old_releases(release: str, tmp_path: Path) -> None:
    python = VENVS / f"d{release}" / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no venv of distributed {release} at {python.parent.parent}")
    summary = _check(python, tmp_path, 2000, "--no-processes", "--round-size", "300")
    assert summary["distributed"] == release
    _assert_exact(summary, ("cli", "config", "register"))


def test_follow_a_live_local_cluster(tmp_path: Path) -> None:
    recording = tmp_path / "config" / "recording"
    follower = _follow(recording, "--json")
    try:
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "record.py"), "check", "--transitions", "2000", "--round-size", "300", "--ways",
             "config", "--out", str(tmp_path), "--no-verify", "--no-processes", "--json"],
            env=environment, capture_output=True, timeout=300, check=True,
        )  # fmt: skip
        out, err = follower.communicate(timeout=60)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, err
    summary = json.loads(out.splitlines()[-1])
    manifest = json.loads((recording / "manifest.json").read_text())
    assert summary["summary"] == {"errors": 0, "warnings": 0}
    assert summary["source"]["events"] == manifest["entries"] == manifest["transition_counter"]
