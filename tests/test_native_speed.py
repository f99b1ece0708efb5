"""replay's own export (version 2): lossless, streamed, read through the fast path, and refused
cleanly when broken. Version 1 exports are still read.

Speed is asserted as behaviour, not time: reading an export never calls pydantic (no
validator is even built), never holds the transitions (a stream), and ``run`` never reads
the worker records.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.errors import ReplayError, UnreadableInputError
from replay.events import Trace, TraceMetadata
from replay.ingest import Limits, detect_format, native, open_trace, open_trace_counting_workers, records
from replay.ingest.native import task_document, transition_document, worker_record_document, write_trace
from replay.provenance import replay_trace
from tests.conftest import LARGE_RUNS, ROOT, TRACES, forms_of

KINDS = ("msgpack", "jsonl", "json")
SEED = TRACES / "2024.2.1/seed"
MAPREDUCE = TRACES / "2026.8.0/mapreduce"
#: Every committed run but the two large ones (a round trip builds every worker record three times).
RUNS = sorted(path.parent for path in TRACES.glob("*/*/meta.json") if path.parent.name not in LARGE_RUNS | {"large-graph"})


def export(source: Path, kind: str, directory: Path, trace: Trace | None = None) -> Path:
    """``source`` (already read: ``trace``) exported as ``kind`` into ``directory``."""
    output = directory / f"{source.parent.name}-{source.name}.{kind}"
    with output.open("wb") as stream:
        write_trace(trace or open_trace(source, worker_logs=True), kind, stream, can_seek=True)
    return output


def same_trace(a: Trace, b: Trace) -> None:
    """Everything an export keeps: transitions, graph, worker records, metadata (but path and format)."""
    assert a.materialise() == b.materialise()
    assert a.graph == b.graph
    assert a.worker_records == b.worker_records
    ignored = {"path", "format"}
    assert a.metadata.model_dump(exclude=ignored) == b.metadata.model_dump(exclude=ignored)


def main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replay", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)  # fmt: skip


# ---------------------------------------------------------------------------------- lossless


@pytest.mark.parametrize("run", RUNS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_run_round_trips_in_every_kind(run: Path, tmp_path: Path) -> None:
    for source in forms_of(run):
        original = open_trace(source, worker_logs=True)
        for kind in KINDS:
            output = export(source, kind, tmp_path, original)
            converted = open_trace(output, worker_logs=True)
            assert converted.metadata.format == f"replay-{kind}"
            same_trace(converted, original)
            assert converted.metadata.path == str(output)


def test_key_types_survive(tmp_path: Path) -> None:
    """Tuple, nested tuple, int, float and str keys keep their types in every kind."""
    keys: list[Any] = ["s", "", "é", 3, -2, 2.5, ("t", 0), ("t", ("u", 1)), ("(x", 1), "('looks', 1)x", "[x]"]
    entries = [
        (key, "released", "waiting", dict.fromkeys(keys[index:index + 3], "waiting"), f"s{index}", 1.0 + index)
        for index, key in enumerate(keys)
    ]  # fmt: skip
    bare = tmp_path / "bare.msgpack"
    bare.write_bytes(msgpack.packb(entries, use_bin_type=True))
    original = open_trace(bare).materialise()
    assert [entry.key for entry in original] == keys
    for kind in KINDS:
        converted = open_trace(export(bare, kind, tmp_path)).materialise()
        assert converted == original
        assert [list(map(type, entry.recommendations)) for entry in converted] == [
            list(map(type, entry.recommendations)) for entry in original
        ]


def test_a_large_graph_and_many_workers_in_jsonl(tmp_path: Path) -> None:
    """One line per task, and a header line longer than what format detection looks at."""
    trace = open_trace(SEED / "dump.msgpack.gz", worker_logs=True)
    addresses = tuple(f"tcp://10.0.{i // 250}.{i % 250}:4{i:04d}" for i in range(2000))
    wide = Trace(
        metadata=trace.metadata.model_copy(update={"worker_addresses": addresses}),
        transitions=trace.transitions,
        worker_records=trace.worker_records,
        graph=trace.graph,
    )
    output = tmp_path / "wide.jsonl"
    with output.open("wb") as stream:
        write_trace(wide, "jsonl", stream)
    assert len(output.read_bytes().split(b"\n", 1)[0]) > 4096
    assert detect_format(output) == "jsonl"
    converted = open_trace(output, worker_logs=True)
    assert converted.metadata.worker_addresses == addresses
    same_trace(converted, wide)
    assert sum(line.startswith(b'{"task"') for line in output.read_bytes().splitlines()) == len(trace.graph.tasks)


# ---------------------------------------------------------------------------------- fast path


@pytest.mark.parametrize("kind", ["msgpack", "jsonl"])
def test_reading_an_export_builds_no_validator(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries of an export are in their exact form: checked by the tight loop, never by pydantic;
    the header is checked by hand, pydantic only naming what is wrong."""
    output = export(MAPREDUCE / "dump.msgpack.gz", kind, tmp_path)

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("pydantic was asked")

    monkeypatch.setattr(records, "validate_rows", refuse)
    monkeypatch.setattr(TraceMetadata, "model_validate", refuse)
    trace = open_trace(output)
    assert len(trace.materialise()) == len(open_trace(MAPREDUCE / "dump.msgpack.gz").materialise())
    assert replay_trace(trace).errors == 0
    summary_trace, counts = open_trace_counting_workers(output)
    assert counts.total > 0
    assert sum(1 for _ in summary_trace.iter_transitions()) == len(trace.materialise())


