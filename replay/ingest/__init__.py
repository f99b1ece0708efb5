"""Read any supported input into a :class:`~replay.events.Trace`, choosing the reader by content.

Formats (the ``format`` names shown by ``replay info``):

=====================  ==========================================================
``log-msgpack``        a bare ``transition_log`` or ``Scheduler.story`` as msgpack
``log-json``           the same as a JSON list
``log-jsonl``          the same as JSON Lines, one entry a line
``client-story-*``     ``Client.story`` (entries prefixed with their source)
``dump-msgpack``       ``Client.dump_cluster_state`` ``.msgpack.gz``
``dump-yaml``          ``Client.dump_cluster_state`` ``.yaml`` (safe loading only)
``story-text``         a story pasted from a terminal or CI log
``replay-*``           replay's own normalised export (``replay convert``)
``recording``          a directory written by :mod:`replay.record` (segments in order, streamed)
=====================  ==========================================================
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from replay.errors import LimitExceededError, UnreadableInputError
from replay.events import SchedulerTransition, Trace, TraceMetadata, WorkerRecord
from replay.ingest import native
from replay.ingest.dump import trace_from_dump
from replay.ingest.keys import KeyError_, canonical_key, canonical_recommendations
from replay.ingest.limits import DEFAULT_LIMITS, Limits, open_bytes, read_head, read_text_bytes
from replay.ingest.msgpack_reader import MsgpackCursor, first_byte_kind, read_dump_parts
from replay.ingest.native import WorkerMode
from replay.ingest.records import (
    EVENT_FIRST_TAGS,
    KEY_FIRST_TAGS,
    entry_fields,
    scheduler_transition_batches,
    scheduler_transitions,
    worker_record,
)
from replay.ingest.text import TextLimitError, entries_from_text

__all__ = ["DEFAULT_LIMITS", "Limits", "WorkerRecordCounts", "detect_format", "open_trace", "open_trace_counting_workers"]

_PICKLE_PROTOCOLS = frozenset(range(2, 6))


def detect_format(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """The reader for ``path``, decided from its content (the name is never trusted)."""
    if not path.exists():
        raise UnreadableInputError(str(path), "no such file")
    if path.is_dir():
        from replay.ingest.recording import is_recording

        if is_recording(path):
            return "recording"
        raise UnreadableInputError(str(path), "is a directory, not a trace file")
    head, compressed = read_head(path, limits)
    if not head:
        raise UnreadableInputError(str(path), "empty file" if not compressed else "empty after gunzip")
    if head[0] == 0x80 and len(head) > 1 and head[1] in _PICKLE_PROTOCOLS:
        raise UnreadableInputError(str(path), "pickle data: replay never unpickles input")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableInputError(str(path), "UTF-16 text: save it as UTF-8")
    text = _as_text(head)
    if text is not None:
        stripped = text.lstrip("\ufeff \t\r\n")
        if not stripped:
            raise UnreadableInputError(str(path), "no content (only white space)")
        first = stripped[0]
        if first in "{[" and "\n" in stripped.strip() and _first_line_is_json(stripped):
            return "jsonl"
        if first == "{" and "\n" not in stripped and len(head) == _HEAD_SIZE and _long_first_line_is_json(path, limits):
            return "jsonl"  # a first line longer than the head: a JSON Lines header with a long list
        if first == "{":
            return "json"
        if first == "[":
            return "json-or-text"
        if _looks_like_yaml_dump(stripped):
            return "yaml"
        return "text"
    kind = first_byte_kind(head)
    if kind in ("array", "map"):
        return "msgpack"
    raise UnreadableInputError(str(path), "unrecognised binary content (not msgpack, gzip, JSON, YAML or text)")


def _as_text(head: bytes) -> str | None:
    """The head as text if it reads as UTF-8 text (the last character may be cut)."""
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:
            return None
        text = head[: error.start].decode("utf-8")
    printable = sum(1 for char in text if char.isprintable() or char in "\r\n\t")
    return text if printable >= 0.95 * max(len(text), 1) else None


def _first_line_is_json(text: str) -> bool:
    line = text.split("\n", 1)[0]
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


#: Bytes :func:`read_head` reads.
_HEAD_SIZE = 4096


def _long_first_line_is_json(path: Path, limits: Limits) -> bool:
    """Whether the first line, read whole (up to the text limit), is JSON with more lines after it."""
    stream, _ = open_bytes(path, limits)
    with stream:
        line = stream.readline(limits.max_text_bytes + 1)
        rest = stream.read(4096)
    if len(line) > limits.max_text_bytes or not rest.strip():
        return False
    return _first_line_is_json(line.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n"))


def _looks_like_yaml_dump(text: str) -> bool:
    return any(text.startswith(name) for name in ("scheduler:", "versions:", "workers:", "---"))


@dataclass(frozen=True, slots=True)
class WorkerRecordCounts:
    """How many worker records an input holds, and how many of a shape replay does not recognise."""

    total: int = 0
    unrecognised: int = 0


#: What a reader returns: the trace, and its worker records counted when asked (mode "count").
_Read = tuple[Trace, WorkerRecordCounts | None]


def open_trace(path: Path | str, limits: Limits = DEFAULT_LIMITS, *, worker_logs: bool = False) -> Trace:
    """Read ``path`` into a trace. Bare msgpack logs, JSON Lines and replay's msgpack export
    are streamed, not held.

    ``worker_logs`` also reads the workers' side: their logs, from dumps, client stories and
    replay's export, as records, and a dump's worker states (``replay convert`` writes the
    records; replaying the scheduler wants neither, and without it no reader keeps them).
    """
    return _open(Path(path), limits, "records" if worker_logs else "skip")[0]


def open_trace_counting_workers(path: Path | str, limits: Limits = DEFAULT_LIMITS) -> tuple[Trace, WorkerRecordCounts]:
    """The trace without its worker records, and how many there are (what ``replay info`` shows).

    Costs little more than :func:`open_trace` without worker logs: no record is built. A
    dump's and a client story's entries are classified as :func:`worker_record` would (the
    usual shapes checked in place); replay's export says each record's kind, which is read
    and not checked further.
    """
    trace, counts = _open(Path(path), limits, "count")
    return trace, counts or WorkerRecordCounts()


def _open(path: Path, limits: Limits, workers: WorkerMode) -> _Read:
    kind = detect_format(path, limits)
    name = str(path)
    if kind == "recording":
        from replay.ingest.recording import open_recording

        return open_recording(path, limits), WorkerRecordCounts() if workers == "count" else None
    if kind == "msgpack":
        return _read_msgpack(path, limits, workers)
    if kind == "yaml":
        from replay.ingest.yaml_reader import load_yaml  # PyYAML loads only for YAML dumps

        return _dump_trace(load_yaml(path, limits), name, "dump-yaml", workers)
    if kind == "jsonl":
        return _read_jsonl(path, limits, workers)
    text = _read_text(path, limits)
    if kind == "json" or kind == "json-or-text":
        try:
            document = json.loads(text)
        except ValueError as error:
            if kind == "json":
                raise UnreadableInputError(name, f"not valid JSON: {_json_problem(error)}") from None
            try:
                return _read_story_text(text, name, limits, workers)
            except UnreadableInputError as text_error:
                if text_error.reason != _NO_ENTRIES:
                    raise
                raise UnreadableInputError(
                    name, f"neither valid JSON ({_json_problem(error)}) nor a text with transition entries"
                ) from None
        except RecursionError:
            raise LimitExceededError(name, "JSON nested too deeply (Python's recursion limit)") from None
        else:
            return _from_decoded(document, name, "json", workers)
    return _read_story_text(text, name, limits, workers)


_NO_ENTRIES = "no transition entries found in the text"


def _json_problem(error: ValueError) -> str:
    """``json``'s message, kept short: what and where (line, column)."""
    return str(error).splitlines()[0][:200]


