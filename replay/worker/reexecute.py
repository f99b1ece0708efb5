"""Re-execute each worker's ``stimulus_log`` through a real ``WorkerState`` and compare the logs.

A cluster dump holds, for each worker, every event its state machine handled (the
``stimulus_log``) and what the machine wrote (the ``log``). Feeding the events, one by one,
to a fresh ``WorkerState`` of the dump's own release, with ``validate=True``, shows the first
exception the machine raises, and whether it writes the log the dump recorded. Fed to
ANOTHER release (differential mode), it shows where that release's machine parts ways:
a buggy dump through the fixed release shows what the fix changes.

The re-execution itself is :mod:`replay.worker.runner`, a standalone script: run in this
process when the installed distributed is the dump's release, else by the interpreter of
``--python`` (an environment with that release). ``distributed`` is never imported here:
only the runner imports it, and only when it runs.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgpack

from replay.events import Key, Trace, UnrecognisedRecord, WorkerDump, WorkerEvent, WorkerRecord, WorkerTransition
from replay.ingest.keys import KeyError_, canonical_key
from replay.ingest.records import worker_record
from replay.keys import format_key, key_to_json
from replay.machine.rules.base import Rule
from replay.releases import NATIVE_KEYS_SINCE, Release, format_release, parse_release
from replay.worker.findings import WorkerFinding
from replay.worker.model import model_worker
from replay.worker.tables import MODELLED_SINCE

#: WorkerState arrived in this release; older dumps' workers cannot be re-executed.
WORKER_STATE_SINCE: Release = (2022, 6, 1)
#: From this release both logs are bounded by ``distributed.admin.low-level-log-length``.
CONFIGURED_BOUND_SINCE: Release = (2023, 9, 3)
#: The fixed bounds before it, and the configured default after it.
OLD_STIMULUS_BOUND = 10_000
OLD_LOG_BOUND = 100_000
DEFAULT_LOG_LENGTH = 100_000
#: Log entries the Worker server writes, not its state machine: re-execution cannot write them.
SERVER_TAGS = frozenset(
    {"request-dep", "receive-dep", "receive-dep-failed", "busy-gather", "gather-dep-busy", "gather-dep-failed"}
)
#: Events a fresh worker can start with; a stimulus log starting otherwise lost its beginning.
#: A worker given no task yet is told when a peer leaves (RemoveWorkerEvent, since 2023.3.2).
FIRST_EVENTS = frozenset(
    {"ComputeTaskEvent", "AcquireReplicasEvent", "UpdateDataEvent", "PauseEvent", "UnpauseEvent", "RemoveWorkerEvent"}
)
#: Bounds of a run in another interpreter.
DEFAULT_TIMEOUT = 600.0
MAX_OUTPUT_BYTES = 512 * 1024 * 1024
STDERR_TAIL_BYTES = 4096
#: Entries of a stimulus shown in a divergence.
MAX_DIVERGENCE_ENTRIES = 40


def _rule(name: str, severity: Any, description: str, when: str) -> Rule:
    return Rule(name=name, severity=severity, description=description, when=when, since=WORKER_STATE_SINCE)


RULES: tuple[Rule, ...] = (
    _rule("reexecution-raised", "error",
          "re-executing the stimulus log on the dump's own release raised (InvalidTransition, InvalidTaskState, "
          "an assertion of validate_state, anything else): the stimulus and task where the worker broke",
          "at the stimulus, re-executed with validate=True"),
    _rule("resources-unaccounted", "error",
          "after a stimulus, the worker's available resources plus those held by its running tasks are not its "
          "total: a task ran without acquiring its resources, or gave back what it never took (what "
          "_validate_resources checks from 2022.7.1)",
          "after each stimulus, re-executed"),
    _rule("seceded-task-executing", "error",
          "after a SecedeEvent the task still counts as executing: its thread left the pool, the slot stays "
          "taken, and the scheduler is never told it is long-running",
          "after each SecedeEvent, re-executed"),
    _rule("reexecution-diverged", "warning",
          "the dump's own release, fed the recorded stimuli, writes another log than the recorded one: stimuli "
          "the log never kept (FindMissingEvent is never logged), or state changed outside the state machine",
          "per stimulus, re-executed on the dump's release"),
    _rule("after-divergence", "warning",
          "the re-execution raised, or broke one of replay's checks, after its log had parted from the recorded "
          "one: it no longer ran in the worker's state, so this shows nothing certain about the dump",
          "after a divergence, re-executed on the dump's release"),
    _rule("stimulus-log-incomplete", "warning",
          "the stimulus log does not start at the worker's first event (it starts with an event a fresh worker "
          "cannot handle, or it is as long as its bound): there is no known state to re-execute it from",
          "before re-executing"),
    _rule("reexecution-unavailable", "warning",
          "no distributed of the dump's release to re-execute with (install it, or give --python), or a "
          "release before WorkerState (2022.6.1)",
          "before re-executing"),
    _rule("reexecution-failed", "warning",
          "the re-execution could not run: an event could not be rebuilt from the dump, or the interpreter "
          "failed, timed out or wrote too much",
          "while re-executing"),
    _rule("reexecution-filled", "info",
          "what the dump leaves out and the re-execution filled in (run_spec, GatherDep*Event worker and "
          "total_nbytes, fields of another release dropped)",
          "while rebuilding the events"),
    _rule("differential-raised", "info",
          "another release (--python), fed the recorded stimuli, raises where the dump's release did not, or "
          "its validate_state fails",
          "at the stimulus, re-executed on another release"),
    _rule("differential-diverged", "info",
          "another release (--python), fed the recorded stimuli, writes another log: the first stimulus where "
          "the two releases part ways (a buggy dump through the fixed release shows what the fix changes)",
          "per stimulus, re-executed on another release"),
    _rule("worker-unreachable", "warning",
          "the worker did not answer the dump: its logs are missing", "when the dump is read"),
)  # fmt: skip
_SEVERITY = {rule.name: rule.severity for rule in RULES}


class ReexecutionError(Exception):
    """The re-execution could not run (the interpreter, the runner, or a limit)."""


# -- where to re-execute ---------------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    """Where stimuli are re-executed: this process (``python`` None) or another interpreter."""

    release: str
    python: str | None = None

    def describe(self) -> str:
        return "in-process" if self.python is None else self.python


@dataclass(frozen=True)
class Choice:
    """The interpreter to re-execute with, or why there is none."""

    interpreter: Interpreter | None
    reason: str | None = None


def installed_release() -> str | None:
    """The installed distributed's version, read from its metadata (distributed is not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("distributed")
    except PackageNotFoundError:
        return None


