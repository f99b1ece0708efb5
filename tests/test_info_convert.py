"""``replay info`` and ``replay convert``: what they report, what they cost, where they write.

``info`` counts worker records without building one; it must report what building them
would (every committed trace, and random worker-log entries). ``convert`` checks its
destination before reading anything, streams, and leaves no half-written file behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay import ingest
from replay.ingest import WorkerRecordCounts, count_worker_records, open_trace, open_trace_counting_workers, recognised
from replay.ingest.records import EVENT_FIRST_TAGS, KEY_FIRST_TAGS, WORKER_STATES, worker_record
from replay.summary import summarise
from tests.conftest import ROOT, TRACES, trace_files

SEED = TRACES / "2024.2.1/seed"
MAPREDUCE = TRACES / "2026.8.0/mapreduce"


def main(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m replay ARGS`` as a user runs it (its own process, the real exit code)."""
    return subprocess.run([sys.executable, "-m", "replay", *args], input=stdin, capture_output=True, cwd=ROOT,
                          timeout=300, check=False)  # fmt: skip


def built_counts(path: Path) -> WorkerRecordCounts:
    """The worker records of ``path`` counted the slow way: every record built."""
    records = open_trace(path, worker_logs=True).worker_records
    return WorkerRecordCounts(len(records), sum(1 for record in records if record.kind == "unrecognised"))


# ---------------------------------------------------------------------------------- info


@pytest.mark.parametrize("path", trace_files(), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
def test_counting_reads_what_building_reads(path: Path) -> None:
    trace, counts = open_trace_counting_workers(path)
    full = open_trace(path, worker_logs=True)
    assert counts == built_counts(path)
    assert trace.materialise() == full.materialise()
    assert trace.graph == full.graph
    assert trace.metadata == full.metadata
    assert trace.worker_records == ()  # counted, never built


def test_info_builds_no_worker_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """The usual entries (every committed trace's) are classified in place: none is built."""
    built: list[Any] = []
    monkeypatch.setattr(ingest, "worker_record", lambda raw, worker: built.append(raw) or worker_record(raw, worker))
    for path in (MAPREDUCE / "dump.msgpack.gz", MAPREDUCE / "dump.yaml", MAPREDUCE / "client_story.msgpack"):
        _, counts = open_trace_counting_workers(path)
        assert counts.total > 100
    assert built == []


def test_info_prints_the_counts_of_the_records() -> None:
    done = main("info", str(MAPREDUCE / "dump.msgpack.gz"))
    assert done.returncode == 0, done.stderr
    rows = dict(line.split(None, 1) for line in done.stdout.decode().splitlines() if "  " in line)
    counts = built_counts(MAPREDUCE / "dump.msgpack.gz")
    assert f"{counts.total} ({counts.unrecognised} unrecognised)" in done.stdout.decode()
    summary = summarise(open_trace(MAPREDUCE / "dump.msgpack.gz", worker_logs=True))
    assert rows["entries"].strip() == str(summary.entries)


def test_summary_of_a_stream_is_the_summary_of_the_tuple() -> None:
    streamed = open_trace(MAPREDUCE / "transition_log.msgpack")
    assert not isinstance(streamed.transitions, tuple)
    held = open_trace(MAPREDUCE / "dump.msgpack.gz")
    assert isinstance(held.transitions, tuple)
    a, b = summarise(streamed), summarise(held)
    assert (a.entries, a.keys, a.stimuli, a.first_time, a.last_time) == (b.entries, b.keys, b.stimuli, b.first_time, b.last_time)


_key = st.one_of(
    st.text(max_size=6),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.tuples(st.sampled_from(["x", "(y", ""]), st.one_of(st.integers(-2, 2), st.booleans(), st.floats(0, 2))),
    st.just(("x", ("y", 1))),
    st.just(("x", True)),
    st.just(("x", [1])),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
_text = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(sorted(WORKER_STATES)), st.integers(), st.floats())
_tag = st.sampled_from([*sorted(KEY_FIRST_TAGS | set(EVENT_FIRST_TAGS)), "other"])
_recommendations = st.dictionaries(
    st.one_of(st.text(max_size=8), st.sampled_from(["['x', 1]", "('x', 2)"]), st.integers(), st.tuples(st.text(max_size=2))),
    st.one_of(st.sampled_from(sorted(WORKER_STATES)), st.integers(), st.tuples(st.just("memory"), st.integers())),
    max_size=3,
)
#: Mostly well-formed: the shapes real logs hold, with a bad part now and then.
_plain_key = st.one_of(
    st.text(max_size=4),
    st.tuples(st.sampled_from(["t", "u"]), st.integers(-2, 3)),
    st.tuples(st.just("t"), st.integers(0, 2), st.integers(0, 2)),
    st.sampled_from([("t", True), ("t", 1.5), ("t", ["x"]), "free-keys", "(t, 1)", "['t', 1]", 7]),
)
_state = st.sampled_from([*sorted(WORKER_STATES), "new", "compute-task"])
_plain = st.one_of(
    st.tuples(
        _plain_key, _state, st.one_of(st.none(), _state), _state,
        st.dictionaries(st.one_of(st.text(max_size=8), st.just("['t', 2]")), _state, max_size=2),
        st.one_of(st.none(), st.text(max_size=4)), st.one_of(st.none(), st.floats()),
    ),
    st.tuples(_plain_key, st.sampled_from(sorted(KEY_FIRST_TAGS)), _state, st.text(max_size=4), st.floats()),
    st.tuples(_plain_key, st.sampled_from(sorted(KEY_FIRST_TAGS)), st.text(max_size=4), st.floats()),
    st.tuples(st.sampled_from(sorted(EVENT_FIRST_TAGS)), st.tuples(_plain_key), st.text(max_size=4), st.floats()),
    st.tuples(st.sampled_from(sorted(EVENT_FIRST_TAGS)), st.text(max_size=4), st.lists(_plain_key, max_size=2), st.text(max_size=4), st.floats()),
)  # fmt: skip
_field = st.one_of(_key, _text, _tag, _recommendations, st.lists(_key, max_size=3), st.frozensets(st.integers(), max_size=2))
_entry = st.one_of(
    _plain,
    _plain.map(list),
    st.tuples(_key, _text, _text, _text, _recommendations, _text, st.one_of(st.none(), st.floats(), st.integers())),
    st.tuples(_key, _tag, _text, _text, st.one_of(st.floats(), st.none(), st.booleans())),
    st.tuples(_key, _tag, _text, st.floats()),
    st.tuples(_tag, st.one_of(_key, st.lists(_key, max_size=3), st.tuples(_key)), _text, st.floats()),
    st.tuples(_tag, _text, st.one_of(_key, st.tuples(_key, _key)), _text, st.floats()),
    st.lists(_field, max_size=8),
    st.lists(_field, max_size=8).map(tuple),
    _field,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_entry, max_size=6))
