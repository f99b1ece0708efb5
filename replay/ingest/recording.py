"""Recordings: a directory of msgpack segments written by :mod:`replay.record`, read as one trace.

A recording directory holds ``manifest.json`` and ``segment-NNNNNN.msgpack`` files, each a
header map followed by one array per transition (the scheduler's own log entries). They
are read in segment order, streamed, through the validated fast path
(:func:`~replay.ingest.records.scheduler_transition_batches`). A record torn by a crash
(the end of the segment being written) is skipped with a note; the manifest gives the
release, the scheduler's address and, once the scheduler closed, its ``transition_counter``.

:class:`RecordingTail` follows a live recording: each :meth:`~RecordingTail.poll` returns
the entries written since the last one.

The writer (:mod:`replay.record`) runs inside old scheduler environments and imports none
of this; the names both sides use are repeated here (a test checks they agree).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgpack

from replay.errors import LimitExceededError, UnreadableInputError
from replay.events import SchedulerTransition, Trace, TraceMetadata
from replay.ingest.limits import Limits, size_text
from replay.ingest.msgpack_reader import MsgpackCursor, make_unpacker
from replay.ingest.records import entry_fields, scheduler_transition_batches, scheduler_transitions

#: ``manifest.json``'s ``format``; the key of each segment's header map.
FORMAT = "replay-recording"
MANIFEST = "manifest.json"
#: The format name ``replay info`` shows.
FORMAT_NAME = "recording"
_SEGMENT = re.compile(r"^segment-(\d{6,})\.msgpack$")
#: Largest manifest read (a recording of a million segments lists them in about 100 MB).
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment file, and what the manifest says about it (if anything)."""

    path: Path
    sequence: int
    #: the manifest's byte size of a segment it lists as complete
    size: int | None = None


