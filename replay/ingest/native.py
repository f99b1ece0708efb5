"""replay's own normalised trace format (what ``replay convert`` writes), read and written.

Version 2 is made to be the fastest input there is, streamed both ways:

* **msgpack**: one map ``{"format": "replay-trace", "version": 2, "metadata": ...,
  "graph": ..., "worker_records": [...], "transitions": [...]}``, in that order. Each
  transition is the array ``[key, start, finish, recommendations, stimulus_id,
  timestamp]`` exactly as a scheduler of 2023.9 or later logs it: keys as themselves
  (arrays for tuples), recommendations a map (array keys for tuple keys). It is read as
  a stream through the same tight loop as a bare msgpack log; the worker records come
  first, so that ``replay run`` skips them unread.
* **JSON Lines**: the header line ``{"format": ..., "version": 2, "metadata": ...,
  "graph": {"source": ...} | null}``, then one ``{"task": {...}}`` line per task of the
  graph, one ``{"worker_record": {...}}`` line per worker record, and one array line per
  transition, ``[key, start, finish, [[key, state], ...], stimulus_id, timestamp]``, in
  that order (JSON map keys are strings only: pairs keep every key's type).
* **JSON**: the msgpack document's shape, recommendations as pairs, one record a line.

Keys are JSON values (arrays for tuples). Version 1 (transitions as objects ``{"key",
"start", "finish", "recommendations": [[key, state], ...], "stimulus_id", "timestamp"}``,
the graph's tasks in the header; in msgpack, the transitions before the worker records)
is still read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sized
from contextlib import closing
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, Literal

import msgpack
from pydantic import ValidationError

from replay.errors import LimitExceededError, UnreadableInputError
from replay.events import (
    SchedulerTransition,
    TaskGraph,
    TaskRecord,
    Trace,
    TraceMetadata,
    WorkerRecord,
    worker_records_adapter,
)
from replay.ingest.keys import KeyError_, canonical_key
from replay.ingest.limits import Limits, open_bytes
from replay.ingest.msgpack_reader import MsgpackCursor
from replay.ingest.records import scheduler_transition_batches
from replay.keys import key_to_json

FORMAT_NAME = "replay-trace"
FORMAT_VERSION = 2
#: Versions this replay reads.
READABLE_VERSIONS = (1, 2)
#: The header's fields (everything but the records).
HEADER_FIELDS = ("format", "version", "metadata", "graph")

#: What a reader does with worker records: leave them unread (``replay run``), count them by
#: kind (``replay info``), or build every record (``replay convert``).
WorkerMode = Literal["skip", "count", "records"]
#: Worker records counted: how many, and how many of a shape replay does not recognise.
Counts = tuple[int, int]

WORKER_KINDS = frozenset({"worker-transition", "worker-event", "unrecognised"})

# ---------------------------------------------------------------------------------- writing

#: Records written (packed or encoded) together.
_WRITE_BATCH = 512

#: Compact JSON, escaping non-ASCII (a key read from msgpack may hold lone surrogates). A value
#: JSON has no type for (bytes or a date inside an unrecognised worker record) is written as its repr.
_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False, default=repr).encode


def _json_value(value: Any) -> Any:
    """Records' fields as JSON-safe values (tuples as arrays, maps with tuple keys as pairs)."""
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return [[key_to_json(key), _json_value(item)] for key, item in value.items()]
    return value


def transition_document(transition: SchedulerTransition) -> dict[str, Any]:
    """One transition as a JSON object (version 1's form, and the ENTRY of ``replay diff --json``)."""
    return {
        "key": key_to_json(transition.key),
        "start": transition.start,
        "finish": transition.finish,
        "recommendations": [[key_to_json(key), state] for key, state in transition.recommendations.items()],
        "stimulus_id": transition.stimulus_id,
        "timestamp": finite_or_none(transition.timestamp),
    }


def finite_or_none(timestamp: float | None) -> float | None:
    """A timestamp JSON can hold: NaN and the infinities are no time, and no JSON number either."""
    return timestamp if timestamp is None or math.isfinite(timestamp) else None