def probe(python: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """The distributed release of interpreter ``python`` (the runner run with no stimuli)."""
    output = _run_interpreter(python, {"format": 1, "stimuli": []}, timeout)
    release = output.get("release")
    if not isinstance(release, str):
        raise ReexecutionError(f"{python}: {output.get('error') or 'no distributed there'}")
    return release


def choose(release: str | None, python: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Choice:
    """``--python`` when given (whatever its release), else this process when it has the dump's release."""
    if python is not None:
        return Choice(Interpreter(probe(python, timeout), python))
    parsed = parse_release(release)
    if parsed is None:
        return Choice(None, "the dump does not say its distributed release")
    if parsed < WORKER_STATE_SINCE:
        return Choice(None, f"distributed {release} predates WorkerState ({format_release(WORKER_STATE_SINCE)}): "
                            "its worker cannot be re-executed")  # fmt: skip
    installed = installed_release()
    if installed is not None and parse_release(installed) == parsed:
        return Choice(Interpreter(installed))
    # the installed release stays out of the words: a report should not change with the environment
    return Choice(None, f"distributed {release} is not installed here: `pip install distributed=={release}` "
                        "(or --python PATH to an environment with it) would allow re-executing it")  # fmt: skip


# -- running the runner ----------------------------------------------------------------------


def runner_document(dump: WorkerDump, stringified_keys: bool) -> dict[str, Any]:
    """The runner's input for one worker: its facts and its stimuli as the dump wrote them."""
    return {
        "format": 1,
        "address": dump.address,
        "nthreads": dump.nthreads or 1,
        "resources": dump.resources or None,
        "stringified_keys": stringified_keys,
        "stimuli": [
            {"index": stimulus.index, "cls": stimulus.event, "stimulus_id": stimulus.stimulus_id,
             "key": stimulus.key, "handled": stimulus.handled, "fields": stimulus.fields}
            for stimulus in dump.stimuli
        ],
    }  # fmt: skip


def run_runner(document: dict[str, Any], interpreter: Interpreter, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """The runner's output for ``document``, in this process or in ``interpreter.python``."""
    if interpreter.python is not None:
        return _run_interpreter(interpreter.python, document, timeout)
    from replay.worker import runner

    # through msgpack both ways, as a subprocess's would: the same types either way
    try:
        output = runner.reexecute(_unpack(msgpack.packb(document, use_bin_type=True)))
    except Exception as error:  # noqa: BLE001 - as a failed interpreter: one finding, not a crash
        raise ReexecutionError(f"in-process: {type(error).__name__}: {error}") from error
    return _unpack(msgpack.packb(output, use_bin_type=True))


def _unpack(data: bytes) -> dict[str, Any]:
    value = msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=False)
    if not isinstance(value, dict):
        raise ReexecutionError("the runner wrote no map")
    return value


def _run_interpreter(python: str, document: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run the runner script in ``python`` (isolated mode), with a timeout and a bounded output."""
    from replay.worker import runner

    # no user site, and an environment of our own: nothing of this process's PYTHONPATH leaks in,
    # and a fixed hash seed makes the order the worker walks its sets the same run after run
    command = [python, "-s", str(Path(runner.__file__).resolve())]
    environment = {"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=environment)  # fmt: skip
    except OSError as error:
        raise ReexecutionError(f"{python}: {error.strerror or error}") from None
    timer = threading.Timer(timeout, process.kill)
    errors = bytearray()
    feeder = threading.Thread(target=_feed, args=(process, msgpack.packb(document, use_bin_type=True)), daemon=True)
    reader = threading.Thread(target=_tail, args=(process, errors), daemon=True)
    timer.start()
    feeder.start()
    reader.start()
    try:
        output = _bounded_read(process)
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
    if output is None:
        raise ReexecutionError(f"{python}: the runner wrote more than {MAX_OUTPUT_BYTES} bytes")
    if process.returncode != 0:
        if process.returncode < 0 and not timer.is_alive() and not output:
            raise ReexecutionError(f"{python}: no answer within {timeout:g} s")
        tail = bytes(errors).decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise ReexecutionError(f"{python}: the runner failed (exit {process.returncode}): {tail[0]}")
    try:
        return _unpack(output)
    except (ValueError, msgpack.ExtraData) as error:
        raise ReexecutionError(f"{python}: unreadable runner output: {error}") from None


def _feed(process: subprocess.Popen[bytes], data: bytes) -> None:
    try:
        assert process.stdin is not None
        process.stdin.write(data)
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass


def _tail(process: subprocess.Popen[bytes], errors: bytearray) -> None:
    assert process.stderr is not None
    while chunk := process.stderr.read(65536):
        errors.extend(chunk)
        del errors[:-STDERR_TAIL_BYTES]


def _bounded_read(process: subprocess.Popen[bytes]) -> bytes | None:
    """Standard output up to the bound (None past it: the process is killed)."""
    assert process.stdout is not None
    chunks: list[bytes] = []
    size = 0
    while chunk := process.stdout.read(1 << 20):
        size += len(chunk)
        if size > MAX_OUTPUT_BYTES:
            process.kill()
            return None
        chunks.append(chunk)
    return b"".join(chunks)


# -- comparing the logs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One worker log entry, with what re-execution must reproduce (its timestamp aside)."""

    record: WorkerRecord
    #: its position in the recorded log (None: a re-executed entry)
    log_index: int | None = None

    @property
    def stimulus_id(self) -> str | None:
        record = self.record
        return None if isinstance(record, UnrecognisedRecord) else record.stimulus_id

    @property
    def key(self) -> Key | None:
        record = self.record
        if isinstance(record, WorkerTransition):
            return record.key
        if isinstance(record, WorkerEvent):
            if record.key is not None or not record.keys:
                return record.key
            return min(record.keys, key=repr)
        return None

    @property
    def group(self) -> str:
        """What orders this entry: its task's entries keep their order; tasks may interleave."""
        record = self.record
        if isinstance(record, WorkerTransition) or (isinstance(record, WorkerEvent) and record.key is not None):
            return repr(record.key)
        return repr(self.comparable()[:2])

    def comparable(self) -> tuple[Any, ...]:
        """What must be equal: every field but the timestamp; recommendations and key lists as sets."""
        record = self.record
        if isinstance(record, WorkerTransition):
            recommendations = tuple(sorted(record.recommendations.items(), key=repr))
            return ("transition", record.key, record.start, record.requested, record.finish, recommendations,
                    record.stimulus_id)  # fmt: skip
        if isinstance(record, WorkerEvent):
            keys = tuple(sorted(record.keys, key=repr))
            return ("event", record.tag, record.key, keys, record.peer, record.prior_state, record.stimulus_id)
        raw = record.raw[:-1] if record.raw and isinstance(record.raw[-1], float) else record.raw
        return ("unrecognised", _as_tuples(raw))

    def to_json(self) -> list[Any]:
        """The entry as JSON, as the log writes it without its timestamp."""
        record = self.record
        if isinstance(record, WorkerTransition):
            recommendations = [[key_to_json(key), state] for key, state in record.recommendations.items()]
            return [key_to_json(record.key), record.start, record.requested, record.finish, recommendations,
                    record.stimulus_id]  # fmt: skip
        if isinstance(record, WorkerEvent):
            if record.key is not None:
                prior = [record.prior_state] if record.prior_state is not None else []
                return [key_to_json(record.key), record.tag, *prior, record.stimulus_id]
            peer = [record.peer] if record.peer is not None else []
            return [record.tag, *peer, [key_to_json(key) for key in record.keys], record.stimulus_id]
        raw: list[Any] = _jsonable(list(self.comparable()[1]))
        return raw

    def text(self) -> str:
        """``x cancelled → long-running {y: ready}``, ``x compute-task (was cancelled)``, ``free-keys [x]``."""
        record = self.record
        if isinstance(record, WorkerTransition):
            asked = f" (asked {record.requested})" if record.requested not in (None, record.finish) else ""
            recommendations = ", ".join(f"{format_key(key)}: {state}" for key, state in record.recommendations.items())
            return f"{format_key(record.key)} {record.start} → {record.finish}{asked} {{{recommendations}}}"
        if isinstance(record, WorkerEvent):
            if record.key is not None:
                prior = f" (was {record.prior_state})" if record.prior_state is not None else ""
                return f"{format_key(record.key)} {record.tag}{prior}"
            peer = f" {record.peer}" if record.peer is not None else ""
            return f"{record.tag}{peer} [{', '.join(format_key(key) for key in record.keys)}]"
        return repr(self.comparable()[1])


def _as_tuples(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_as_tuples(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted(((repr(key), _as_tuples(item)) for key, item in value.items()), key=repr))
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return repr(value)
    return value


def is_server_entry(record: WorkerRecord) -> bool:
    """An entry the Worker server writes around a gather, never its state machine."""
    return isinstance(record, WorkerEvent) and (record.tag in SERVER_TAGS or record.tag.startswith("gather-dep-"))


@dataclass(frozen=True)
class Divergence:
    """The first stimulus whose re-executed entries differ from the recorded ones."""

    stimulus_index: int
    stimulus_id: str | None
    key: Key | None
    recorded: tuple[Entry, ...]
    replayed: tuple[Entry, ...]
    #: the worker log index of the first recorded entry that differs (None: the recorded side has none)
    log_index: int | None
    #: recorded entries of this stimulus whose stimulus id no stimulus of the log has
    unlogged: tuple[str, ...] = ()
    #: the stimulus's event class, e.g. ``SecedeEvent``
    cls: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "stimulus_index": self.stimulus_index,
            "stimulus_id": self.stimulus_id,
            "key": None if self.key is None else key_to_json(self.key),
            "recorded": [entry.to_json() for entry in self.recorded[:MAX_DIVERGENCE_ENTRIES]],
            "replayed": [entry.to_json() for entry in self.replayed[:MAX_DIVERGENCE_ENTRIES]],
        }


@dataclass(frozen=True)
class Comparison:
    """The recorded log against the re-executed one."""

    divergence: Divergence | None
    #: recorded entries that matched, and those skipped (written by the Worker server)
    compared: int
    skipped: int
    #: the recorded log is the tail of a longer one (it reached its bound)
    truncated: bool


def compare(
    stimuli_ids: Sequence[str | None],
    stimulus_keys: Sequence[Key | None],
    recorded: Sequence[Entry],
    replayed: Sequence[Sequence[Entry]],
    *,
    truncated: bool = False,
    skipped: int = 0,
) -> Comparison:
    """Compare, stimulus by stimulus, the re-executed entries with as many recorded ones.

    Within one stimulus, entries of different keys may come in another order: the worker
    walks sets of tasks, whose order follows memory addresses and changes from run to run.
    So a stimulus matches when each key's own entries, in order, are the same. At the first
    stimulus that does not match, the divergence is at the earlier of it and the stimulus
    the next recorded entry's id names: stimulus ids do not tell entries apart on their own
    (the scheduler's free-keys after a task-finished carries the task-finished's id), and a
    stimulus may have written nothing on one side. A truncated log is compared with the tail
    of the re-executed one. Stimuli after the last one handled (the re-execution stopped at
    an exception) are not compared.
    """
    blocks = [list(entries) for entries in replayed]
    if truncated:
        excess = sum(len(block) for block in blocks) - len(recorded)
        for block in blocks:
            dropped = min(max(excess, 0), len(block))
            del block[:dropped]
            excess -= dropped
    position = 0
    last_written = -1
    for index, block in enumerate(blocks):
        chunk = recorded[position : position + len(block)]
        if not _same_entries(block, chunk):
            return _diverged(stimuli_ids, stimulus_keys, recorded, position, blocks, index, last_written,
                             truncated, skipped)  # fmt: skip
        position += len(block)
        last_written = index if block else last_written
    if position == len(recorded):
        return Comparison(None, position, skipped, truncated)
    named = _next_stimulus(stimuli_ids, last_written + 1, recorded[position].stimulus_id)
    if len(blocks) < len(stimuli_ids) and (named is None or named >= len(blocks)):
        return Comparison(None, position, skipped, truncated)  # the rest was never re-executed
    index = named if named is not None and named < len(blocks) else len(blocks) - 1
    return _diverged(stimuli_ids, stimulus_keys, recorded, position, blocks, index, last_written, truncated, skipped)


def _same_entries(replayed: Sequence[Entry], recorded: Sequence[Entry]) -> bool:
    """The same entries up to the order the worker walked a set in.

    Each key's entries in the same order (keys may interleave differently), and the same
    recommendations over the stimulus: which of a task's dependencies arrives last, and so
    carries the recommendation that readies it, follows the order of a set too.
    """
    if len(replayed) != len(recorded):
        return False
    if [entry.comparable() for entry in replayed] == [entry.comparable() for entry in recorded]:
        return True
    if _by_key(replayed) == _by_key(recorded):
        return True
    return _by_key(replayed, recommendations=False) == _by_key(recorded, recommendations=False) and sorted(
        _recommendations(replayed), key=repr
    ) == sorted(_recommendations(recorded), key=repr)


def _recommendations(entries: Sequence[Entry]) -> list[tuple[Key, str]]:
    return [item for entry in entries if isinstance(entry.record, WorkerTransition)
            for item in entry.record.recommendations.items()]  # fmt: skip


def _by_key(entries: Sequence[Entry], *, recommendations: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Each key's entries in order (a transition without its recommendations when asked)."""
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for entry in entries:
        form = entry.comparable()
        if not recommendations and form[0] == "transition":
            form = form[:5] + form[6:]
        groups.setdefault(entry.group, []).append(form)
    return groups


def _diverged(
    stimuli_ids: Sequence[str | None],
    stimulus_keys: Sequence[Key | None],
    recorded: Sequence[Entry],
    position: int,
    blocks: Sequence[Sequence[Entry]],
    index: int,
    last_written: int,
    truncated: bool,
    skipped: int,
) -> Comparison:
    """The divergence at stimulus ``index`` (or earlier: the one the next recorded entry names)."""
    rest = recorded[position:]
    named = _next_stimulus(stimuli_ids, last_written + 1, rest[0].stimulus_id) if rest else None
    if named is not None and named < index:
        index = named
    recorded_entries = []
    for entry in rest:
        if (
            entry.stimulus_id != stimuli_ids[index]
            and _next_stimulus(stimuli_ids, index, entry.stimulus_id) is not None
        ):
            break
        recorded_entries.append(entry)
    replayed_entries = tuple(blocks[index]) if index < len(blocks) else ()
    unlogged = tuple(sorted({
        entry.stimulus_id for entry in recorded_entries
        if entry.stimulus_id is not None and entry.stimulus_id not in stimuli_ids
    }))  # fmt: skip
    was, now = first_difference(recorded_entries, replayed_entries)
    key = next((entry.key for entry in (now, was) if entry is not None and entry.key is not None), stimulus_keys[index])
    divergence = Divergence(index, stimuli_ids[index], key, tuple(recorded_entries), replayed_entries,
                            None if was is None else was.log_index, unlogged)  # fmt: skip
    return Comparison(divergence, position, skipped, truncated)


def first_difference(recorded: Sequence[Entry], replayed: Sequence[Entry]) -> tuple[Entry | None, Entry | None]:
    """The first entries that differ: in the first key (in the order written) whose entries differ,
    the first of its entries that differs on each side (None: that side has no more)."""
    recorded_groups = _grouped_entries(recorded)
    replayed_groups = _grouped_entries(replayed)
    for entry in [*replayed, *recorded]:
        mine = recorded_groups.get(entry.group, [])
        theirs = replayed_groups.get(entry.group, [])
        forms = [item.comparable() for item in mine], [item.comparable() for item in theirs]
        if forms[0] == forms[1]:
            continue
        position = next(
            (n for n, (a, b) in enumerate(zip(*forms, strict=False)) if a != b), min(len(mine), len(theirs))
        )
        return (mine[position] if position < len(mine) else None, theirs[position] if position < len(theirs) else None)
    return (None, None)


def _grouped_entries(entries: Sequence[Entry]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    return groups


def _next_stimulus(stimuli_ids: Sequence[str | None], current: int, stimulus_id: str | None) -> int | None:
    """The stimulus, from ``current`` on, whose id is ``stimulus_id``."""
    for position in range(current, len(stimuli_ids)):
        if stimuli_ids[position] == stimulus_id:
            return position
    return None


# -- the report of one worker ----------------------------------------------------------------


@dataclass(frozen=True)
class WorkerReport:
    """What re-executing one worker showed."""

    address: str
    name: str | None
    #: the dump's release
    release: str | None
    #: entries of the worker's log, and of its stimulus log
    events: int
    stimuli: int
    reexecuted: bool
    #: the release and interpreter it was re-executed on (None: it was not)
    interpreter: Interpreter | None = None
    differential: bool = False
    findings: tuple[WorkerFinding, ...] = ()
    divergence: Divergence | None = None
    comparison: Comparison | None = None
    #: what the re-execution filled in: (event class, field, how, count)
    filled: tuple[tuple[str, str, str, int], ...] = ()
    #: stimuli handled before the re-execution stopped
    handled: int = 0
    #: each stimulus handled: its event class, and the entries re-execution wrote for it
    steps: tuple[tuple[str, tuple[Entry, ...]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "name": self.name,
            "release": self.release,
            "events": self.events,
            "stimuli": self.stimuli,
            "reexecuted": self.reexecuted,
            "reexecuted_on": None
            if self.interpreter is None
            else {"release": self.interpreter.release, "how": self.interpreter.describe()},
            "differential": self.differential,
            "findings": [finding.to_json() for finding in self.findings],
            "divergence": None if self.divergence is None else self.divergence.to_json(),
        }


@dataclass(frozen=True)
class WorkersResult:
    """Every worker of one dump."""

    source: dict[str, Any]
    workers: tuple[WorkerReport, ...]
    #: why nothing could be re-executed here (None: an interpreter was found)
    unavailable: str | None = None

    @property
    def findings(self) -> tuple[WorkerFinding, ...]:
        return tuple(finding for report in self.workers for finding in report.findings)

    @property
    def errors(self) -> int:
        return sum(finding.severity == "error" for finding in self.findings)

    @property
    def warnings(self) -> int:
        return sum(finding.severity == "warning" for finding in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "workers": [report.to_json() for report in self.workers],
            "summary": {"errors": self.errors, "warnings": self.warnings},
        }


@dataclass
class _Findings:
    machine: str
    items: list[WorkerFinding] = field(default_factory=list)

    def add(self, rule: str, message: str, *, stimulus_index: int | None = None, key: Key | None = None,
            stimulus_id: str | None = None, event: int | None = None) -> None:  # fmt: skip
        self.items.append(
            WorkerFinding(rule=rule, severity=_SEVERITY[rule], machine=self.machine, event=event,
                          stimulus_index=stimulus_index, key=key, stimulus_id=stimulus_id, message=message)
        )  # fmt: skip


def incomplete_reason(dump: WorkerDump, release: Release | None) -> str | None:
    """Why the stimulus log does not start at the worker's first event, if it does not."""
    if not dump.stimuli:
        return None
    bound = stimulus_bound(dump, release)
    if bound is not None and len(dump.stimuli) >= bound:
        return (f"it holds {len(dump.stimuli)} stimuli, its bound: older ones were dropped "
                "(raise distributed.admin.low-level-log-length)")  # fmt: skip
    first = dump.stimuli[0]
    if first.event not in FIRST_EVENTS:
        return (f"it starts with a {first.event}, which a fresh worker cannot have handled first: "
                "its beginning is missing")  # fmt: skip
    return None


def stimulus_bound(dump: WorkerDump, release: Release | None) -> int | None:
    if dump.log_length is not None:
        return dump.log_length
    if release is None:
        return None
    return OLD_STIMULUS_BOUND if release < CONFIGURED_BOUND_SINCE else DEFAULT_LOG_LENGTH


def log_bound(dump: WorkerDump, release: Release | None) -> int | None:
    if dump.log_length is not None:
        return dump.log_length
    if release is None:
        return None
    return OLD_LOG_BOUND if release < CONFIGURED_BOUND_SINCE else DEFAULT_LOG_LENGTH


def check_worker(
    dump: WorkerDump,
    records: Sequence[WorkerRecord],
    release_text: str | None,
    choice: Choice,
    timeout: float = DEFAULT_TIMEOUT,
) -> WorkerReport:
    """Re-execute one worker (when possible) and report what it showed."""
    release = parse_release(release_text)
    found = _Findings(dump.address)
    common: dict[str, Any] = {
        "address": dump.address, "name": dump.name, "release": release_text,
        "events": dump.log_entries, "stimuli": len(dump.stimuli),
    }  # fmt: skip
    if dump.unreachable is not None:
        found.add("worker-unreachable", f"the worker did not answer the dump: {dump.unreachable}")
        return WorkerReport(**common, reexecuted=False, findings=tuple(found.items))
    if release is not None and release < WORKER_STATE_SINCE and (dump.stimuli or dump.log_entries):
        found.add("reexecution-unavailable", f"not re-executed: distributed {release_text} predates WorkerState "
                  f"({format_release(WORKER_STATE_SINCE)}), the state machine re-execution feeds")  # fmt: skip
        return WorkerReport(**common, reexecuted=False, findings=tuple(found.items))
    if not dump.stimuli:
        return WorkerReport(**common, reexecuted=False)
    reason = incomplete_reason(dump, release)
    if reason is not None:
        found.add("stimulus-log-incomplete", f"not re-executed: {reason}", stimulus_index=0,
                  stimulus_id=dump.stimuli[0].stimulus_id)  # fmt: skip
        return WorkerReport(**common, reexecuted=False, findings=tuple(found.items))
    interpreter = choice.interpreter
    if interpreter is None:
        found.add("reexecution-unavailable", f"not re-executed: {choice.reason}")
        return WorkerReport(**common, reexecuted=False, findings=tuple(found.items))
    through = parse_release(interpreter.release)
    differential = through != release
    stringified = through is not None and through < NATIVE_KEYS_SINCE
    try:
        output = run_runner(runner_document(dump, stringified), interpreter, timeout)
    except ReexecutionError as error:
        found.add("reexecution-failed", f"not re-executed: {error}")
        return WorkerReport(**common, reexecuted=False, interpreter=interpreter, findings=tuple(found.items))
    if output.get("error"):
        found.add("reexecution-failed", f"not re-executed: {output['error']}")
        return WorkerReport(**common, reexecuted=False, interpreter=interpreter, findings=tuple(found.items))
    return _report(dump, records, release, common, found, interpreter, differential, output)


def _report(
    dump: WorkerDump,
    records: Sequence[WorkerRecord],
    release: Release | None,
    common: dict[str, Any],
    found: _Findings,
    interpreter: Interpreter,
    differential: bool,
    output: dict[str, Any],
) -> WorkerReport:
    """Findings and the comparison from the runner's output."""
    on = f"on {interpreter.release}"
    stimuli = dump.stimuli
    filled = tuple(
        (str(item.get("cls")), str(item.get("field")), str(item.get("how")), int(item.get("count") or 0))
        for item in output.get("filled") or ()
    )
    for item in output.get("filled") or ():
        first = _int(item.get("first_stimulus_index"))
        found.add("reexecution-filled", f"{item.get('cls')}.{item.get('field')} of {item.get('count')} event(s), "
                  f"the first stimulus {first}: {item.get('how')}", stimulus_index=first,
                  stimulus_id=_stimulus_id(stimuli, first))  # fmt: skip
    handled = output.get("stimuli") or ()
    exception = output.get("exception")
    if isinstance(exception, dict) and exception.get("where") == "rebuild":
        index = _int(exception.get("stimulus_index"))
        found.add("reexecution-failed",
                  f"stimulus {index} could not be rebuilt {on}: {exception.get('type')}: {exception.get('message')}",
                  stimulus_index=index, stimulus_id=_stimulus_id(stimuli, index))  # fmt: skip
        exception = None
    replayed: list[list[Entry]] = []
    violations: list[tuple[int | None, dict[str, Any]]] = []
    for item in handled:
        entries = [Entry(worker_record(raw, dump.address)) for raw in item.get("entries") or ()]
        replayed.append([entry for entry in entries if not is_server_entry(entry.record)])
        violations.extend((_int(item.get("index")), violation) for violation in item.get("violations") or ())
    recorded = [Entry(record, position) for position, record in enumerate(records) if not is_server_entry(record)]
    comparison = compare(
        [stimulus.stimulus_id for stimulus in stimuli],
        [stimulus.key for stimulus in stimuli],
        recorded,
        replayed,
        truncated=_truncated(dump, release),
        skipped=len(records) - len(recorded),
    )
    divergence = comparison.divergence
    if divergence is not None:
        divergence = replace(divergence, cls=_cls(stimuli, divergence.stimulus_index))
        found.add("differential-diverged" if differential else "reexecution-diverged",
                  _divergence_message(divergence, on, stimuli), stimulus_index=divergence.stimulus_index,
                  key=divergence.key, stimulus_id=divergence.stimulus_id, event=divergence.log_index)  # fmt: skip
    parted = divergence.stimulus_index if divergence is not None else None

    def rule_for(own_rule: str, index: int | None) -> str:
        """The rule of a raise or broken check: after the logs parted, the state was not the worker's."""
        if differential:
            return "differential-raised"
        if parted is not None and index is not None and index > parted:
            return "after-divergence"
        return own_rule

    if not differential:  # another release's accounting is not the dump's problem
        by_check: dict[str, list[tuple[int | None, dict[str, Any]]]] = {}
        for index, violation in violations:
            by_check.setdefault(str(violation.get("check")), []).append((index, violation))
        for check, broken in by_check.items():
            # the first stimulus that broke it; the ones after it follow from it, so they are counted
            index, violation = broken[0]
            message = f"{on}, after stimulus {index} ({_cls(stimuli, index)}): {violation.get('message')}"
            if len(broken) > 1:
                last_index, last = broken[-1]
                message += (f"; still broken after {len(broken) - 1} later stimul{'us' if len(broken) == 2 else 'i'} "
                            f"(the last, {last_index}: {last.get('message')})")  # fmt: skip
            found.add(rule_for(check, index), message, stimulus_index=index, key=_key(violation.get("key")),
                      stimulus_id=_stimulus_id(stimuli, index))  # fmt: skip
    if isinstance(exception, dict):
        index = _int(exception.get("stimulus_index"))
        message = exception.get("message") or "(no message)"
        frame = next((line.strip() for line in reversed(exception.get("traceback") or ()) if line.strip()), "")
        where = "its validate_state()" if exception.get("where") == "validate_state" else "handle_stimulus"
        found.add(rule_for("reexecution-raised", index),
                  f"{on}, stimulus {index} ({_cls(stimuli, index)}) raised {exception.get('type')} in {where}: "
                  f"{message}" + (f" (at `{frame}`)" if frame else ""), stimulus_index=index,
                  key=_key(exception.get("key")), stimulus_id=_stimulus_id(stimuli, index))  # fmt: skip
    return WorkerReport(
        **common, reexecuted=True, interpreter=interpreter, differential=differential,
        findings=tuple(sorted(found.items, key=_finding_order)), divergence=divergence, comparison=comparison,
        filled=filled, handled=len(handled),
        steps=tuple((stimulus.event, tuple(entries)) for stimulus, entries in zip(stimuli, replayed, strict=False)),
    )  # fmt: skip


def _truncated(dump: WorkerDump, release: Release | None) -> bool:
    bound = log_bound(dump, release)
    return bound is not None and dump.log_entries >= bound


def _divergence_message(divergence: Divergence, on: str, stimuli: Sequence[Any]) -> str:
    recorded, replayed = len(divergence.recorded), len(divergence.replayed)
    was, now = first_difference(divergence.recorded, divergence.replayed)
    message = (
        f"{on}, stimulus {divergence.stimulus_index} ({_cls(stimuli, divergence.stimulus_index)}) writes "
        f"{_entries(replayed)} where the dump recorded {recorded}; the first that differs: recorded "
        f"{'nothing' if was is None else was.text()}, re-executed {'nothing' if now is None else now.text()}"
    )
    if not divergence.unlogged and _same_keys(divergence):
        message += ("; the same tasks moved in another order: where several were ready at once, the worker's "
                    "choice follows the order of a set of keys, which Python's per-process string hashing "
                    "changes from run to run, so a re-execution may not reproduce it")  # fmt: skip
    if divergence.unlogged:
        message += (f"; recorded entries of stimuli the log never kept: {', '.join(divergence.unlogged[:3])} "
                    "(FindMissingEvent is never logged)")  # fmt: skip
    return message


def _same_keys(divergence: Divergence) -> bool:
    keys = [{repr(entry.key) for entry in side} for side in (divergence.recorded, divergence.replayed)]
    return bool(keys[0]) and keys[0] == keys[1] and len(divergence.recorded) == len(divergence.replayed)


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


_ORDER = {"error": 0, "warning": 1, "info": 2}


def _finding_order(finding: WorkerFinding) -> tuple[int, bool, int]:
    """Errors first, then warnings, then notes; what was filled in last; then by stimulus."""
    index = finding.stimulus_index if finding.stimulus_index is not None else -1
    return (_ORDER[finding.severity], finding.rule == "reexecution-filled", index)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cls(stimuli: Sequence[Any], index: int | None) -> str:
    return stimuli[index].event if index is not None and 0 <= index < len(stimuli) else "?"


def _stimulus_id(stimuli: Sequence[Any], index: int | None) -> str | None:
    return stimuli[index].stimulus_id if index is not None and 0 <= index < len(stimuli) else None


def _key(value: Any) -> Key | None:
    if value is None:
        return None
    try:
        return canonical_key(value)
    except KeyError_:
        return repr(value)


# -- every worker of a dump ------------------------------------------------------------------


def with_model(
    report: WorkerReport, dump: WorkerDump, records: Sequence[WorkerRecord], release: Release | None
) -> WorkerReport:
    """A worker that was not re-executed is still checked: by the model replay of its log."""
    if report.reexecuted or (release is not None and release < MODELLED_SINCE):
        return report
    return replace(report, findings=(*model_worker(dump.address, records, dump, release), *report.findings))


def check_workers(
    trace: Trace,
    *,
    worker: str | None = None,
    python: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    choice: Choice | None = None,
) -> WorkersResult:
    """Re-execute every worker of ``trace`` (or the one ``worker`` names: address or name)."""
    release_text = trace.metadata.distributed_version
    if choice is None:
        choice = choose(release_text, python, timeout)
    dumps = [dump for dump in trace.workers if worker is None or worker in (dump.address, dump.name)]
    records: dict[str, list[WorkerRecord]] = {}
    for record in trace.worker_records:
        if record.worker is not None:
            records.setdefault(record.worker, []).append(record)
    release = parse_release(release_text)
    reports = tuple(
        with_model(check_worker(dump, records.get(dump.address, []), release_text, choice, timeout),
                   dump, records.get(dump.address, []), release)
        for dump in dumps
    )  # fmt: skip
    metadata = trace.metadata
    source = {
        "path": metadata.path,
        "format": metadata.format,
        "distributed_version": release_text,
        "events": sum(1 for _ in trace.iter_transitions()),
    }
    return WorkersResult(source, reports, choice.reason)
