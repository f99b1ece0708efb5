"""Record every scheduler transition, as the scheduler logged it, to a directory.

``TransitionRecorder(directory)`` is a ``SchedulerPlugin``. Its ``transition`` hook takes
the entry the scheduler has just appended to ``Scheduler.transition_log`` (the key, start,
finish, recommendations, stimulus id and time, exactly as logged) and writes it to
rotating msgpack segment files in ``directory``; ``replay run DIRECTORY`` reads them back
as one trace (see ``docs/record.md``). Three ways to add it::

    dask scheduler --preload replay.record --replay-dir /tmp/rec
    # or the config: distributed.scheduler.preload: [replay.record]
    #                distributed.scheduler.preload-argv: [--replay-dir, /tmp/rec]
    client.register_plugin(TransitionRecorder("/tmp/rec"))  # register_scheduler_plugin before 2023.9

The directory holds ``manifest.json`` (release, scheduler address, start time, the
segments in order; the final ``transition_counter`` once the scheduler closes) and
``segment-NNNNNN.msgpack`` files: each a header map, then one msgpack array per
transition. Entries are buffered and written in batches, always between two of the
scheduler's handlers (at most ``flush_interval``, 5 ms, after the first of the batch; one
write per batch, unbuffered), so a crash of the scheduler loses at most the last batch; a
record torn by the crash is skipped, with a note, when read.

This module runs inside the scheduler's process on releases back to 2022 (Python 3.10):
it imports only the standard library, ``msgpack`` and ``distributed`` (with its
``click``), never the rest of ``replay``.
"""

# Runs in old scheduler environments: the standard library, msgpack and distributed only.
# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import json
import logging
import os
import platform
import socket
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import click
import msgpack
from distributed.diagnostics.plugin import SchedulerPlugin

logger = logging.getLogger("replay.record")

#: ``manifest.json``'s ``format`` and ``version``.
FORMAT = "replay-recording"
VERSION = 1
MANIFEST = "manifest.json"
#: Segment file names: ``segment-000000.msgpack``, ``segment-000001.msgpack``, ...
SEGMENT_PREFIX = "segment-"
SEGMENT_SUFFIX = ".msgpack"
#: A segment is closed and the next one started once it holds this many bytes.
DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024
#: Entries buffered before they are written at once, even inside one long handler.
BATCH_LIMIT = 4096
#: Seconds a batch waits for more handlers before it is written (0: as soon as the handler returns).
DEFAULT_FLUSH_INTERVAL = 0.005
#: The directory used by ``dask_setup`` when no ``--replay-dir`` is given.
DEFAULT_DIRECTORY = "replay-recording-{time}-{pid}"

_counter = itertools.count()
#: Recorders started in this process and not closed yet (the pytest plugin flushes them).
LIVE: weakref.WeakSet[TransitionRecorder] = weakref.WeakSet()


def segment_name(sequence: int) -> str:
    return f"{SEGMENT_PREFIX}{sequence:06d}{SEGMENT_SUFFIX}"


def expand_directory(directory: str) -> str:
    """``directory`` with ``{pid}``, ``{time}`` (UTC, to the second) and ``{n}`` (a counter
    of recorders started in this process) filled in."""
    if "{" not in directory:
        return directory
    now = datetime.datetime.now(datetime.timezone.utc)
    return directory.format(pid=os.getpid(), time=now.strftime("%Y%m%dT%H%M%SZ"), n=next(_counter))


def _fallback(value: Any) -> Any:
    """msgpack's ``default``: sets as lists, anything else as its repr (a key type msgpack
    cannot write must not stop the recording)."""
    if isinstance(value, set | frozenset):
        return list(value)
    return repr(value)