def transition_array(transition: SchedulerTransition) -> list[Any]:
    """One transition as version 2 writes it in JSON: ``[key, start, finish, [[key, state], ...],
    stimulus_id, timestamp]`` (``json`` writes tuples as arrays itself)."""
    key, start, finish, recommendations, stimulus_id, timestamp = transition
    return [key, start, finish, list(recommendations.items()), stimulus_id, finite_or_none(timestamp)]


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def worker_record_fields(record: WorkerRecord) -> dict[str, Any]:
    """One worker record as a JSON object (``kind`` first)."""
    kind = type(record)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        names = _FIELD_NAMES[kind] = tuple(kind.model_fields)
    values = record.__dict__
    if record.kind == "unrecognised":
        return {name: _json_value(values[name]) for name in names}
    document = {name: values[name] for name in names}  # keys and tuples: json writes tuples as arrays
    if "recommendations" in document:
        document["recommendations"] = list(document["recommendations"].items())
    return document


def worker_record_document(record: WorkerRecord) -> dict[str, Any]:
    """One worker record as a JSON Lines object."""
    return {"worker_record": worker_record_fields(record)}


#: The task table's bookkeeping fields, and whether each holds keys (else names).
_BOOKKEEPING = {
    "who_wants": False, "waiters": True, "waiting_on": True, "processing_on": False, "who_has": False, "actor_on": False,
}  # fmt: skip


def task_document(task: TaskRecord) -> dict[str, Any]:
    """One task of the graph as JSON (bookkeeping fields the input did not carry left out)."""
    document: dict[str, Any] = {
        "key": key_to_json(task.key),
        "state": task.state,
        "dependencies": [key_to_json(key) for key in task.dependencies],
        "dependents": [key_to_json(key) for key in task.dependents],
    }
    for name, holds_keys in _BOOKKEEPING.items():
        value = getattr(task, name)
        if value is not None:
            document[name] = [key_to_json(key) for key in value] if holds_keys else value
    return document


def header_document(trace: Trace, *, with_tasks: bool = True) -> dict[str, Any]:
    """Everything but the records (``with_tasks``: the graph's tasks too)."""
    graph: dict[str, Any] | None = None
    if trace.graph is not None:
        graph = {"source": trace.graph.source}
        if with_tasks:
            graph["tasks"] = [task_document(task) for task in trace.graph.tasks.values()]
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "metadata": trace.metadata.model_dump(mode="json"),
        "graph": graph,
    }


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, _WRITE_BATCH)):
        yield batch


def write_trace(trace: Trace, kind: str, stream: IO[bytes], *, can_seek: bool = False) -> int:
    """Write ``trace`` as ``jsonl``, ``json`` or ``msgpack``, streaming; returns the number of transitions.

    Transitions are read once, as they are written: a streamed input stays streamed. msgpack
    writes an array's length first: when the input does not know it (a stream), it is filled
    in afterwards if ``can_seek`` (a file replay opened itself), else counted in a first pass.
    """
    if kind == "msgpack":
        try:
            return _write_msgpack(trace, stream, can_seek=can_seek)
        except OverflowError:
            raise UnreadableInputError(
                trace.metadata.path, "an integer beyond 64 bits cannot be written as msgpack: use --to jsonl"
            ) from None
    if kind == "jsonl":
        return _write_jsonl(trace, stream)
    return _write_json(trace, stream)


def _write_jsonl(trace: Trace, stream: IO[bytes]) -> int:
    write = stream.write
    write(_encode(header_document(trace, with_tasks=False)).encode() + b"\n")
    if trace.graph is not None:
        for tasks in _batches(trace.graph.tasks.values()):
            write("".join([f'{{"task":{_encode(task_document(task))}}}\n' for task in tasks]).encode())
    for records in _batches(trace.worker_records):
        write("".join([f'{{"worker_record":{_encode(worker_record_fields(r))}}}\n' for r in records]).encode())
    count = 0
    for transitions in _batches(trace.iter_transitions()):
        write("".join([_encode(transition_array(t)) + "\n" for t in transitions]).encode())
        count += len(transitions)
    return count


