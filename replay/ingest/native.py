"""replay's own normalised trace format (what ``replay convert`` writes), read and written.

One document: ``{"format": "replay-trace", "version": 1, "metadata": ..., "graph": ...,
"transitions": [...], "worker_records": [...]}`` as JSON or msgpack; as JSON Lines the
header comes first and each following line holds one transition or worker record.
Keys are JSON values (arrays for tuples); recommendations are ``[key, state]`` pairs,
so nothing is lost to JSON's string-only map keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import msgpack
from pydantic import ValidationError

from replay.errors import UnreadableInputError
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
from replay.ingest.records import scheduler_transitions
from replay.keys import key_to_json

FORMAT_NAME = "replay-trace"
FORMAT_VERSION = 1


def _json_value(value: Any) -> Any:
    """Records' fields as JSON-safe values (tuples as arrays, maps with tuple keys as pairs)."""
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return [[key_to_json(key), _json_value(item)] for key, item in value.items()]
    return value


def transition_document(transition: SchedulerTransition) -> dict[str, Any]:
    """One transition as a JSON object."""
    return {
        "key": key_to_json(transition.key),
        "start": transition.start,
        "finish": transition.finish,
        "recommendations": [[key_to_json(key), state] for key, state in transition.recommendations.items()],
        "stimulus_id": transition.stimulus_id,
        "timestamp": transition.timestamp,
    }


def worker_record_document(record: WorkerRecord) -> dict[str, Any]:
    """One worker record as a JSON object."""
    document = {name: _json_value(getattr(record, name)) for name in type(record).model_fields}
    return {"worker_record": document}


#: The task table's bookkeeping fields, and whether each holds keys (else names).
_BOOKKEEPING = {"who_wants": False, "waiters": True, "waiting_on": True, "processing_on": False, "who_has": False}


def _bookkeeping_document(task: TaskRecord) -> dict[str, Any]:
    """The bookkeeping fields a task record carries, as JSON (absent ones left out)."""
    document: dict[str, Any] = {}
    for name, holds_keys in _BOOKKEEPING.items():
        value = getattr(task, name)
        if value is not None:
            document[name] = [key_to_json(key) for key in value] if holds_keys else value
    return document


def _bookkeeping_fields(task: dict[str, Any]) -> dict[str, Any]:
    """The bookkeeping fields of an exported task record, keys made canonical."""
    fields: dict[str, Any] = {}
    for name, holds_keys in _BOOKKEEPING.items():
        if name in task:
            value = task[name]
            fields[name] = tuple(canonical_key(key) for key in value) if holds_keys else value
    return fields


def header_document(trace: Trace) -> dict[str, Any]:
    """Everything but the records."""
    graph = None
    if trace.graph is not None:
        graph = {
            "source": trace.graph.source,
            "tasks": [
                {
                    "key": key_to_json(task.key),
                    "state": task.state,
                    "dependencies": [key_to_json(key) for key in task.dependencies],
                    "dependents": [key_to_json(key) for key in task.dependents],
                    **_bookkeeping_document(task),
                }
                for task in trace.graph.tasks.values()
            ],
        }
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "metadata": trace.metadata.model_dump(mode="json"),
        "graph": graph,
    }


def write_trace(trace: Trace, kind: str, stream: IO[bytes]) -> int:
    """Write ``trace`` as ``jsonl``, ``json`` or ``msgpack``; returns the number of transitions."""
    header = header_document(trace)
    count = 0
    if kind == "jsonl":
        stream.write(json.dumps(header).encode() + b"\n")
        for record in trace.worker_records:
            stream.write(json.dumps(worker_record_document(record)).encode() + b"\n")
        for transition in trace.iter_transitions():
            stream.write(json.dumps(transition_document(transition)).encode() + b"\n")
            count += 1
        return count
    transitions = [transition_document(transition) for transition in trace.iter_transitions()]
    document = {
        **header,
        "transitions": transitions,
        "worker_records": [worker_record_document(r)["worker_record"] for r in trace.worker_records],
    }
    if kind == "json":
        stream.write(json.dumps(document, indent=1).encode() + b"\n")
    else:
        stream.write(msgpack.packb(document, use_bin_type=True))
    return len(transitions)


def is_native_header(value: Any) -> bool:
    """Whether a decoded JSON/msgpack object is a replay-trace document or JSONL header."""
    return isinstance(value, dict) and value.get("format") == FORMAT_NAME


def transition_row(document: Any) -> list[Any]:
    """A transition object back into the raw 6-field entry the record validator takes."""
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


def header_parts(header: dict[str, Any], path: str) -> tuple[TraceMetadata, TaskGraph | None]:
    """Metadata and graph of a native header (the path is where it was read from now)."""
    try:
        metadata = TraceMetadata.model_validate({**header.get("metadata", {}), "path": path})
        graph = None
        if isinstance(header.get("graph"), dict):
            tasks = {}
            for task in header["graph"].get("tasks", []):
                record = TaskRecord(
                    key=canonical_key(task["key"]),
                    state=task["state"],
                    dependencies=tuple(canonical_key(k) for k in task.get("dependencies", [])),
                    dependents=tuple(canonical_key(k) for k in task.get("dependents", [])),
                    **_bookkeeping_fields(task),
                )
                tasks[record.key] = record
            graph = TaskGraph(source=header["graph"].get("source", "dump"), tasks=tasks)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise UnreadableInputError(path, f"bad replay-trace header: {where}: {detail['msg']}") from None
    except (KeyError_, KeyError, TypeError, AttributeError) as error:
        raise UnreadableInputError(path, f"bad replay-trace header: {error}".splitlines()[0]) from None
    return metadata, graph


def worker_records_from(documents: Iterable[Any], path: str) -> tuple[WorkerRecord, ...]:
    """Worker records of a native document."""
    try:
        return tuple(worker_records_adapter().validate_python([_worker_record_from(d) for d in documents]))
    except (ValidationError, KeyError_, TypeError, ValueError) as error:
        raise UnreadableInputError(path, f"bad worker record: {error}".splitlines()[0]) from None


def trace_from_document(document: dict[str, Any], path: str, format_name: str) -> Trace:
    """A whole native document (JSON or msgpack) as a trace."""
    metadata, graph = header_parts(document, path)
    metadata = metadata.model_copy(update={"format": format_name})
    raw = document.get("transitions", [])
    if not isinstance(raw, list | tuple):
        raise UnreadableInputError(path, "'transitions' must be a list")
    transitions = tuple(scheduler_transitions(transition_rows(raw, path), path))
    return Trace(
        metadata=metadata,
        transitions=transitions,
        worker_records=worker_records_from(document.get("worker_records", []), path),
        graph=graph,
    )


def transition_rows(documents: Iterable[Any], path: str) -> Iterator[list[Any]]:
    """Transition objects as raw entries, a bad one named by its index."""
    for index, document in enumerate(documents):
        try:
            yield transition_row(document)
        except KeyError_ as error:
            raise UnreadableInputError(path, f"entry {index}: {error}") from None
