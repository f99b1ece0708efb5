"""msgpack inputs: bare logs and stories (an array of entries), and cluster dumps (a map).

Dumps are read with a streaming ``Unpacker``: only the parts replay uses become
Python objects; everything else is skipped in place (``Unpacker.skip``), which is
what keeps a 147 MB dump fast. ``strict_map_key=False`` because dumps from 2023.9
on have int map keys, which distributed's own loader rejects.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

import msgpack

from replay.errors import LimitExceededError, UnreadableInputError
from replay.ingest.limits import GZIP_MAGIC, BoundedReader, Limits, open_bytes, size_text
from replay.ingest.records import ReadLog, entry_fields, scheduler_transitions

#: Scheduler fields of a dump that replay reads; the rest is skipped unread.
SCHEDULER_FIELDS = frozenset({"transition_log", "tasks", "transition_counter", "address", "workers", "id"})
#: Fields of the scheduler's workers table replay reads.
SCHEDULER_WORKER_FIELDS = ("name", "nthreads", "resources", "actors")
#: Fields of a worker's own state replay reads (its logs, and what it held at the end).
WORKER_FIELDS = frozenset({"log", "stimulus_log", "nthreads", "transition_counter", "tasks", "data", "config"})
#: Task-table fields replay reads.
TASK_FIELDS = frozenset(
    {"key", "state", "dependencies", "dependents", "who_wants", "waiters", "waiting_on", "processing_on", "who_has",
     "actor"}
)

_UNPACK_ERRORS = (
    msgpack.exceptions.ExtraData,
    msgpack.exceptions.BufferFull,
    msgpack.exceptions.FormatError,
    msgpack.exceptions.StackError,
    msgpack.exceptions.OutOfData,
    ValueError,
    TypeError,
)


#: Bytes the unpacker asks its stream for at a time.
READ_SIZE = 64 * 1024


def buffer_limit(limits: Limits) -> int:
    """The most bytes one msgpack value may take: twice the text limit (128 MiB by default)."""
    return min(limits.max_bytes, 2 * limits.max_text_bytes, 2**31 - 1)


def make_unpacker(stream: Any, limits: Limits) -> msgpack.Unpacker:
    """An unpacker with every length bounded, tuples for arrays (hashable tuple map keys)."""
    length = limits.max_container_length
    text_length = min(limits.max_bytes, limits.max_text_bytes, 2**31 - 1)
    return msgpack.Unpacker(
        stream,
        use_list=False,
        raw=False,
        strict_map_key=False,
        # one value (an entry, or a field being skipped) is buffered whole before its
        # lengths are checked: bound it, or a declared 2 GiB string is read in first
        max_buffer_size=buffer_limit(limits),
        # one string is text: bounded like a pasted text, so a declared 2 GiB string inside
        # a small gzip file is refused at its header instead of being buffered whole
        max_str_len=text_length,
        max_bin_len=text_length,
        max_array_len=length,
        max_map_len=length,
        max_ext_len=0,
        unicode_errors="surrogateescape",
        # small reads: msgpack's default (1 MiB) makes a fresh 1 MiB buffer per read, and
        # allocations that size churn through mmap (50,000 page faults on a 147 MB dump)
        read_size=min(READ_SIZE, buffer_limit(limits)),  # msgpack refuses a read larger than its buffer
    )


#: Inflate gzip with ISA-L (the optional ``isal`` wheel) when it is installed: a third of the
#: time of zlib on a large dump. Tests turn it off to check both give the same.
FAST_INFLATE = True


@cache
def _isal_gzip() -> Callable[..., Any] | None:
    """``isal.igzip.IGzipFile``, or None when the optional wheel is not installed."""
    import importlib

    try:
        igzip = importlib.import_module("isal.igzip")  # optional: untyped here, absent in most installs
    except ImportError:
        return None
    return igzip.IGzipFile  # type: ignore[no-any-return]


class _Inflated:
    """An ISA-L gzip stream bounded by ``--max-bytes``, read as :class:`BoundedReader` reads zlib's.

    What :func:`~replay.ingest.limits.open_bytes` builds, in one layer: the unpacker asks for
    64 KiB at a time, and each layer of buffering copies the whole dump once more.
    """

    def __init__(self, raw: IO[bytes], inflater: Callable[..., Any], limit: int, path: str) -> None:
        self._raw = raw
        self._inner: IO[bytes] = inflater(fileobj=raw, mode="rb")
        self._limit = limit
        self._path = path
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._inner.read(size)
        except (OSError, EOFError) as error:
            raise self._corrupt(error) from None
        except Exception as error:  # noqa: BLE001 - isal's IsalError: a corrupt deflate stream
            raise self._corrupt(zlib.error(str(error))) from None
        self.consumed += len(data)
        if self.consumed > self._limit:
            raise LimitExceededError(self._path, f"more than {size_text(self._limit)} of data (raise it with --max-bytes)")
        return data

    def _corrupt(self, error: BaseException) -> UnreadableInputError:
        return UnreadableInputError(
            self._path, f"corrupt or truncated gzip data after {self.consumed} decompressed bytes: {error}"
        )

    def peek(self, size: int = 1) -> bytes:
        """What :func:`first_byte_kind` is given: the next bytes, left unread."""
        peek = getattr(self._inner, "peek", None)
        return peek(size) if peek is not None else b""

    def close(self) -> None:
        self._inner.close()
        self._raw.close()

    def __enter__(self) -> _Inflated:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_stream(path: Path, limits: Limits) -> Any:
    """``path``'s bytes, gunzipped when it starts with the gzip magic, bounded by ``--max-bytes``.

    :func:`replay.ingest.limits.open_bytes`, with ISA-L inflating when it is installed.
    """
    inflater = _isal_gzip() if FAST_INFLATE else None
    if inflater is None:
        return open_bytes(path, limits)[0]
    raw = path.open("rb")
    compressed = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    if not compressed:
        return io.BufferedReader(BoundedReader(raw, limits.max_bytes, str(path)), buffer_size=64 * 1024)
    return _Inflated(raw, inflater, limits.max_bytes, str(path))


class MsgpackCursor:
    """A streaming position in one msgpack file, turning library errors into one clear line."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.stream = open_stream(path, limits)
        self.limits = limits
        self.unpacker = make_unpacker(self.stream, limits)

    def close(self) -> None:
        self.stream.close()

    def fail(self, error: BaseException, what_field: str | None = None) -> UnreadableInputError:
        offset = self.unpacker.tell()
        if isinstance(error, msgpack.exceptions.BufferFull):
            return LimitExceededError(
                str(self.path),
                f"one msgpack value is larger than {size_text(buffer_limit(self.limits))} (raise it with --max-text-bytes)",
                offset=offset,
            )
        if isinstance(error, msgpack.exceptions.StackError):
            return LimitExceededError(str(self.path), "msgpack nested deeper than 1024 levels", offset=offset)
        if what_field is not None and isinstance(error, ValueError) and "Unexpected type header" in str(error):
            return UnreadableInputError(str(self.path), what_field, offset=offset)
        if isinstance(error, ValueError) and "max_ext_len" in str(error):
            return UnreadableInputError(str(self.path), "msgpack extension type (dumps never use one)", offset=offset)
        if isinstance(error, ValueError) and "exceeds max_" in str(error):
            return LimitExceededError(
                str(self.path),
                f"a msgpack header declares too much: {error} (raise it with --max-text-bytes)",
                offset=offset,
            )
        what = "truncated msgpack" if isinstance(error, msgpack.exceptions.OutOfData) else "corrupt msgpack"
        detail = str(error) or type(error).__name__
        return UnreadableInputError(str(self.path), f"{what}: {detail}", offset=offset)

    def array_header(self, what: str = "the log") -> int:
        """The length of the array that comes next; ``what`` names it when it is not an array."""
        try:
            return int(self.unpacker.read_array_header())
        except _UNPACK_ERRORS as error:
            raise self.fail(error, f"{what} is not a list") from None

    def map_header(self, what: str = "the document") -> int:
        """The length of the map that comes next; ``what`` names it when it is not a map."""
        try:
            return int(self.unpacker.read_map_header())
        except _UNPACK_ERRORS as error:
            raise self.fail(error, f"{what} is not a map") from None

    def map_header_if_map(self) -> int | None:
        """The length of the map that comes next, or None (nothing read) when another value comes."""
        try:
            return int(self.unpacker.read_map_header())
        except ValueError as error:
            if "Unexpected type header" in str(error):
                return None  # msgpack leaves a value of another type unread
            raise self.fail(error) from None
        except _UNPACK_ERRORS as error:
            raise self.fail(error) from None

    def value(self) -> Any:
        # no context manager here: a dump's task table asks for a value per task
        try:
            return self.unpacker.unpack()
        except RecursionError:
            raise LimitExceededError(str(self.path), "msgpack nested too deeply") from None
        except _UNPACK_ERRORS as error:
            raise self.fail(error) from None

    def skip(self) -> None:
        try:
            self.unpacker.skip()
        except _UNPACK_ERRORS as error:
            raise self.fail(error) from None

    def items(self, count: int) -> Iterator[Any]:
        """The next ``count`` values, unpacked one at a time as they are asked for.

        A bare iterator of the unpacker (no Python frame per value): consume it inside
        :meth:`translating_errors`.
        """
        return islice(self.unpacker, count)

    def check_complete(self, declared: int, read: int) -> None:
        """An array that ended before its declared length (iterating an unpacker just stops)."""
        if read < declared:
            raise self.fail(msgpack.exceptions.OutOfData(f"the array declares {declared} values, the file holds {read}"))

    @contextmanager
    def translating_errors(self) -> Iterator[None]:
        """msgpack's errors while unpacking (:meth:`value`, :meth:`items`) as one clear line."""
        try:
            yield
        except RecursionError:
            raise LimitExceededError(str(self.path), "msgpack nested too deeply") from None
        except _UNPACK_ERRORS as error:
            raise self.fail(error) from None

    def at_end(self) -> bool:
        try:
            self.unpacker.skip()
        except msgpack.exceptions.OutOfData:
            return True
        except _UNPACK_ERRORS:
            return False
        return False