def _write_json(trace: Trace, stream: IO[bytes]) -> int:
    """One JSON document, one record a line (written as it goes)."""
    write = stream.write
    header = json.dumps(header_document(trace), default=repr)
    write(header[:-1].encode() + b',\n"worker_records": [')
    separator = "\n"
    for records in _batches(trace.worker_records):
        write((separator + ",\n".join([_encode(worker_record_fields(r)) for r in records])).encode())
        separator = ",\n"
    write(b'\n],\n"transitions": [')
    separator = "\n"
    count = 0
    for transitions in _batches(trace.iter_transitions()):
        write((separator + ",\n".join([_encode(transition_array(t)) for t in transitions])).encode())
        separator = ",\n"
        count += len(transitions)
    write(b"\n]}\n")
    return count


def _write_msgpack(trace: Trace, stream: IO[bytes], *, can_seek: bool) -> int:
    packer = msgpack.Packer(use_bin_type=True, autoreset=False, default=repr)  # packs into its buffer
    pack = packer.pack

    def flush() -> None:
        stream.write(packer.bytes())
        packer.reset()

    header = header_document(trace)
    packer.pack_map_header(len(header) + 2)
    for name, value in header.items():
        pack(name)
        pack(value)
    pack("worker_records")
    packer.pack_array_header(len(trace.worker_records))
    for records in _batches(trace.worker_records):
        for record in records:
            pack(worker_record_fields(record))
        flush()
    pack("transitions")
    transitions = trace.transitions
    declared = len(transitions) if isinstance(transitions, Sized) else None
    position: int | None = None
    if declared is None and can_seek:
        flush()
        position = stream.tell()
        stream.write(b"\xdd\0\0\0\0")  # an array header of 4 length bytes, filled in below
    else:
        if declared is None:
            declared = sum(1 for _ in trace.iter_transitions())
        packer.pack_array_header(declared)
    count = 0
    for batch in _batches(trace.iter_transitions()):
        for transition in batch:
            pack(transition)  # a NamedTuple packs as an array, its recommendations as a map
        flush()
        count += len(batch)
    flush()
    if position is not None:
        end = stream.tell()
        stream.seek(position + 1)
        stream.write(count.to_bytes(4, "big"))
        stream.seek(end)
    elif count != declared:
        raise UnreadableInputError(trace.metadata.path, f"changed while read: {declared} transitions, then {count}")
    return count


# ---------------------------------------------------------------------------------- reading


def is_native_header(value: Any) -> bool:
    """Whether a decoded JSON/msgpack object is a replay-trace document or JSONL header."""
    return isinstance(value, dict) and value.get("format") == FORMAT_NAME


def header_version(header: dict[str, Any], path: str) -> int:
    """The document's version, if this replay reads it."""
    version = header.get("version", 1)
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise UnreadableInputError(
            path, f"replay-trace version {version!r:.40}: this replay reads versions {READABLE_VERSIONS[0]} to {READABLE_VERSIONS[-1]}"
        )
    return version


def transition_row(document: Any) -> list[Any]:
    """A version 1 transition object back into the raw 6-field entry the record validator takes."""
    if not isinstance(document, dict):
        raise KeyError_(f"a transition must be an object, not {type(document).__name__}")
    pairs = document.get("recommendations", [])
    if not isinstance(pairs, list | tuple) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in pairs):
        raise KeyError_("recommendations must be a list of [key, state] pairs")
    recommendations = {canonical_key(key): state for key, state in pairs}
    return [
        document.get("key"),
        document.get("start"),
        document.get("finish"),
        recommendations,
        document.get("stimulus_id"),
        document.get("timestamp"),
    ]