class TransitionRecorder(SchedulerPlugin):
    """A scheduler plugin writing every transition to rotating msgpack segments in ``directory``.

    ``directory`` is a path on the scheduler's machine, created if missing; ``{pid}``,
    ``{time}`` and ``{n}`` in it are filled in when the recording starts. It must not hold
    a recording already, unless ``overwrite``. ``segment_bytes``: a segment is closed once
    it is that large. ``keep_segments``: keep only the newest N segments (the oldest are
    deleted as new ones start); None keeps all. ``flush_interval``: seconds a batch waits
    for more handlers before it is written (0: as soon as the handler returns). Nothing is
    opened until the scheduler starts the plugin, so the object can be built on a client
    and sent with ``Client.register_plugin``.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        keep_segments: int | None = None,
        overwrite: bool = False,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
    ) -> None:
        if segment_bytes < 1:
            raise ValueError("segment_bytes must be positive")
        if keep_segments is not None and keep_segments < 1:
            raise ValueError("keep_segments must be at least 1 (or None to keep all)")
        self.directory = os.fspath(directory)
        self.segment_bytes = int(segment_bytes)
        self.keep_segments = keep_segments
        self.overwrite = overwrite
        self.flush_interval = float(flush_interval)
        # One recorder per directory: registering the same directory twice replaces it.
        self.name = f"replay-recorder:{self.directory}"
        self._reset()

    def _reset(self) -> None:
        self.path: Path | None = None
        self._scheduler: Any = None
        self._log: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._buffer: list[Any] = []
        self._file: Any = None
        self._packer: msgpack.Packer | None = None
        self._lock = threading.Lock()
        self._segments: list[dict[str, Any]] = []
        self._segment_size = 0
        self._segment_entries = 0
        self._entries = 0
        self._dropped_segments = 0
        self._dropped_entries = 0
        self._unmatched = 0
        self._manifest: dict[str, Any] = {}
        self._failed: str | None = None
        self._closed = False

    def __getstate__(self) -> dict[str, Any]:
        """Only the settings travel (``register_plugin`` pickles the plugin before it starts)."""
        return {
            "directory": self.directory,
            "segment_bytes": self.segment_bytes,
            "keep_segments": self.keep_segments,
            "overwrite": self.overwrite,
            "flush_interval": self.flush_interval,
            "name": self.name,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    # ------------------------------------------------------------------ plugin hooks

    async def start(self, scheduler: Any) -> None:
        """Open the recording (once: a preload starts it, then the scheduler may again)."""
        self.open(scheduler)

    def transition(self, key: Any, start: Any, finish: Any, *args: Any, **kwargs: Any) -> None:
        """Keep the entry the scheduler just logged; a loop callback writes the batch later."""
        log = self._log
        if log is None:
            return
        try:
            entry = log[-1]
        except IndexError:  # a log of length 0 (low-level-log-length: 0)
            entry = None
        if entry is None or entry[0] is not key or entry[2] is not finish or entry[1] is not start:
            entry = self._mismatch(entry, key, start, finish, kwargs)
        buffer = self._buffer
        buffer.append(entry)
        if len(buffer) == 1:
            loop = self._loop
            if loop is not None:
                if self.flush_interval > 0:
                    loop.call_later(self.flush_interval, self.flush)
                else:
                    loop.call_soon(self.flush)
            else:
                self.flush()
        elif len(buffer) >= BATCH_LIMIT:
            self.flush()

    async def before_close(self) -> None:
        self.flush()

    async def close(self) -> None:
        """Write what is left and the final manifest (with the scheduler's transition_counter)."""
        self.finish()

    # ------------------------------------------------------------------ recording

    def open(self, scheduler: Any) -> None:
        """Start recording ``scheduler``'s transitions (does nothing if already recording it)."""
        if self._scheduler is scheduler:
            return
        if self._scheduler is not None:
            raise RuntimeError(f"{self.name} already records another scheduler")
        log = getattr(scheduler, "transition_log", None)
        if log is None:
            raise TypeError(f"{type(scheduler).__name__} has no transition_log: replay.record records a Scheduler")
        path = Path(expand_directory(self.directory))
        self._claim(path)
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None  # no loop: every entry is written at once
        self.path = path
        self._scheduler = scheduler
        self._packer = msgpack.Packer(use_bin_type=True, autoreset=False, default=_fallback)
        maxlen = getattr(log, "maxlen", None)
        if maxlen == 0:
            logger.warning("replay.record: the scheduler's transition_log keeps no entries "
                           "(low-level-log-length 0): recommendations and stimulus ids are lost")  # fmt: skip
        self._manifest = {
            "format": FORMAT,
            "version": VERSION,
            "distributed_version": _distributed_version(),
            "python": platform.python_version(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "scheduler_address": _address(scheduler),
            "scheduler_id": getattr(scheduler, "id", None),
            "started": time.time(),
            "started_iso": _iso(time.time()),
            "validate": bool(getattr(scheduler, "validate", False)),
            "transition_log_maxlen": maxlen,
            "segment_bytes": self.segment_bytes,
            "keep_segments": self.keep_segments,
            "transition_counter_at_start": getattr(scheduler, "transition_counter", None),
        }
        self._log = log
        self._start_segment(0)
        self._write_manifest()
        LIVE.add(self)
        logger.info("replay.record: recording the scheduler's transitions to %s", path)

    def _claim(self, path: Path) -> None:
        """Create ``path``, refusing one that holds a recording unless ``overwrite``."""
        if path.is_dir():
            old = [child for child in path.iterdir() if child.name == MANIFEST or _is_segment(child.name)]
            if old and not self.overwrite:
                raise FileExistsError(
                    f"{path} already holds a recording: choose another directory (a {{time}} or {{pid}} "
                    f"in its name makes one per run), or pass overwrite=True"
                )
            for child in old:
                child.unlink()
        path.mkdir(parents=True, exist_ok=True)

    def _mismatch(self, entry: Any, key: Any, start: Any, finish: Any, kwargs: dict[str, Any]) -> Any:
        """The hook's arguments and the log's last entry disagree (identity first, then equality)."""
        if entry is not None and len(entry) >= 5 and entry[0] == key and entry[1] == start and entry[2] == finish:
            return entry
        # A log that keeps nothing, or another plugin transitioning inside its hook: what
        # the hook knows, without recommendations.
        self._unmatched += 1
        return (key, start, finish, {}, kwargs.get("stimulus_id"), time.time())

    def flush(self) -> None:
        """Write the buffered entries (one write, then flush); rotate a full segment."""
        with self._lock:
            buffer = self._buffer
            if not buffer:
                return
            self._buffer = []
            if self._file is None or self._packer is None:
                return  # closed, or failed: dropped
            data = self._pack(buffer)
            try:
                _write_all(self._file, data)
            except OSError as error:
                self._fail(f"writing {self._segment_path()}: {error}")
                return
            self._segment_size += len(data)
            self._segment_entries += len(buffer)
            self._entries += len(buffer)
            if self._segment_size >= self.segment_bytes:
                self._rotate()

    def _pack(self, entries: list[Any]) -> bytes:
        packer = self._packer
        assert packer is not None
        try:
            for entry in entries:
                packer.pack(entry)
        except Exception:  # noqa: BLE001 - one odd entry must not lose the batch
            packer.reset()
            for entry in entries:
                try:
                    packer.pack(entry)
                except Exception:  # noqa: BLE001
                    packer.pack(_sanitised(entry))
        data = packer.bytes()
        packer.reset()
        return bytes(data)

    def _segment_path(self) -> Path:
        assert self.path is not None
        name: str = self._segments[-1]["name"]
        return self.path / name

    def _start_segment(self, sequence: int) -> None:
        assert self.path is not None and self._packer is not None
        name = segment_name(sequence)
        self._segments.append({"name": name, "first_entry": self._entries, "complete": False})
        self._file = (self.path / name).open("xb", buffering=0)
        header = msgpack.packb({FORMAT: VERSION, "segment": sequence, "first_entry": self._entries,
                                "created": time.time()}, use_bin_type=True)  # fmt: skip
        _write_all(self._file, header)
        self._segment_size = len(header)
        self._segment_entries = 0

    def _end_segment(self) -> None:
        """Close the segment being written, its size and entries in the manifest."""
        file, self._file = self._file, None
        if file is None:
            return
        with contextlib.suppress(OSError):
            os.fsync(file.fileno())
        file.close()
        self._segments[-1].update(entries=self._segment_entries, bytes=self._segment_size, complete=True)

    def _rotate(self) -> None:
        sequence = int(self._segments[-1]["name"][len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)]) + 1
        try:
            self._end_segment()
            keep = self.keep_segments
            if keep is not None:
                # the new segment counts: keep - 1 complete ones stay beside it
                while len(self._segments) > keep - 1 and self._segments:
                    oldest = self._segments.pop(0)
                    assert self.path is not None
                    (self.path / oldest["name"]).unlink(missing_ok=True)
                    self._dropped_segments += 1
                    self._dropped_entries += oldest.get("entries", 0)
            self._start_segment(sequence)
            self._write_manifest()
        except OSError as error:
            self._fail(f"starting segment {sequence}: {error}")

    def _fail(self, reason: str) -> None:
        """Stop recording (the scheduler goes on) and say why, in the log and the manifest."""
        if self._failed is None:
            self._failed = reason
            logger.error("replay.record: recording stopped: %s", reason)
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.close()
        with contextlib.suppress(OSError):
            self._write_manifest()

    def _write_manifest(self) -> None:
        assert self.path is not None
        manifest = dict(self._manifest)
        manifest.update(
            segments=[dict(segment) for segment in self._segments],
            dropped_segments=self._dropped_segments,
            dropped_entries=self._dropped_entries,
            unmatched_entries=self._unmatched,
            failed=self._failed,
            closed=self._closed,
        )
        if self._closed:
            scheduler = self._scheduler
            manifest.update(
                closed_at=time.time(),
                entries=self._entries,
                transition_counter=getattr(scheduler, "transition_counter", None),
            )
        partial = self.path / (MANIFEST + ".partial")
        partial.write_text(json.dumps(manifest, indent=1) + "\n")
        partial.replace(self.path / MANIFEST)

    def finish(self) -> None:
        """Flush, close the segment, write the final manifest. Later transitions (workers
        dropped while the scheduler shuts down) are not recorded."""
        if self._scheduler is None or self._closed:
            return
        self.flush()
        with self._lock:
            self._closed = True
            self._end_segment()
            try:
                self._write_manifest()
            except OSError as error:
                logger.error("replay.record: could not write the final manifest: %s", error)
            self._log = None
            self._scheduler = None
            self._loop = None
        LIVE.discard(self)

    @property
    def entries(self) -> int:
        """Entries written so far."""
        return self._entries

    def __repr__(self) -> str:
        where = self.path if self.path is not None else self.directory
        return f"<TransitionRecorder {str(where)!r}: {self._entries} entries>"


def _packable(value: Any) -> bool:
    try:
        msgpack.packb(value, use_bin_type=True)
    except Exception:  # noqa: BLE001
        return False
    return True


def _sanitised(entry: Any) -> tuple[Any, ...]:
    """An entry msgpack could not write, with every part it cannot write as its repr
    (recommendations stay a map, so the recording stays readable)."""
    parts = list(entry)
    parts[0] = parts[0] if _packable(parts[0]) else repr(parts[0])
    if len(parts) > 3:
        recommendations = parts[3] if isinstance(parts[3], dict) else {}
        parts[3] = {
            (key if _packable(key) else repr(key)): (state if isinstance(state, str) else repr(state))
            for key, state in recommendations.items()
        }
    return tuple(part if _packable(part) else repr(part) for part in parts)


def _write_all(file: Any, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = file.write(view)
        view = view[written:]


def _is_segment(name: str) -> bool:
    middle = name[len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)]
    return name.startswith(SEGMENT_PREFIX) and name.endswith(SEGMENT_SUFFIX) and middle.isdigit()


def _distributed_version() -> str | None:
    import distributed

    return str(getattr(distributed, "__version__", "")) or None


def _address(scheduler: Any) -> str | None:
    try:
        return str(scheduler.address)
    except Exception:  # noqa: BLE001 - not listening yet
        return None


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="seconds")