def is_recording(path: Path) -> bool:
    """Whether ``path`` is a recording directory (a manifest, or segment files)."""
    if not path.is_dir():
        return False
    if (path / MANIFEST).is_file():
        return True
    return any(_SEGMENT.match(child.name) for child in path.iterdir())


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest as a dict; None when there is none yet. A manifest that is not a
    recording's is refused."""
    path = directory / MANIFEST
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UnreadableInputError(str(path), f"cannot read: {error.strerror or error}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise LimitExceededError(str(path), f"manifest larger than {size_text(MAX_MANIFEST_BYTES)}")
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise UnreadableInputError(str(path), f"not a recording's manifest (not JSON: {str(error)[:200]})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UnreadableInputError(str(path), f"not a recording's manifest (no \"format\": {FORMAT!r})")
    return manifest


def segments_of(directory: Path, manifest: dict[str, Any] | None) -> list[Segment]:
    """The segment files on disk, in order, with the sizes the manifest records."""
    sizes: dict[str, int] = {}
    for listed in _listed(manifest):
        if listed.get("complete") is True and isinstance(listed.get("bytes"), int):
            sizes[str(listed.get("name"))] = listed["bytes"]
    found = []
    for child in directory.iterdir():
        match = _SEGMENT.match(child.name)
        if match is not None and child.is_file():
            found.append(Segment(child, int(match.group(1)), sizes.get(child.name)))
    return sorted(found, key=lambda segment: segment.sequence)


def _listed(manifest: dict[str, Any] | None) -> list[dict[str, Any]]:
    listed = manifest.get("segments") if manifest is not None else None
    return [segment for segment in listed if isinstance(segment, dict)] if isinstance(listed, list) else []


def _text(manifest: dict[str, Any] | None, name: str) -> str | None:
    value = manifest.get(name) if manifest is not None else None
    return value if isinstance(value, str) else None


def _int(manifest: dict[str, Any] | None, name: str) -> int | None:
    value = manifest.get(name) if manifest is not None else None
    return value if type(value) is int else None


def recording_counter(manifest: dict[str, Any] | None) -> int | None:
    """The transitions the scheduler counted while the recording ran and kept (None until it closed).

    The scheduler's final ``transition_counter``, less its value when the recording
    started and the entries of the segments dropped (``keep_segments``): what the
    entries read should number, when no transition raised.
    """
    final = _int(manifest, "transition_counter")
    if final is None or manifest is None or manifest.get("closed") is not True:
        return None
    return final - (_int(manifest, "transition_counter_at_start") or 0) - (_int(manifest, "dropped_entries") or 0)


def open_recording(directory: Path, limits: Limits) -> Trace:
    """A recording directory as one streamed trace, with the manifest's metadata and notes."""
    name = str(directory)
    manifest = read_manifest(directory)
    segments = segments_of(directory, manifest)
    if manifest is None and not segments:
        raise UnreadableInputError(name, "is a directory, not a trace file")
    notes: list[str] = []
    if manifest is None:
        notes.append("no manifest.json: the release and the scheduler's address are unknown")
    else:
        notes.extend(_manifest_notes(manifest, segments))
    for segment in segments[:-1]:
        actual = segment.path.stat().st_size
        if segment.size is not None and actual != segment.size:
            notes.append(f"{segment.path.name} holds {actual} bytes, the manifest says {segment.size}")
    if segments:
        torn = _torn_tail(segments[-1], limits)
        if torn:
            notes.append(f"the last record of {segments[-1].path.name} is incomplete ({torn} bytes, "
                         f"torn when the recording stopped) and was skipped")  # fmt: skip
    first = _first_entry(segments, limits)
    metadata = TraceMetadata.checked(
        path=name,
        format=FORMAT_NAME,
        distributed_version=_text(manifest, "distributed_version"),
        scheduler_address=_text(manifest, "scheduler_address"),
        transition_counter=recording_counter(manifest),
        entry_fields=entry_fields((first,)) if first is not None else None,
    )
    return Trace(metadata=metadata, transitions=RecordingStream(name, segments, limits), notes=tuple(notes))


def _manifest_notes(manifest: dict[str, Any], segments: list[Segment]) -> list[str]:
    notes = []
    dropped = _int(manifest, "dropped_entries") or 0
    if dropped:
        notes.append(f"the recording kept its newest {manifest.get('keep_segments')} segment(s): the first "
                     f"{dropped} entries were dropped, so the log starts partway through the run")  # fmt: skip
    if (_int(manifest, "transition_counter_at_start") or 0) > 0:
        notes.append(f"the recording started after {manifest['transition_counter_at_start']} transitions "
                     f"of the scheduler: the log starts partway through the run")  # fmt: skip
    on_disk = {segment.path.name for segment in segments}
    missing = [str(listed.get("name")) for listed in _listed(manifest) if listed.get("name") not in on_disk]
    if missing:
        notes.append(f"segment(s) listed in the manifest are missing: {', '.join(missing[:5])}"
                     + (f" (+{len(missing) - 5})" if len(missing) > 5 else ""))  # fmt: skip
    if manifest.get("closed") is not True:
        notes.append("the recording is not closed (its scheduler is running, or stopped without closing): "
                     "no final transition_counter to check the entries against")  # fmt: skip
    if _int(manifest, "unmatched_entries"):
        notes.append(f"{manifest['unmatched_entries']} entries did not match the scheduler's log and were "
                     f"recorded from the plugin hook, without recommendations")  # fmt: skip
    if isinstance(manifest.get("failed"), str):
        notes.append(f"the recorder stopped: {manifest['failed']}")
    return notes


def _header_skipped(cursor: MsgpackCursor) -> None:
    """Read past the header map at the start of a segment (if there is one)."""
    head = cursor.stream.peek(1)[:1]
    if head and (0x80 <= head[0] <= 0x8F or head[0] in (0xDE, 0xDF)):
        cursor.skip()


def _torn_tail(segment: Segment, limits: Limits) -> int:
    """Bytes at the end of ``segment`` that do not make a whole record (0: none)."""
    cursor = MsgpackCursor(segment.path, limits)
    try:
        unpacker = cursor.unpacker
        while True:
            try:
                unpacker.skip()
            except msgpack.exceptions.OutOfData:
                break
            except (ValueError, msgpack.exceptions.UnpackException) as error:
                raise cursor.fail(error) from None
        return segment.path.stat().st_size - unpacker.tell()
    finally:
        cursor.close()


def _first_entry(segments: list[Segment], limits: Limits) -> Any:
    """The first entry of the recording (its shape tells the era), or None."""
    for segment in segments:
        cursor = MsgpackCursor(segment.path, limits)
        try:
            _header_skipped(cursor)
            with cursor.translating_errors():
                for value in cursor.unpacker:
                    return value
        finally:
            cursor.close()
    return None


class RecordingStream:
    """The entries of every segment in order, validated in batches each time it is iterated."""

    def __init__(self, name: str, segments: list[Segment], limits: Limits) -> None:
        self.name = name
        self.segments = segments
        self.limits = limits

    def __iter__(self) -> Iterator[SchedulerTransition]:
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[SchedulerTransition]]:
        # The unpackers are chained, so values are taken in C; msgpack's errors surface
        # here, named after the segment being read.
        current: list[MsgpackCursor] = []
        batches = scheduler_transition_batches(itertools.chain.from_iterable(self._unpackers(current)), self.name)
        try:
            while True:
                try:
                    batch = next(batches)
                except StopIteration:
                    return
                except RecursionError:
                    raise LimitExceededError(str(current[-1].path), "msgpack nested too deeply") from None
                except (ValueError, TypeError, msgpack.exceptions.UnpackException) as error:
                    if not current:
                        raise
                    raise current[-1].fail(error) from None
                yield batch
        finally:
            for cursor in current:
                cursor.close()

    def _unpackers(self, current: list[MsgpackCursor]) -> Iterator[msgpack.Unpacker]:
        """Each segment's unpacker past its header, the cursor being read last in ``current``.

        Iterating an unpacker stops at a torn last record (noted when the recording was opened).
        """
        for segment in self.segments:
            for cursor in current:
                cursor.close()
            current.clear()
            try:
                cursor = MsgpackCursor(segment.path, self.limits)
            except FileNotFoundError:
                raise UnreadableInputError(str(segment.path), "segment removed while the recording was read") from None
            current.append(cursor)
            _header_skipped(cursor)
            yield cursor.unpacker


class RecordingTail:
    """A live recording, followed: :meth:`poll` returns the entries written since the last poll.

    Segments are read in order as they appear; a segment is finished once a later one
    exists or the manifest says the recording closed (the recorder closes a segment
    before it starts the next). :attr:`done` once the recording closed and everything
    was read.
    """

    def __init__(self, directory: Path, limits: Limits) -> None:
        self.directory = directory
        self.name = str(directory)
        self.limits = limits
        self.manifest: dict[str, Any] | None = None
        self.notes: list[str] = []
        self.entries = 0
        self.done = False
        self._sequence = -1
        self._file: IO[bytes] | None = None
        self._unpacker: msgpack.Unpacker | None = None
        self._fed = 0
        self._at_start = True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def refresh(self) -> dict[str, Any] | None:
        """Read the manifest again (None while the recording has not started)."""
        if self.directory.is_dir():
            self.manifest = read_manifest(self.directory) or self.manifest
        return self.manifest

    def metadata(self) -> TraceMetadata:
        manifest = self.manifest
        return TraceMetadata.checked(
            path=self.name,
            format=FORMAT_NAME,
            distributed_version=_text(manifest, "distributed_version"),
            scheduler_address=_text(manifest, "scheduler_address"),
            transition_counter=recording_counter(manifest),
        )

    def all_notes(self) -> list[str]:
        """What the follow found (torn records, segments deleted unread) and what the manifest says."""
        manifest = self.refresh()
        if manifest is None:
            return list(self.notes)
        return [*self.notes, *_manifest_notes(manifest, self._segments())]

    def poll(self) -> list[SchedulerTransition]:
        """The entries written since the last call, validated (empty when nothing is new)."""
        raw: list[Any] = []
        while not self.done:
            if self._file is None and not self._next_segment():
                break
            self._read_available(raw)
            later = self._later_segment()
            if later is None:
                manifest = self.refresh()
                if manifest is None or manifest.get("closed") is not True:
                    break
                self._read_available(raw)  # closed: what is there now is all there is
                self._end_segment()
                if self._later_segment() is None:
                    self.done = True
                continue
            self._read_available(raw)  # the next segment exists: this one is complete
            self._end_segment()
        if not raw:
            return []
        first = self.entries
        self.entries += len(raw)
        try:
            return list(scheduler_transitions(raw, self.name))
        except UnreadableInputError as error:
            raise UnreadableInputError(self.name, f"{error.reason} (counting from entry {first} of the recording)") from None

    def _segments(self) -> list[Segment]:
        if not self.directory.is_dir():
            return []
        return segments_of(self.directory, None)

    def _later_segment(self) -> Segment | None:
        return next((segment for segment in self._segments() if segment.sequence > self._sequence), None)

    def _next_segment(self) -> bool:
        later = self._later_segment()
        if later is None:
            return False
        if self._sequence >= 0 and later.sequence != self._sequence + 1:
            self.notes.append(f"segments {self._sequence + 1} to {later.sequence - 1} were deleted before "
                              f"they were read (keep_segments): entries are missing")  # fmt: skip
        self._sequence = later.sequence
        try:
            self._file = later.path.open("rb")
        except FileNotFoundError:  # dropped by the recorder meanwhile
            return self._next_segment()
        self._unpacker = make_unpacker(None, self.limits)
        self._fed = 0
        self._at_start = True
        return True

    def _read_available(self, raw: list[Any]) -> None:
        file, unpacker = self._file, self._unpacker
        if file is None or unpacker is None:
            return
        path = self.directory / f"segment-{self._sequence:06d}.msgpack"
        while data := file.read(1 << 20):
            self._fed += len(data)
            if self._fed > self.limits.max_bytes:
                raise LimitExceededError(str(path), f"more than {size_text(self.limits.max_bytes)} of data (raise it with --max-bytes)")
            try:
                unpacker.feed(data)
            except msgpack.exceptions.BufferFull:
                raise LimitExceededError(str(path), "one msgpack value is larger than the buffer limit (raise it with --max-text-bytes)") from None
            try:
                for value in unpacker:
                    if self._at_start:
                        self._at_start = False
                        if isinstance(value, dict):
                            continue  # the segment's header
                    raw.append(value)
            except RecursionError:
                raise LimitExceededError(str(path), "msgpack nested too deeply") from None
            except (ValueError, msgpack.exceptions.UnpackException) as error:
                raise UnreadableInputError(str(path), f"corrupt msgpack: {error}", offset=unpacker.tell()) from None

    def _end_segment(self) -> None:
        unpacker = self._unpacker
        if unpacker is not None and self._fed > unpacker.tell():
            self.notes.append(f"the last record of segment {self._sequence} is incomplete "
                              f"({self._fed - unpacker.tell()} bytes) and was skipped")  # fmt: skip
        self.close()
        self._unpacker = None