def transition_rows(documents: Iterable[Any], path: str) -> Iterator[list[Any]]:
    """Version 1 transition objects as raw entries, a bad one named by its index."""
    for index, document in enumerate(documents):
        try:
            yield transition_row(document)
        except KeyError_ as error:
            raise UnreadableInputError(path, f"entry {index}: {error}") from None


_ROW_SHAPE = "a transition is a list of 6 fields [key, start, finish, recommendations, stimulus_id, timestamp]"
_PAIRS = "recommendations must be a list of [key, state] pairs"


def json_rows(documents: Iterable[Any], path: str) -> Iterator[tuple[Any, ...]]:
    """Version 2 JSON transitions as 6-tuples for :func:`scheduler_transition_batches`."""
    for index, document in enumerate(documents):
        yield json_row(document, index, path)


def json_row(document: Any, index: int, path: str) -> tuple[Any, ...]:
    """One version 2 JSON transition as a 6-tuple. Only its arrays become tuples and its
    pairs a map: :func:`scheduler_transition_batches` checks every field."""
    if type(document) is not list or len(document) != 6:
        raise UnreadableInputError(path, f"entry {index}: {_ROW_SHAPE}")
    key, start, finish, pairs, stimulus_id, timestamp = document
    if type(key) is list:
        key = tuple(key)  # nested arrays: made canonical by the validator's slow path
    if type(pairs) is not list:
        raise UnreadableInputError(path, f"entry {index}: {_PAIRS}")
    recommendations = {}
    try:
        for pair in pairs:
            if type(pair) is not list or len(pair) != 2:
                raise UnreadableInputError(path, f"entry {index}: {_PAIRS}")
            other, state = pair
            recommendations[tuple(other) if type(other) is list else other] = state
    except TypeError:  # a nested array key (unhashable as a tuple of lists)
        recommendations = _canonical_pairs(pairs, index, path)
    return (key, start, finish, recommendations, stimulus_id, timestamp)


def _canonical_pairs(pairs: list[Any], index: int, path: str) -> dict[Any, Any]:
    try:
        return {canonical_key(other): state for other, state in pairs}
    except (KeyError_, TypeError) as error:
        raise UnreadableInputError(path, f"entry {index}: {error}") from None


def transition_records(rows: Iterable[Any], version: int, path: str, *, decoded: str) -> Iterator[list[SchedulerTransition]]:
    """Validated transitions of a native document, a batch at a time. ``decoded`` says from
    what: ``msgpack`` rows are entries as they are, ``json`` rows arrays with pairs."""
    if version == 1:
        return scheduler_transition_batches(transition_rows(rows, path), path)
    if decoded == "json":
        return scheduler_transition_batches(json_rows(rows, path), path)
    return scheduler_transition_batches(rows, path)


# header -------------------------------------------------------------------------------

_METADATA_TYPES: dict[str, Callable[[Any], bool]] = {
    "format": lambda value: type(value) is str,
    "distributed_version": lambda value: value is None or type(value) is str,
    "scheduler_address": lambda value: value is None or type(value) is str,
    "worker_addresses": lambda value: type(value) in (list, tuple) and all(type(item) is str for item in value),
    "transition_counter": lambda value: value is None or type(value) is int,
    "entry_fields": lambda value: value is None or type(value) is int,
    "stringified_keys": lambda value: type(value) is bool,
}


def _metadata(fields: Any, path: str) -> TraceMetadata:
    """The header's metadata (the path is where it was read from now). Checked here; pydantic
    only names what is wrong, so that reading an export builds no validator."""
    if isinstance(fields, dict) and "format" in fields and all(
        name == "path" or (name in _METADATA_TYPES and _METADATA_TYPES[name](value)) for name, value in fields.items()
    ):
        checked = {**fields, "path": path}
        if "worker_addresses" in checked:
            checked["worker_addresses"] = tuple(checked["worker_addresses"])
        return TraceMetadata.checked(**checked)
    return TraceMetadata.model_validate({**(fields if isinstance(fields, dict) else {}), "path": path})


def _names(value: Any) -> bool:
    return type(value) in (list, tuple) and all(type(item) is str for item in value)