def recorder_of(scheduler: Any) -> TransitionRecorder | None:
    """The recorder already attached to ``scheduler``, if any."""
    for plugin in list(getattr(scheduler, "plugins", {}).values()):
        if isinstance(plugin, TransitionRecorder):
            return plugin
    return None


@click.command(name="replay.record", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--replay-dir", default=None, envvar="REPLAY_RECORD_DIR", metavar="DIR",
              help=f"Where to record ({{pid}}, {{time}} and {{n}} are filled in; default {DEFAULT_DIRECTORY!r}).")
@click.option("--replay-segment-bytes", type=int, default=DEFAULT_SEGMENT_BYTES, show_default=True,
              help="Start a new segment once one holds this many bytes.")
@click.option("--replay-keep-segments", type=int, default=None,
              help="Keep only the newest N segments (default: all).")  # fmt: skip
async def dask_setup(scheduler: Any, replay_dir: str | None, replay_segment_bytes: int,
                     replay_keep_segments: int | None) -> None:  # fmt: skip
    """The preload hook: ``dask scheduler --preload replay.record --replay-dir DIR``.

    Opens the recording at once (an error is logged by the scheduler, which runs on
    without it) and adds the plugin; a scheduler that already has a recorder keeps it.
    """
    if not hasattr(scheduler, "transition_log"):
        logger.warning("replay.record: preloaded into a %s, not a scheduler: nothing recorded", type(scheduler).__name__)
        return
    if recorder_of(scheduler) is not None:
        return
    recorder = TransitionRecorder(replay_dir or DEFAULT_DIRECTORY, segment_bytes=replay_segment_bytes,
                                  keep_segments=replay_keep_segments)  # fmt: skip
    recorder.open(scheduler)
    scheduler.add_plugin(recorder)


def flush_live(timeout: float = 2.0) -> None:
    """Write what every live recorder of this process has buffered, from any thread."""
    recorders: list[TransitionRecorder] = []
    for _ in range(5):
        try:
            recorders = list(LIVE)
            break
        except RuntimeError:  # a recorder started or finished on another thread meanwhile
            continue
    for recorder in recorders:
        loop = recorder._loop
        if loop is None or not loop.is_running():
            recorder.flush()
            continue
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            recorder.flush()
            continue
        done = threading.Event()

        def flush(recorder: TransitionRecorder = recorder, done: threading.Event = done) -> None:
            try:
                recorder.flush()
            finally:
                done.set()

        try:
            loop.call_soon_threadsafe(flush)
        except RuntimeError:  # the loop closed meanwhile
            continue
        done.wait(timeout)


__all__ = ["FORMAT", "MANIFEST", "TransitionRecorder", "dask_setup", "flush_live", "recorder_of"]