@pytest.mark.parametrize("kind", ["msgpack", "jsonl"])
def test_an_export_is_streamed(kind: str, tmp_path: Path) -> None:
    output = export(MAPREDUCE / "dump.msgpack.gz", kind, tmp_path)
    trace = open_trace(output)
    assert not isinstance(trace.transitions, tuple | list)
    first, second = list(trace.iter_transitions()), list(trace.iter_transitions())
    assert first == second == list(open_trace(MAPREDUCE / "dump.msgpack.gz").materialise())


def _corrupt_worker_records(path: Path, kind: str) -> None:
    """Every worker record replaced by one of no known kind (the transitions left as they are)."""
    if kind == "msgpack":
        document = msgpack.unpackb(path.read_bytes(), strict_map_key=False, use_list=False)
        document = {**document, "worker_records": [{"kind": "nonsense"}] * len(document["worker_records"])}
        path.write_bytes(msgpack.packb(document, use_bin_type=True))
    else:
        lines = [b'{"worker_record":{"kind":"nonsense"}}' if line.startswith(b'{"worker_record"') else line
                 for line in path.read_bytes().splitlines()]  # fmt: skip
        path.write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("kind", ["msgpack", "jsonl"])
def test_run_never_reads_the_worker_records(kind: str, tmp_path: Path) -> None:
    """``run`` skips them unread; ``info`` reads their kind; ``convert`` builds them."""
    output = export(SEED / "dump.msgpack.gz", kind, tmp_path)
    _corrupt_worker_records(output, kind)
    assert len(open_trace(output).materialise()) == 21
    for read in (lambda: open_trace_counting_workers(output), lambda: open_trace(output, worker_logs=True)):
        with pytest.raises(UnreadableInputError, match="bad worker record"):
            read()


# ---------------------------------------------------------------------------------- broken exports