def _task(document: Any) -> TaskRecord:
    """One exported task, keys made canonical; checked here, validated by pydantic only to say what is wrong."""
    key = canonical_key(document["key"])
    fields: dict[str, Any] = {
        "key": key,
        "state": document["state"],
        "dependencies": tuple(canonical_key(k) for k in document.get("dependencies", ())),
        "dependents": tuple(canonical_key(k) for k in document.get("dependents", ())),
    }
    plain = type(fields["state"]) is str
    for name, holds_keys in _BOOKKEEPING.items():
        if name in document:
            value = document[name]
            if holds_keys:
                fields[name] = tuple(canonical_key(k) for k in value)
            else:
                fields[name] = tuple(value) if type(value) in (list, tuple) else value
                plain = plain and (value is None or (type(value) is str if name == "processing_on" else _names(value)))
    if plain:
        return TaskRecord.model_construct(**fields)
    return TaskRecord(**fields)


def graph_of(graph: Any, tasks: Iterable[Any], path: str) -> TaskGraph | None:
    """The graph of a header's ``graph`` and task documents."""
    if not isinstance(graph, dict):
        return None
    records = {}
    for index, document in enumerate(tasks):
        try:
            record = _task(document)
        except ValidationError as error:
            detail = error.errors()[0]
            where = ".".join(str(part) for part in detail["loc"])
            raise UnreadableInputError(path, f"bad replay-trace task {index}: {where}: {detail['msg']}") from None
        except (KeyError_, KeyError, TypeError, AttributeError) as error:
            raise UnreadableInputError(path, f"bad replay-trace task {index}: {error}".splitlines()[0]) from None
        records[record.key] = record
    source = graph.get("source", "dump")
    if type(source) is not str:
        raise UnreadableInputError(path, "bad replay-trace header: graph.source: not a string")
    return TaskGraph.model_construct(source=source, tasks=records)


def header_parts(header: dict[str, Any], path: str) -> tuple[TraceMetadata, TaskGraph | None]:
    """Metadata and graph of a native header whose graph holds its tasks (msgpack, JSON, version 1)."""
    try:
        metadata = _metadata(header.get("metadata", {}), path)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise UnreadableInputError(path, f"bad replay-trace header: {where}: {detail['msg']}") from None
    graph = header.get("graph")
    tasks = graph.get("tasks", ()) if isinstance(graph, dict) else ()
    if not isinstance(tasks, list | tuple):
        raise UnreadableInputError(path, "bad replay-trace header: graph.tasks: not a list")
    return metadata, graph_of(graph, tasks, path)


# worker records ---------------------------------------------------------------------------