def _read_text(path: Path, limits: Limits) -> str:
    return read_text_bytes(path, limits, "text").decode("utf-8", errors="replace").removeprefix("\ufeff")


def _from_decoded(document: Any, name: str, encoding: str, workers: WorkerMode) -> _Read:
    """A whole decoded JSON or msgpack document of any shape."""
    if native.is_native_header(document):
        trace, counts = native.trace_from_document(document, name, f"replay-{encoding}", workers)
        return trace, _counts(counts)
    if isinstance(document, dict):
        if "scheduler" in document:
            return _dump_trace(document, name, f"dump-{encoding}", workers)
        raise UnreadableInputError(name, "a map that is neither a cluster dump nor a replay trace")
    if isinstance(document, list | tuple):
        return _from_entries(list(document), name, encoding, workers=workers)
    raise UnreadableInputError(name, f"a {type(document).__name__} is not a trace")


def _counts(counts: native.Counts | None) -> WorkerRecordCounts | None:
    return None if counts is None else WorkerRecordCounts(*counts)


def _dump_trace(dump: Any, name: str, format_name: str, workers: WorkerMode) -> _Read:
    """A dump dict as a trace; unless records are wanted, the workers' logs are left out of
    it (and counted when asked)."""
    states = dump.get("workers") if isinstance(dump, dict) else None
    if workers == "records" or not isinstance(states, dict):
        return trace_from_dump(dump, name, format_name), WorkerRecordCounts() if workers == "count" else None
    counts = None
    if workers == "count":
        counts = count_worker_records(
            (str(address), state["log"])
            for address, state in states.items()
            if isinstance(state, dict) and isinstance(state.get("log"), list | tuple)
        )
    without_logs = {address: {} if isinstance(state, dict) else state for address, state in states.items()}
    return trace_from_dump({**dump, "workers": without_logs}, name, format_name), counts