def test_recognised_is_what_building_says(entries: list[Any]) -> None:
    """The in-place classification never disagrees with building the record."""
    expected = [worker_record(raw, "tcp://w:1").kind != "unrecognised" for raw in entries]
    assert [recognised(raw, "tcp://w:1") for raw in entries] == expected
    counted = count_worker_records([("tcp://w:1", entries)])
    assert counted == WorkerRecordCounts(len(entries), expected.count(False))


def test_a_dump_with_unrecognised_records(tmp_path: Path) -> None:
    """A real dump's worker log with odd entries added: info counts them as building them does."""
    dump = msgpack.unpackb(__import__("gzip").decompress((SEED / "dump.msgpack.gz").read_bytes()), strict_map_key=False)
    worker = next(iter(dump["workers"].values()))
    worker["log"] += [["x", "weird"], 5, [("k", True), "released", "waiting", "waiting", {}, "s", 1.0], [None, "compute-task", "s", 1.0]]
    path = tmp_path / "odd.msgpack"
    path.write_bytes(msgpack.packb(dump, use_bin_type=True))
    _, counts = open_trace_counting_workers(path)
    assert counts == built_counts(path)
    assert counts.unrecognised == 4


# ---------------------------------------------------------------------------------- convert


def test_convert_to_a_missing_directory_fails_before_reading() -> None:
    missing = "/missing/dir/x.jsonl"
    for trace in (str(SEED / "dump.msgpack.gz"), "no-such-trace.msgpack"):
        done = main("convert", trace, "--to", "jsonl", "-o", missing)
        assert done.returncode == 3
        assert done.stdout == b""
        assert done.stderr.decode() == f"replay: error: {missing}: cannot write: no directory '/missing/dir'\n"


