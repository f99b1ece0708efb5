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
=====================  ==========================================================
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from replay.errors import LimitExceededError, UnreadableInputError
from replay.events import SchedulerTransition, Trace, TraceMetadata, WorkerRecord
from replay.ingest import native
from replay.ingest.dump import trace_from_dump
from replay.ingest.limits import DEFAULT_LIMITS, Limits, open_bytes, read_head, read_text_bytes
from replay.ingest.msgpack_reader import MsgpackCursor, first_byte_kind, read_dump_parts
from replay.ingest.records import entry_fields, scheduler_transition_batches, scheduler_transitions, worker_record
from replay.ingest.text import TextLimitError, entries_from_text

__all__ = ["DEFAULT_LIMITS", "Limits", "detect_format", "open_trace"]

_PICKLE_PROTOCOLS = frozenset(range(2, 6))


def detect_format(path: Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """The reader for ``path``, decided from its content (the name is never trusted)."""
    if not path.exists():
        raise UnreadableInputError(str(path), "no such file")
    if path.is_dir():
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


def _looks_like_yaml_dump(text: str) -> bool:
    return any(text.startswith(name) for name in ("scheduler:", "versions:", "workers:", "---"))


def open_trace(path: Path | str, limits: Limits = DEFAULT_LIMITS, *, worker_logs: bool = False) -> Trace:
    """Read ``path`` into a trace. Bare msgpack logs and JSON Lines are streamed, not held.

    ``worker_logs`` also reads workers' logs from dumps (``replay info`` wants them;
    replaying the scheduler does not).
    """
    path = Path(path)
    kind = detect_format(path, limits)
    name = str(path)
    if kind == "msgpack":
        return _read_msgpack(path, limits, worker_logs=worker_logs)
    if kind == "yaml":
        from replay.ingest.yaml_reader import load_yaml  # PyYAML loads only for YAML dumps

        return trace_from_dump(load_yaml(path, limits), name, "dump-yaml")
    if kind == "jsonl":
        return _read_jsonl(path, limits)
    text = _read_text(path, limits)
    if kind == "json" or kind == "json-or-text":
        try:
            document = json.loads(text)
        except ValueError as error:
            if kind == "json":
                raise UnreadableInputError(name, f"not valid JSON: {_json_problem(error)}") from None
            try:
                return _read_story_text(text, name, limits)
            except UnreadableInputError as text_error:
                if text_error.reason != _NO_ENTRIES:
                    raise
                raise UnreadableInputError(
                    name, f"neither valid JSON ({_json_problem(error)}) nor a text with transition entries"
                ) from None
        except RecursionError:
            raise LimitExceededError(name, "JSON nested too deeply (Python's recursion limit)") from None
        else:
            return _from_decoded(document, name, "json")
    return _read_story_text(text, name, limits)


_NO_ENTRIES = "no transition entries found in the text"


def _json_problem(error: ValueError) -> str:
    """``json``'s message, kept short: what and where (line, column)."""
    return str(error).splitlines()[0][:200]


def _read_text(path: Path, limits: Limits) -> str:
    return read_text_bytes(path, limits, "text").decode("utf-8", errors="replace").removeprefix("\ufeff")


def _from_decoded(document: Any, name: str, encoding: str) -> Trace:
    """A whole decoded JSON or msgpack document of any shape."""
    if native.is_native_header(document):
        return native.trace_from_document(document, name, f"replay-{encoding}")
    if isinstance(document, dict):
        if "scheduler" in document:
            return trace_from_dump(document, name, f"dump-{encoding}")
        raise UnreadableInputError(name, "a map that is neither a cluster dump nor a replay trace")
    if isinstance(document, list | tuple):
        return _from_entries(list(document), name, encoding)
    raise UnreadableInputError(name, f"a {type(document).__name__} is not a trace")


def _is_client_story_entry(raw: Any) -> bool:
    return (
        isinstance(raw, list | tuple)
        and len(raw) >= 2
        and isinstance(raw[0], str)
        and (raw[0] == "scheduler" or "://" in raw[0])
    )


def _from_entries(entries: list[Any], name: str, encoding: str, log_format: str | None = None) -> Trace:
    """A list of entries: a bare log (``log_format``, by default ``log-ENCODING``), a
    Scheduler.story, or a Client.story."""
    if entries and all(_is_client_story_entry(raw) for raw in entries[:50]):
        return _client_story(entries, name, encoding)
    metadata = TraceMetadata.checked(
        path=name, format=log_format or f"log-{encoding}", entry_fields=entry_fields(entries)
    )
    return Trace(metadata=metadata, transitions=tuple(scheduler_transitions(entries, name)))


def _client_story(entries: list[Any], name: str, encoding: str) -> Trace:
    """Client.story: unsorted; scheduler entries first, then each worker's, each prefixed."""
    scheduler_entries = []
    workers: list[WorkerRecord] = []
    addresses: dict[str, None] = {}
    for raw in entries:
        if not _is_client_story_entry(raw):
            raise UnreadableInputError(name, "a Client.story entry without its source prefix")
        if raw[0] == "scheduler":
            scheduler_entries.append(raw[1:])
        else:
            addresses[raw[0]] = None
            workers.append(worker_record(raw[1:], raw[0]))
    # The scheduler's part is in log order already; only worker parts need their timestamps.
    metadata = TraceMetadata.checked(
        path=name,
        format=f"client-story-{encoding}",
        worker_addresses=tuple(addresses),
        entry_fields=entry_fields(scheduler_entries),
    )
    return Trace(
        metadata=metadata,
        transitions=tuple(scheduler_transitions(scheduler_entries, name)),
        worker_records=tuple(workers),
    )


def _read_story_text(text: str, name: str, limits: Limits) -> Trace:
    try:
        found = entries_from_text(text, max_depth=limits.max_depth)
    except TextLimitError as error:
        raise LimitExceededError(name, f"{error} (raise it with --max-depth)", offset=error.offset) from None
    if not found.entries:
        raise UnreadableInputError(name, _NO_ENTRIES)
    trace = _from_entries(found.entries, name, "text", log_format="story-text")
    if not found.skipped:
        return trace
    return replace(trace, notes=(f"{found.skipped} fragment(s) of the text did not parse and were skipped",))


def _read_msgpack(path: Path, limits: Limits, *, worker_logs: bool) -> Trace:
    name = str(path)
    kind, first = _peek_msgpack(path, limits)
    if kind == "map" and first in ("scheduler", "workers", "versions"):
        return trace_from_dump(read_dump_parts(path, limits, worker_logs=worker_logs), name, "dump-msgpack")
    if kind == "map" or _is_client_story_entry(first):
        cursor = MsgpackCursor(path, limits)
        try:
            document = cursor.value()
        finally:
            cursor.close()
        if kind == "map":
            return _from_decoded(document, name, "msgpack")
        return _client_story(list(document), name, "msgpack")
    metadata = TraceMetadata.checked(
        path=name, format="log-msgpack", entry_fields=entry_fields((first,))
    )
    return Trace(metadata=metadata, transitions=MsgpackLogStream(path, limits))


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


def _read_jsonl(path: Path, limits: Limits) -> Trace:
    name = str(path)
    lines = JsonLinesStream(path, limits)
    documents = lines.documents()
    header = next(documents, None)
    if native.is_native_header(header):
        assert isinstance(header, dict)
        metadata, graph = native.header_parts(header, name)
        metadata = metadata.model_copy(update={"format": "replay-jsonl"})
        # The export writes worker records right after the header: stop at the first transition.
        records = native.worker_records_from(
            (doc["worker_record"] for doc in itertools.takewhile(_is_worker_record, documents)), name
        )
        documents.close()
        return Trace(metadata=metadata, transitions=lines, worker_records=records, graph=graph)
    metadata = TraceMetadata.checked(
        path=name, format="log-jsonl", entry_fields=entry_fields((header,))
    )
    return Trace(metadata=metadata, transitions=lines)


class JsonLinesStream:
    """JSON Lines: bare entries or a replay-trace export, streamed line by line."""

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