def _worker_record_from(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise KeyError_("a worker record must be an object")
    fields = dict(document)
    if fields.get("key") is not None:
        fields["key"] = canonical_key(fields["key"])
    if "keys" in fields:
        fields["keys"] = tuple(canonical_key(key) for key in fields["keys"])
    if "recommendations" in fields:
        fields["recommendations"] = {canonical_key(k): v for k, v in fields["recommendations"]}
    if "raw" in fields:
        fields["raw"] = tuple(fields["raw"])
    return fields


def worker_records_from(documents: Iterable[Any], path: str) -> tuple[WorkerRecord, ...]:
    """Worker records of a native document."""
    try:
        return tuple(worker_records_adapter().validate_python([_worker_record_from(d) for d in documents]))
    except (ValidationError, KeyError_, TypeError, ValueError) as error:
        raise UnreadableInputError(path, f"bad worker record: {error}".splitlines()[0]) from None


def worker_kind(document: Any, index: int, path: str) -> str:
    """The kind a worker record declares (what ``replay info`` counts; its fields are not read)."""
    kind = document.get("kind") if isinstance(document, dict) else None
    if kind not in WORKER_KINDS:
        raise UnreadableInputError(path, f"bad worker record {index}: no kind of {sorted(WORKER_KINDS)}")
    return kind  # type: ignore[no-any-return]


def count_kinds(documents: Iterable[Any], path: str) -> Counts:
    """How many worker records, and how many unrecognised, by the kind each declares."""
    total = unrecognised = 0
    for document in documents:
        unrecognised += worker_kind(document, total, path) == "unrecognised"
        total += 1
    return total, unrecognised


def worker_part(documents: Iterable[Any], mode: WorkerMode, path: str) -> tuple[tuple[WorkerRecord, ...], Counts | None]:
    """Worker records as ``mode`` asks: built, counted, or neither."""
    if mode == "records":
        return worker_records_from(documents, path), None
    if mode == "count":
        return (), count_kinds(documents, path)
    return (), None


# whole documents (JSON, and msgpack of another key order) ---------------------------------


def trace_from_document(
    document: dict[str, Any], path: str, format_name: str, workers: WorkerMode = "records"
) -> tuple[Trace, Counts | None]:
    """A whole native document (JSON or msgpack) as a trace."""
    version = header_version(document, path)
    metadata, graph = header_parts(document, path)
    metadata = metadata.model_copy(update={"format": format_name})
    raw = document.get("transitions", [])
    if not isinstance(raw, list | tuple):
        raise UnreadableInputError(path, "'transitions' must be a list")
    decoded = "json" if format_name == "replay-json" else "msgpack"
    transitions = tuple(chain.from_iterable(transition_records(raw, version, path, decoded=decoded)))
    documents = document.get("worker_records", [])
    if not isinstance(documents, list | tuple):
        raise UnreadableInputError(path, "'worker_records' must be a list")
    records, counts = worker_part(documents, workers, path)
    return Trace(metadata=metadata, transitions=transitions, worker_records=records, graph=graph), counts


# msgpack, streamed -----------------------------------------------------------------------


def read_msgpack(path: Path, limits: Limits, workers: WorkerMode) -> tuple[Trace, Counts | None] | None:
    """A msgpack export whose first field is ``format``: header (and worker records as
    ``workers`` asks) read now, transitions streamed each time they are iterated.
    None when the document is not a replay trace after all."""
    name = str(path)
    header: dict[str, Any] = {}
    records: tuple[WorkerRecord, ...] = ()
    counts: Counts | None = None
    cursor = MsgpackCursor(path, limits)
    try:
        wanted = {*HEADER_FIELDS, *(("worker_records",) if workers != "skip" else ())}
        for _ in range(cursor.map_header()):
            field = cursor.value()
            if field == "format" and not header:
                header[field] = cursor.value()
                if header[field] != FORMAT_NAME:
                    return None
            elif field == "worker_records" and field in wanted:
                documents = _array(cursor, "the export's worker_records")
                records, counts = worker_part(documents, workers, name)
            elif field in HEADER_FIELDS:
                header[field] = cursor.value()
            else:
                cursor.skip()  # the transitions (read when iterated), or a field replay does not know
            if type(field) is str:
                wanted.discard(field)
                if not wanted:
                    break
    finally:
        cursor.close()
    version = header_version(header, name)
    metadata, graph = header_parts(header, name)
    metadata = metadata.model_copy(update={"format": "replay-msgpack"})
    if workers == "count" and counts is None:
        counts = (0, 0)
    stream = NativeMsgpackStream(path, limits, version)
    return Trace(metadata=metadata, transitions=stream, worker_records=records, graph=graph), counts


def _array(cursor: MsgpackCursor, what: str) -> Iterator[Any]:
    """The values of the array that comes next, decoded as they are asked for."""
    count = cursor.array_header(what)
    items = cursor.items(count)
    read = 0
    with cursor.translating_errors():
        for read, value in enumerate(items, 1):  # noqa: B007 - read is the count
            yield value
    cursor.check_complete(count, read)


class NativeMsgpackStream:
    """The transitions of a msgpack export, validated in batches each time they are iterated."""

    def __init__(self, path: Path, limits: Limits, version: int) -> None:
        self.path = path
        self.limits = limits
        self.version = version

    def __iter__(self) -> Iterator[SchedulerTransition]:
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[SchedulerTransition]]:
        name = str(self.path)
        cursor = MsgpackCursor(self.path, self.limits)
        try:
            seen = False
            for _ in range(cursor.map_header()):
                if cursor.value() != "transitions" or seen:
                    cursor.skip()
                    continue
                seen = True
                count = cursor.array_header("the export's transitions")
                read = 0
                with cursor.translating_errors():
                    for batch in transition_records(cursor.items(count), self.version, name, decoded="msgpack"):
                        read += len(batch)
                        yield batch
                cursor.check_complete(count, read)
            if not cursor.at_end():
                raise UnreadableInputError(name, "extra data after the document", offset=cursor.unpacker.tell())
        finally:
            cursor.close()