def count_worker_records(logs: Iterable[tuple[str | None, Iterable[Any]]]) -> WorkerRecordCounts:
    """How many entries the ``(worker, log)`` pairs hold, and how many :func:`worker_record`
    does not recognise. The usual key-first event and worker transition are decided inline,
    by the dispatch of :func:`recognised`; everything else is left to it."""
    total = unrecognised = 0
    valid: set[Any] = set()
    numbered: set[Any] = set()
    for worker, log in logs:
        for raw in log:
            total += 1
            if type(raw) is tuple and len(raw) >= 2:
                key = raw[0]
                try:
                    valid_key = (type(key) is str and key not in EVENT_FIRST_TAGS) or (
                        type(key) is tuple
                        and (key in valid or (key in numbered and bool not in map(type, key)) or _valid_key(key, valid, numbered))
                    )
                except TypeError:  # unhashable
                    valid_key = False
                if valid_key:
                    second = raw[1]
                    if type(second) is str and second in KEY_FIRST_TAGS:
                        continue  # an event (key, TAG, ...) with a valid key
                    if len(raw) == 7:
                        _, start, requested, finish, recommendations, stimulus_id, timestamp = raw
                        if (
                            type(start) is str
                            and type(recommendations) is dict
                            and type(finish) is str
                            and (requested is None or type(requested) is str)
                            and (stimulus_id is None or type(stimulus_id) is str)
                            and (timestamp is None or type(timestamp) is float)
                            and (
                                not recommendations
                                or (all(map(_is_str, recommendations)) and all(map(_is_str, recommendations.values())))
                            )
                        ):
                            continue  # a worker transition with a valid key: string keys and states cannot fail
            if not recognised(raw, worker):
                unrecognised += 1
    return WorkerRecordCounts(total, unrecognised)


def _valid_key(key: tuple[Any, ...], valid: set[Any], numbered: set[Any]) -> bool:
    """Whether the tuple ``key`` is a valid key, remembered when it came canonical (a flat tuple
    of ints and plain strings): in ``valid`` when no part equals 0 or 1, so that no ``bool``
    could equal it; else in ``numbered``, found there only with no ``bool`` part (``1 == True``).
    The same sets as :func:`replay.ingest.records.scheduler_transition_batches` keeps."""
    try:
        canonical = canonical_key(key)
    except KeyError_:
        return False
    if canonical is key:
        (numbered if 0 in key or 1 in key else valid).add(key)
    return True


_is_str = str.__instancecheck__