def first_byte_kind(head: bytes) -> str:
    """What the first msgpack value is, from its first byte: ``array``, ``map`` or ``other``."""
    if not head:
        return "empty"
    byte = head[0]
    if 0x90 <= byte <= 0x9F or byte in (0xDC, 0xDD):
        return "array"
    if 0x80 <= byte <= 0x8F or byte in (0xDE, 0xDF):
        return "map"
    return "other"


def read_dump_parts(
    path: Path, limits: Limits, *, worker_logs: bool, worker_fields: frozenset[str] | None = None
) -> dict[str, Any]:
    """The parts of a msgpack dump replay uses, as a slim dict of the dump's own shape."""
    cursor = MsgpackCursor(path, limits)
    try:
        return _dump_parts(cursor, worker_logs=worker_logs, worker_fields=worker_fields or WORKER_FIELDS)
    finally:
        cursor.close()


def _dump_parts(cursor: MsgpackCursor, *, worker_logs: bool, worker_fields: frozenset[str]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for _ in range(cursor.map_header("the dump")):
        name = cursor.value()
        if name == "scheduler":
            parts["scheduler"] = _scheduler_parts(cursor)
        elif name == "workers":
            parts["workers"] = _worker_parts(cursor, worker_logs=worker_logs, worker_fields=worker_fields)
        elif name == "versions":
            parts["versions"] = cursor.value()
        else:
            cursor.skip()
    return parts


def _scheduler_parts(cursor: MsgpackCursor) -> dict[str, Any]:
    scheduler: dict[str, Any] = {}
    for _ in range(cursor.map_header("the dump's scheduler")):
        name = cursor.value()
        if name == "transition_log":
            scheduler[name] = _transition_log(cursor)
        elif name == "tasks":
            scheduler[name] = _task_table(cursor)
        elif name == "workers":
            scheduler[name] = _scheduler_workers(cursor)
        elif name in SCHEDULER_FIELDS:
            scheduler[name] = cursor.value()
        else:
            cursor.skip()
    return scheduler


def _transition_log(cursor: MsgpackCursor) -> ReadLog:
    """The dump's log, validated as it is read: a hostile entry is refused, never held."""
    log = ReadLog()
    count = cursor.array_header("the dump's scheduler.transition_log")
    items = cursor.items(count)
    with cursor.translating_errors():
        first = next(items, None)
        if first is not None:
            log.entry_fields = entry_fields((first,))
            log.extend(scheduler_transitions(chain((first,), items), str(cursor.path)))
    cursor.check_complete(count, len(log))
    return log


def _task_table(cursor: MsgpackCursor) -> dict[Any, dict[str, Any]]:
    """The task table, each task's row with only :data:`TASK_FIELDS`.

    A row is decoded whole by msgpack, in C, and the wanted fields picked from it: with 25,000
    tasks of 40 fields each, asking the unpacker field by field cost a million Python calls
    (three quarters of reading a dump of that shape). A row that is not a map is refused.
    """
    tasks: dict[Any, dict[str, Any]] = {}
    unpack = cursor.unpacker.unpack
    wanted = TASK_FIELDS
    try:
        for _ in range(cursor.map_header("the dump's scheduler.tasks")):
            key = unpack()
            row = unpack()
            if type(row) is not dict:
                raise UnreadableInputError(str(cursor.path), f"the dump's task {key!r:.80} is not a map")
            tasks[key] = {name: value for name, value in row.items() if name in wanted}
    except RecursionError:
        raise LimitExceededError(str(cursor.path), "msgpack nested too deeply") from None
    except _UNPACK_ERRORS as error:
        raise cursor.fail(error) from None
    return tasks


def _scheduler_workers(cursor: MsgpackCursor) -> dict[Any, Any]:
    """The scheduler's workers table: each address, with the few fields replay uses."""
    workers: dict[Any, Any] = {}
    for _ in range(cursor.map_header("the dump's scheduler.workers")):
        address = cursor.value()
        count = cursor.map_header_if_map()
        if count is None:
            cursor.skip()
            workers[address] = {}
        else:
            workers[address] = _chosen_fields(cursor, count, SCHEDULER_WORKER_FIELDS)
    return workers


def _worker_parts(cursor: MsgpackCursor, *, worker_logs: bool, worker_fields: frozenset[str]) -> dict[Any, Any]:
    workers: dict[Any, Any] = {}
    for _ in range(cursor.map_header("the dump's workers")):
        address = cursor.value()
        if not worker_logs:
            cursor.skip()
            workers[address] = {}
            continue
        count = cursor.map_header_if_map()
        if count is None:
            workers[address] = cursor.value()  # a worker that did not answer: its error repr
        else:
            workers[address] = _chosen_fields(cursor, count, worker_fields)
    return workers


def _chosen_fields(cursor: MsgpackCursor, count: int, chosen: frozenset[str] | tuple[str, ...]) -> dict[str, Any]:
    """The ``chosen`` fields of the map whose ``count`` entries come next; the rest is skipped unread."""
    fields: dict[str, Any] = {}
    for _ in range(count):
        name = cursor.value()
        if name in chosen:
            fields[name] = cursor.value()
        else:
            cursor.skip()
    return fields