def test_convert_leaves_no_half_file_when_the_input_breaks(tmp_path: Path) -> None:
    """A stream found corrupt while it is written out: exit 3, one line, no output, no .partial."""
    log = list(msgpack.unpackb((MAPREDUCE / "transition_log.msgpack").read_bytes(), strict_map_key=False, use_list=False))
    log[-1] = ["x", "released", None, {}, "s", 1.0]
    broken = tmp_path / "broken.msgpack"
    broken.write_bytes(msgpack.packb(log, use_bin_type=True))
    for kind in ("jsonl", "json", "msgpack"):
        output = tmp_path / f"out.{kind}"
        done = main("convert", str(broken), "--to", kind, "-o", str(output))
        assert done.returncode == 3
        assert done.stderr.decode().count("\n") == 1
        assert f"entry {len(log) - 1}: finish" in done.stderr.decode()
        assert list(tmp_path.iterdir()) == [broken]


def test_info_and_convert_take_no_width() -> None:
    for args in (["info", str(SEED / "dump.yaml")], ["convert", str(SEED / "dump.yaml"), "--to", "jsonl"]):
        done = main(*args, "--width", "80")
        assert done.returncode == 2
        assert b"No such option" in done.stderr and b"--width" in done.stderr


@pytest.mark.parametrize("kind", ["jsonl", "json", "msgpack"])
def test_convert_to_standard_output_streamed_input(kind: str, tmp_path: Path) -> None:
    """A bare log is a stream: msgpack to a pipe counts the transitions first, then writes them."""
    source = MAPREDUCE / "transition_log.msgpack"
    done = main("convert", str(source), "--to", kind)
    assert done.returncode == 0, done.stderr
    copy = tmp_path / f"copy.{kind}"
    copy.write_bytes(done.stdout)
    assert open_trace(copy).materialise() == open_trace(source).materialise()


def test_convert_msgpack_of_a_stream_to_a_file_fills_in_the_length(tmp_path: Path) -> None:
    source = MAPREDUCE / "transition_log.msgpack"
    output = tmp_path / "out.msgpack"
    done = main("convert", str(source), "--to", "msgpack", "-o", str(output))
    assert done.returncode == 0, done.stderr
    document = msgpack.unpackb(output.read_bytes(), strict_map_key=False, use_list=False)  # one valid document, length filled in
    assert len(document["transitions"]) == len(open_trace(source).materialise())


def test_convert_json_past_the_text_limit_says_how_to_read_it(tmp_path: Path) -> None:
    """A JSON document is read whole, within the text limit: convert says when it wrote a larger one."""
    output = tmp_path / "mapreduce.json"
    limit = "40000"
    done = main("convert", str(MAPREDUCE / "dump.msgpack.gz"), "--to", "json", "-o", str(output), "--max-text-bytes", limit)
    assert done.returncode == 0, done.stderr
    size = output.stat().st_size
    assert size > int(limit)
    assert f"reading it back takes --max-text-bytes {size}" in done.stderr.decode()
    assert main("info", str(output), "--max-text-bytes", str(size)).returncode == 0
    assert main("info", str(output), "--max-text-bytes", limit).returncode == 3
    assert "note" not in main("convert", str(MAPREDUCE / "dump.msgpack.gz"), "--to", "json", "-o", str(output)).stderr.decode()


def test_info_of_every_export_matches_info_of_the_source(tmp_path: Path) -> None:
    source = SEED / "dump.msgpack.gz"
    expected = main("info", str(source)).stdout.decode().splitlines()[2:]
    for kind in ("jsonl", "json", "msgpack"):
        output = tmp_path / f"seed.{kind}"
        assert main("convert", str(source), "--to", kind, "-o", str(output)).returncode == 0
        lines = main("info", str(output)).stdout.decode().splitlines()
        assert lines[1].split() == ["format", f"replay-{kind}"]
        assert lines[2:] == expected
    assert json.loads((tmp_path / "seed.jsonl").read_text().splitlines()[0])["version"] == 2