# JSON Lines, streamed --------------------------------------------------------------------

#: A worker record line as replay writes it, up to its kind.
_WORKER_LINE = re.compile(rb'\{"worker_record": ?\{"kind": ?"([a-z-]+)"')
#: json's own scanner: one value from a position, without ``json.loads``'s checks around it.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
#: What each line of a version 2 export is, in the order they come.
_TASK, _WORKER, _TRANSITION = 0, 1, 2
_LINE_NAMES = {_TASK: "task", _WORKER: "worker_record", _TRANSITION: "transition"}
#: Bytes read at a time.
_BLOCK = 1 << 20


class JsonLinesExport:
    """A version 2 JSON Lines export, read from its start each time it is iterated.

    Lines are told apart by their first bytes (``[`` a transition, ``{"task"`` and
    ``{"worker_record"`` the others, in that order after the header), so that reading the
    transitions skips the rest unparsed.
    """

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def _blocks(self) -> Generator[list[bytes], None, None]:
        """The lines (without their newline), a block of them at a time; one longer than
        the text limit is refused."""
        stream, _ = open_bytes(self.path, self.limits)
        limit = self.limits.max_text_bytes
        number = 0
        pending: list[bytes] = []
        pending_size = 0
        with stream:
            while block := stream.read(_BLOCK):
                pending.append(block)
                pending_size += len(block)
                if b"\n" in block:
                    lines = b"".join(pending).split(b"\n")
                    last = lines.pop()
                    pending, pending_size = [last], len(last)
                    if max(map(len, lines)) > limit:
                        too_long = next(i for i, line in enumerate(lines) if len(line) > limit)
                        raise LimitExceededError(str(self.path), f"line {number + too_long + 1} is longer than the text limit")
                    number += len(lines)
                    yield lines
                if pending_size > limit:
                    raise LimitExceededError(str(self.path), f"line {number + 1} is longer than the text limit")
        if pending_size:
            yield [b"".join(pending)]

    def lines(self) -> Generator[tuple[int, bytes], None, None]:
        """``(number, line)`` of every line that is not blank, numbered from 1; the header first."""
        number = 0
        for lines in self._blocks():
            for line in lines:
                number += 1
                if line[:1] in b"{[" or line.strip():
                    yield number, line

    def decode(self, number: int, line: bytes) -> Any:
        """One line's JSON value, or one clear error naming the line."""
        try:
            text = line.decode("utf-8")
            value, end = _scan(text, 0)
            if end == len(text) or not text[end:].strip():
                return value
        except (StopIteration, ValueError):  # a leading blank or a BOM, or not JSON: json says what
            pass
        except RecursionError:
            raise LimitExceededError(str(self.path), f"line {number} nested too deeply") from None
        try:
            return json.loads(line)
        except RecursionError:
            raise LimitExceededError(str(self.path), f"line {number} nested too deeply") from None
        except ValueError as error:
            raise UnreadableInputError(str(self.path), f"line {number}: not JSON ({error.args[0]})") from None

    def _kind(self, number: int, line: bytes) -> tuple[int, Any]:
        """What a line is, and its value when it had to be decoded to tell (None when not)."""
        if line[:1] == b"[":
            return _TRANSITION, None
        if line.startswith(b'{"worker_record"'):
            return _WORKER, None
        if line.startswith(b'{"task"'):
            return _TASK, None
        value = self.decode(number, line)
        if isinstance(value, dict) and len(value) == 1:
            if "task" in value:
                return _TASK, value
            if "worker_record" in value:
                return _WORKER, value
        return _TRANSITION, value  # a transition written otherwise, or not one: the row check says

    def _in_order(self, number: int, kind: int, stage: int) -> int:
        if kind < stage:
            raise UnreadableInputError(
                str(self.path), f"line {number}: a {_LINE_NAMES[kind]} line after the {_LINE_NAMES[stage]} lines"
            )
        return kind

    def trace(self, workers: WorkerMode) -> tuple[Trace, Counts | None]:
        """The export as a trace: header, graph, and worker records as ``workers`` asks read
        now, in a first pass that stops at the first transition (at the first worker record
        when they are skipped); the transitions streamed each time they are iterated."""
        name = str(self.path)
        tasks: list[Any] = []
        documents: list[Any] = []
        total = unrecognised = 0
        with closing(self.lines()) as lines:
            first = next(lines, None)
            header = self.decode(*first) if first is not None else None
            if not isinstance(header, dict) or not is_native_header(header):
                raise UnreadableInputError(name, "line 1: not a replay-trace header")
            stage = _TASK
            for number, line in lines:
                kind, value = self._kind(number, line)
                stage = self._in_order(number, kind, stage)
                if kind == _TRANSITION or (kind == _WORKER and workers == "skip"):
                    break
                if kind == _TASK:
                    tasks.append(self._field(number, line, value, "task"))
                    continue
                match = _WORKER_LINE.match(line) if workers == "count" and value is None else None
                if match is not None:
                    kind_name = worker_kind({"kind": match.group(1).decode()}, total, name)
                else:
                    document = self._field(number, line, value, "worker_record")
                    kind_name = worker_kind(document, total, name)
                    documents.append(document)
                total += 1
                unrecognised += kind_name == "unrecognised"
        metadata, _ = header_parts({**header, "graph": None}, name)
        graph = graph_of(header.get("graph"), tasks, name)
        records = worker_records_from(documents, name) if workers == "records" else ()
        trace = Trace(
            metadata=metadata.model_copy(update={"format": "replay-jsonl"}),
            transitions=self,
            worker_records=records,
            graph=graph,
        )
        return trace, (total, unrecognised) if workers == "count" else None

    def _field(self, number: int, line: bytes, value: Any, field: str) -> Any:
        document = self.decode(number, line) if value is None else value
        if not isinstance(document, dict) or set(document) != {field}:
            raise UnreadableInputError(str(self.path), f"line {number}: not a {field} line")
        return document[field]

    def __iter__(self) -> Iterator[SchedulerTransition]:
        return chain.from_iterable(scheduler_transition_batches(self._rows(), str(self.path)))

    def _rows(self) -> Iterator[tuple[Any, ...]]:
        """Every transition as a 6-tuple (:func:`json_row`); the header, task and worker record
        lines skipped unparsed, their order checked. One loop: this is the hot path."""
        path = str(self.path)
        number = index = 0
        stage = _TASK
        header = True
        for lines in self._blocks():
            for line in lines:
                number += 1
                if line[:1] == b"[":
                    try:
                        text = line.decode("utf-8")
                        value, end = _scan(text, 0)
                        if end != len(text) and text[end:].strip():
                            value = self.decode(number, line)
                    except (StopIteration, ValueError, RecursionError):
                        value = self.decode(number, line)  # says what is wrong
                    stage = _TRANSITION
                    yield json_row(value, index, path)
                    index += 1
                    continue
                if not line.strip():
                    continue
                if header:  # read by trace()
                    header = False
                    continue
                kind, value = self._kind(number, line)
                stage = self._in_order(number, kind, stage)
                if kind == _TRANSITION:
                    yield json_row(self.decode(number, line) if value is None else value, index, path)
                    index += 1