def recognised(raw: Any, worker: str | None) -> bool:
    """Whether ``worker_record(raw, worker)`` is a record of a known kind.

    The usual shapes (a worker transition of 7 fields, an event of either layout) are
    decided here without building the record, by the same dispatch as
    :func:`replay.ingest.records.worker_record`, checking what could make that record fail
    (its keys, and a transition's field types); any other entry is built.
    """
    if (type(raw) is tuple or type(raw) is list) and len(raw) >= 2:
        first = raw[0]
        second = raw[1]
        try:
            if isinstance(first, str) and first in EVENT_FIRST_TAGS:
                keys = second if EVENT_FIRST_TAGS[first] == "keys" else raw[2] if len(raw) > 2 else ()
                if type(keys) is tuple or type(keys) is list:
                    for key in keys:
                        canonical_key(key)
                    return True
                if not isinstance(keys, list | tuple | set | frozenset):
                    canonical_key(keys)
                    return True
            elif isinstance(second, str) and second in KEY_FIRST_TAGS:
                canonical_key(first)
                return True
            elif (
                len(raw) == 7
                and type(raw[4]) is dict
                and type(second) is str
                and (raw[2] is None or type(raw[2]) is str)
                and type(raw[3]) is str
                and (raw[5] is None or type(raw[5]) is str)
                and (raw[6] is None or type(raw[6]) is float)
            ):
                canonical_key(first)
                canonical_recommendations(raw[4])
                return True
        except KeyError_:
            pass
    return worker_record(raw, worker).kind != "unrecognised"


def _is_client_story_entry(raw: Any) -> bool:
    return (
        isinstance(raw, list | tuple)
        and len(raw) >= 2
        and isinstance(raw[0], str)
        and (raw[0] == "scheduler" or "://" in raw[0])
    )


def _from_entries(
    entries: list[Any], name: str, encoding: str, log_format: str | None = None, *, workers: WorkerMode
) -> _Read:
    """A list of entries: a bare log (``log_format``, by default ``log-ENCODING``), a
    Scheduler.story, or a Client.story."""
    if entries and all(_is_client_story_entry(raw) for raw in entries[:50]):
        return _client_story(entries, name, encoding, workers)
    metadata = TraceMetadata.checked(
        path=name, format=log_format or f"log-{encoding}", entry_fields=entry_fields(entries)
    )
    trace = Trace(metadata=metadata, transitions=tuple(scheduler_transitions(entries, name)))
    return trace, WorkerRecordCounts() if workers == "count" else None


def _client_story(entries: list[Any], name: str, encoding: str, workers: WorkerMode) -> _Read:
    """Client.story: unsorted; scheduler entries first, then each worker's, each prefixed."""
    scheduler_entries = []
    records: list[WorkerRecord] = []
    addresses: dict[str, None] = {}
    total = unrecognised = 0
    for raw in entries:
        if not _is_client_story_entry(raw):
            raise UnreadableInputError(name, "a Client.story entry without its source prefix")
        if raw[0] == "scheduler":
            scheduler_entries.append(raw[1:])
            continue
        addresses[raw[0]] = None
        if workers == "records":
            records.append(worker_record(raw[1:], raw[0]))
        elif workers == "count":
            total += 1
            unrecognised += not recognised(raw[1:], raw[0])
    # The scheduler's part is in log order already; only worker parts need their timestamps.
    metadata = TraceMetadata.checked(
        path=name,
        format=f"client-story-{encoding}",
        worker_addresses=tuple(addresses),
        entry_fields=entry_fields(scheduler_entries),
    )
    trace = Trace(
        metadata=metadata,
        transitions=tuple(scheduler_transitions(scheduler_entries, name)),
        worker_records=tuple(records),
    )
    return trace, WorkerRecordCounts(total, unrecognised) if workers == "count" else None


def _read_story_text(text: str, name: str, limits: Limits, workers: WorkerMode) -> _Read:
    try:
        found = entries_from_text(text, max_depth=limits.max_depth)
    except TextLimitError as error:
        raise LimitExceededError(name, f"{error} (raise it with --max-depth)", offset=error.offset) from None
    if not found.entries:
        raise UnreadableInputError(name, _NO_ENTRIES)
    trace, counts = _from_entries(found.entries, name, "text", log_format="story-text", workers=workers)
    if not found.skipped:
        return trace, counts
    return replace(trace, notes=(f"{found.skipped} fragment(s) of the text did not parse and were skipped",)), counts