def _error_of(path: Path) -> str:
    """The one line ``run`` and ``info`` print about ``path`` (the same for both), with exit 3."""
    lines = []
    for command in ("run", "info"):
        done = main(command, str(path))
        assert done.returncode == 3, (command, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert done.stderr.startswith(f"replay: error: {path}: ")
        lines.append(done.stderr.strip()[len(f"replay: error: {path}: ") :])
    assert lines[0] == lines[1]
    return lines[0]


def test_broken_msgpack_exports(tmp_path: Path) -> None:
    good = export(SEED / "dump.msgpack.gz", "msgpack", tmp_path).read_bytes()
    cases = {
        "truncated": (good[: len(good) - 40], "truncated msgpack"),
        "extra": (good + b"\x01", "extra data after the document"),
        "version": (good.replace(b"\xa7version\x02", b"\xa7version\x09"), "replay-trace version 9: this replay reads versions 1 to 2"),
    }  # fmt: skip
    document = msgpack.unpackb(good, strict_map_key=False, use_list=False)
    bad_entry = [*document["transitions"]]
    bad_entry[3] = ("g", "released", None, {}, "s", 1.0)
    cases["entry"] = (msgpack.packb({**document, "transitions": bad_entry}), "entry 3: finish: Input should be a valid string")
    bad_key = [*document["transitions"]]
    bad_key[5] = (True, "released", "waiting", {}, "s", 1.0)
    cases["key"] = (msgpack.packb({**document, "transitions": bad_key}), "entry 5: a bool cannot be a task key")
    bad_header = {**document, "metadata": {**document["metadata"], "transition_counter": "many"}}
    cases["header"] = (msgpack.packb(bad_header), "bad replay-trace header: transition_counter: Input should be a valid integer")
    for name, (data, expected) in cases.items():
        path = tmp_path / f"{name}.msgpack"
        path.write_bytes(data)
        assert _error_of(path).startswith(expected), name


def test_broken_jsonl_exports(tmp_path: Path) -> None:
    good = export(SEED / "dump.msgpack.gz", "jsonl", tmp_path).read_bytes().splitlines(keepends=True)
    first_transition = next(i for i, line in enumerate(good) if line.startswith(b"["))
    task = next(i for i, line in enumerate(good) if line.startswith(b'{"task"'))
    cases = {
        "cut": ([*good[:-1], good[-1][:20]], f"line {len(good)}: not JSON"),
        "object": ([*good[:-1], b'{"key": "g"}\n'], f"entry {len(good) - first_transition - 1}: a transition is a list of 6 fields"),
        "short": ([*good[:-1], b'["g", "released"]\n'], f"entry {len(good) - first_transition - 1}: a transition is a list of 6 fields"),
        "pairs": ([*good[:-1], b'["g","released","waiting",[["x"]],"s",1.0]\n'], f"entry {len(good) - first_transition - 1}: recommendations must be a list of [key, state] pairs"),
        "order": ([*good, good[task]], f"line {len(good) + 1}: a task line after the transition lines"),
        "bool": ([*good[:-1], b'[true,"released","waiting",[],"s",1.0]\n'], f"entry {len(good) - first_transition - 1}: a bool cannot be a task key"),
        "state": ([*good[:-1], b'["g","released",5,[],"s",1.0]\n'], f"entry {len(good) - first_transition - 1}: finish: Input should be a valid string"),
    }  # fmt: skip
    for name, (lines, expected) in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(b"".join(lines))
        assert _error_of(path).startswith(expected), name


def test_a_line_past_the_text_limit_is_refused(tmp_path: Path) -> None:
    output = export(SEED / "dump.msgpack.gz", "jsonl", tmp_path)
    with pytest.raises(ReplayError, match="line 1 is longer than the text limit"):
        open_trace(output, Limits(max_text_bytes=100))
    lines = output.read_bytes().splitlines(keepends=True)
    long = json.dumps(["g", "released", "waiting", [], "s" * 1000, 1.0]).encode() + b"\n"
    output.write_bytes(b"".join([*lines, long, *lines[-1:]]))
    with pytest.raises(ReplayError, match=f"line {len(lines) + 1} is longer than the text limit"):
        open_trace(output, Limits(max_text_bytes=900)).materialise()  # the header, tasks and records are shorter


_entry_field = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(), st.text(max_size=5),
    st.lists(st.one_of(st.text(max_size=3), st.integers(0, 2)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)  # fmt: skip
_row = st.one_of(
    st.lists(_entry_field, min_size=5, max_size=7),
    st.tuples(st.text(max_size=3), st.sampled_from(["released", "waiting", "x"]), st.sampled_from(["memory", 5]),
              st.lists(st.lists(st.text(max_size=2), max_size=2), max_size=2), st.text(max_size=3), st.floats()).map(list),
    _entry_field,
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=5), kind=st.sampled_from(KINDS), gzipped=st.booleans())
def test_random_rows_in_an_export_read_or_fail_cleanly(rows: list[Any], kind: str, gzipped: bool, tmp_path: Path) -> None:
    """Whatever an export's transitions hold, reading and replaying raise only ReplayError."""
    header = {"format": "replay-trace", "version": 2, "metadata": {"path": "p", "format": "f"}, "graph": None}
    if kind == "msgpack":
        data = msgpack.packb({**header, "worker_records": [], "transitions": rows}, use_bin_type=True)
    elif kind == "json":
        data = json.dumps({**header, "worker_records": [], "transitions": rows}).encode()
    else:
        data = b"".join(json.dumps(line).encode() + b"\n" for line in [header, *rows])
    path = tmp_path / f"random.{kind}"
    path.write_bytes(gzip.compress(data, mtime=0) if gzipped else data)
    for counting in (False, True):
        try:
            trace = open_trace_counting_workers(path)[0] if counting else open_trace(path)
            replay_trace(trace)
        except ReplayError:
            pass


# ---------------------------------------------------------------------------------- version 1


def _write_version_1(trace: Trace, kind: str, path: Path) -> None:
    """An export as replay wrote it before version 2 (transition objects, tasks in the header)."""
    graph = None
    if trace.graph is not None:
        graph = {"source": trace.graph.source, "tasks": [task_document(task) for task in trace.graph.tasks.values()]}
    header = {"format": "replay-trace", "version": 1, "metadata": trace.metadata.model_dump(mode="json"), "graph": graph}
    transitions = [transition_document(t) for t in trace.iter_transitions()]
    workers = [worker_record_document(r) for r in trace.worker_records]
    if kind == "jsonl":
        lines = [header, *workers, *transitions]
        path.write_bytes(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
        return
    document = {**header, "transitions": transitions, "worker_records": [w["worker_record"] for w in workers]}
    path.write_bytes(json.dumps(document, indent=1).encode() if kind == "json" else msgpack.packb(document, use_bin_type=True))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", [SEED / "dump.msgpack.gz", MAPREDUCE / "dump.yaml"], ids=lambda p: p.parent.name)
def test_version_1_exports_are_still_read(kind: str, source: Path, tmp_path: Path) -> None:
    original = open_trace(source, worker_logs=True)
    path = tmp_path / f"v1.{kind}"
    _write_version_1(original, kind, path)
    same_trace(open_trace(path, worker_logs=True), original)
    trace, counts = open_trace_counting_workers(path)
    assert counts.total == len(original.worker_records)
    assert trace.materialise() == original.materialise()


def test_the_version_is_written(tmp_path: Path) -> None:
    for kind in KINDS:
        output = export(SEED / "dump.msgpack.gz", kind, tmp_path)
        if kind == "msgpack":
            version = msgpack.unpackb(output.read_bytes(), strict_map_key=False)["version"]
        else:
            version = json.loads(output.read_bytes().split(b"\n", 1)[0] if kind == "jsonl" else output.read_bytes())["version"]
        assert version == native.FORMAT_VERSION == 2


def test_odd_fields_of_a_msgpack_export(tmp_path: Path) -> None:
    """Fields replay does not know are skipped, whatever their key (a map key included)."""
    good = msgpack.unpackb(export(SEED / "dump.msgpack.gz", "msgpack", tmp_path).read_bytes(), strict_map_key=False, use_list=False)
    pack = msgpack.Packer(use_bin_type=True).pack
    fields = [pack(name) + pack(value) for name, value in good.items()]
    odd = [pack({"a": 1}) + pack(1), pack(7) + pack([1, 2]), pack("later") + pack({"x": None})]
    path = tmp_path / "odd.msgpack"
    path.write_bytes(b"\xde" + (len(fields) + len(odd)).to_bytes(2, "big") + fields[0] + b"".join(odd) + b"".join(fields[1:]))
    same_trace(open_trace(path, worker_logs=True), open_trace(SEED / "dump.msgpack.gz", worker_logs=True))
    assert open_trace_counting_workers(path)[1].total == len(good["worker_records"])