def _read_msgpack(path: Path, limits: Limits, workers: WorkerMode) -> _Read:
    name = str(path)
    kind, first = _peek_msgpack(path, limits)
    if kind == "map" and first in ("scheduler", "workers", "versions"):
        # counting needs only the workers' logs; records need the rest of their state too
        chosen = frozenset({"log"}) if workers == "count" else None
        parts = read_dump_parts(path, limits, worker_logs=workers != "skip", worker_fields=chosen)
        return _dump_trace(parts, name, "dump-msgpack", workers)
    if kind == "map" and first == "format":  # replay's export, as it writes it: streamed
        found = native.read_msgpack(path, limits, workers)
        if found is not None:
            return found[0], _counts(found[1])
    if kind == "map" or _is_client_story_entry(first):
        cursor = MsgpackCursor(path, limits)
        try:
            document = cursor.value()
        finally:
            cursor.close()
        if kind == "map":
            return _from_decoded(document, name, "msgpack", workers)
        return _client_story(list(document), name, "msgpack", workers)
    metadata = TraceMetadata.checked(
        path=name, format="log-msgpack", entry_fields=entry_fields((first,))
    )
    trace = Trace(metadata=metadata, transitions=MsgpackLogStream(path, limits))
    return trace, WorkerRecordCounts() if workers == "count" else None


def _peek_msgpack(path: Path, limits: Limits) -> tuple[str, Any]:
    """Whether the top value is a map or an array, and its first key or element (one open)."""
    cursor = MsgpackCursor(path, limits)
    try:
        kind = first_byte_kind(cursor.stream.peek(1)[:1])
        count = cursor.map_header() if kind == "map" else cursor.array_header()
        return kind, cursor.value() if count else None
    finally:
        cursor.close()


class MsgpackLogStream:
    """A bare msgpack log, validated in batches each time it is iterated; never held whole."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def __iter__(self) -> Iterator[SchedulerTransition]:
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[SchedulerTransition]]:
        cursor = MsgpackCursor(self.path, self.limits)
        try:
            count = cursor.array_header()
            read = 0
            with cursor.translating_errors():
                for batch in scheduler_transition_batches(cursor.items(count), str(self.path)):
                    read += len(batch)
                    yield batch
            cursor.check_complete(count, read)
            if not cursor.at_end():
                raise UnreadableInputError(str(self.path), "extra data after the log", offset=cursor.unpacker.tell())
        finally:
            cursor.close()


def _read_jsonl(path: Path, limits: Limits, workers: WorkerMode) -> _Read:
    name = str(path)
    lines = JsonLinesStream(path, limits)
    documents = lines.documents()
    header = next(documents, None)
    if native.is_native_header(header):
        assert isinstance(header, dict)
        if native.header_version(header, name) > 1:
            documents.close()
            trace, counts = native.JsonLinesExport(path, limits).trace(workers)
            return trace, _counts(counts)
        metadata, graph = native.header_parts(header, name)
        metadata = metadata.model_copy(update={"format": "replay-jsonl"})
        # Version 1 writes worker records right after the header: stop at the first transition.
        records, counts = native.worker_part(
            (doc["worker_record"] for doc in itertools.takewhile(_is_worker_record, documents)), workers, name
        )
        documents.close()
        return Trace(metadata=metadata, transitions=lines, worker_records=records, graph=graph), _counts(counts)
    documents.close()
    metadata = TraceMetadata.checked(
        path=name, format="log-jsonl", entry_fields=entry_fields((header,))
    )
    return Trace(metadata=metadata, transitions=lines), WorkerRecordCounts() if workers == "count" else None


class JsonLinesStream:
    """JSON Lines: bare entries or a version 1 replay-trace export, streamed line by line."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits

    def documents(self) -> Generator[Any, None, None]:
        stream, _ = open_bytes(self.path, self.limits)
        with stream:
            for number, line in enumerate(iter(lambda: stream.readline(self.limits.max_text_bytes + 1), b""), 1):
                if len(line) > self.limits.max_text_bytes:
                    raise LimitExceededError(str(self.path), f"line {number} is longer than the text limit")
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except RecursionError:
                    raise LimitExceededError(str(self.path), f"line {number} nested too deeply") from None
                except ValueError as error:
                    raise UnreadableInputError(str(self.path), f"line {number}: not JSON ({error.args[0]})") from None

    def __iter__(self) -> Iterator[SchedulerTransition]:
        documents = self.documents()
        first = next(documents, None)
        name = str(self.path)
        if native.is_native_header(first):
            rows = (doc for doc in documents if not _is_worker_record(doc))
            yield from scheduler_transitions(native.transition_rows(rows, name), name)
        elif first is not None:
            yield from scheduler_transitions(itertools.chain((first,), documents), name)


def _is_worker_record(document: Any) -> bool:
    return isinstance(document, dict) and "worker_record" in document
