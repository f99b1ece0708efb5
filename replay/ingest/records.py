"""Raw log entries (lists and tuples from any reader) into validated records.

Dirty-data repair lives here and in :mod:`replay.ingest.keys`, nowhere else.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from pydantic import ValidationError

from replay.errors import UnreadableInputError
from replay.events import (
    SCHEDULER_STATES,
    Key,
    SchedulerTransition,
    UnrecognisedRecord,
    WorkerEvent,
    WorkerRecord,
    WorkerTransition,
    scheduler_transitions_adapter,
)
from replay.ingest.keys import KeyError_, canonical_key, canonical_recommendations

#: Entries validated together: few enough that a batch is still in the CPU cache when it is
#: replayed (8,192 made the large bare log a quarter slower).
BATCH_SIZE = 256

#: Worker state names of every era (2021.01 - 2026.7), used to tell records apart.
WORKER_STATES = frozenset(
    {
        "new", "released", "waiting", "constrained", "ready", "executing", "long-running",
        "memory", "error", "rescheduled", "fetch", "flight", "missing", "cancelled", "resumed",
        "forgotten",
    }
)  # fmt: skip

#: Tags of key-first worker events ``(key, TAG, ...)``.
KEY_FIRST_TAGS = frozenset(
    {
        "compute-task", "ensure-task-exists", "put-in-memory", "receive-from-scatter",
        "cancel-compute", "missing-dep", "remove-replica", "remove-replica-confirmed",
        "release-key", "deserialize-error", "new", "re-adding key, new TaskState", "new-dep",
        "delete", "communication pass", "no workers found", "new workers found",
        "except-gather-dep-result",
    }
)  # fmt: skip

#: Tags of event-first worker events ``(TAG, ...)``; the value says where keys and peer sit.
EVENT_FIRST_TAGS = {
    "gather-dependencies": "peer-keys",
    "request-dep": "peer-keys",
    "receive-dep": "peer-keys",
    "gather-dep-busy": "peer-keys",
    "busy-gather": "peer-keys",
    "gather-dep-failed": "peer-keys",
    "receive-dep-failed": "peer-keys",
    "nothing-to-gather": "peer-keys",
    "free-keys": "keys",
    "remove-replicas": "keys",
    "remove-replica-rejected": "keys",
    "missing-who-has": "peer-key",
}


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def scheduler_entry_row(raw: Any, index: int, path: str) -> tuple[Any, ...]:
    """One raw scheduler entry as a 6-tuple with canonical keys (5-field entries get no stimulus)."""
    if not isinstance(raw, list | tuple):
        raise UnreadableInputError(
            path, f"entry {index} is {_a(type(raw).__name__)}, not a transition (a list of 5 or 6 fields)"
        )
    size = len(raw)
    if size not in (5, 6):
        raise UnreadableInputError(path, f"entry {index} has {size} fields, a transition has 5 or 6")
    try:
        key = canonical_key(raw[0])
        recommendations = canonical_recommendations(raw[3])
    except KeyError_ as error:
        raise UnreadableInputError(path, f"entry {index}: {error}") from None
    if size == 5:
        return (key, raw[1], raw[2], recommendations, None, raw[4])
    return (key, raw[1], raw[2], recommendations, raw[4], raw[5])


def validate_rows(rows: list[tuple[Any, ...]], first_index: int, path: str) -> list[SchedulerTransition]:
    """Validate one batch of rows; a bad field becomes one clear error naming the entry."""
    try:
        return scheduler_transitions_adapter().validate_python(rows)
    except ValidationError as error:
        detail = error.errors()[0]
        location = detail["loc"]
        entry = first_index + int(location[0]) if location else first_index
        field = _FIELD_NAMES.get(location[1], "?") if len(location) > 1 else "entry"
        raise UnreadableInputError(path, f"entry {entry}: {field}: {detail['msg']}") from None


_FIELD_NAMES: dict[Any, str] = dict(enumerate(SchedulerTransition._fields))
_FIELD_NAMES.update({name: name for name in _FIELD_NAMES.values()})


def scheduler_transitions(raw_entries: Iterable[Any], path: str) -> Iterator[SchedulerTransition]:
    """Validate raw scheduler entries in batches, yielding records in log order.

    A flat iterator over :func:`scheduler_transition_batches`: no Python frame per record.
    """
    return itertools.chain.from_iterable(scheduler_transition_batches(raw_entries, path))


def scheduler_transition_batches(
    raw_entries: Iterable[Any], path: str
) -> Iterator[list[SchedulerTransition]]:
    """Validated records in log order, a batch at a time.

    Entries already in their exact form (6-tuples of canonical keys, state strings, a
    float timestamp: what a msgpack log of 2023.9 or later decodes to) are checked in one
    tight loop and kept as they are. At the first entry that is not, it and the rest of
    its batch are made rows one by one and validated by pydantic. Either way each entry
    is checked as it arrives: a hostile entry of ten million fields is refused before the
    next one is unpacked.
    """
    iterator = iter(raw_entries)
    index = 0
    known: set[Any] = set()
    numbered: set[Any] = set()
    spelled: dict[str, Key] = {}
    while True:
        batch: list[Any] = []
        if _take_plain(iterator, known, numbered, spelled, batch):
            if not batch:
                return
            records = list(map(_new_transition, batch))
        else:
            usual = batch[:-1]
            remaining = BATCH_SIZE - len(batch)
            rest = itertools.chain(batch[-1:], islice(iterator, remaining))
            start = index + len(usual)
            rows: list[tuple[Any, ...]] = []
            try:
                for number, raw in enumerate(rest, start):
                    rows.append(scheduler_entry_row(raw, number, path))
            except UnreadableInputError:
                _validated(rows, start, path)  # an earlier entry's error comes first
                raise
            records = list(map(_new_transition, usual))
            records.extend(_validated(rows, start, path))
            del usual, rest
        del batch
        if len(known) + len(numbered) + len(spelled) > MAX_KNOWN_KEYS:
            known.clear()  # a long stream of fresh keys: keep the memory bounded
            numbered.clear()
            spelled.clear()
        index += len(records)
        yield records


#: Keys remembered as canonical; cleared when it holds more than this many.
MAX_KNOWN_KEYS = 1 << 17
_new_transition = functools.partial(tuple.__new__, SchedulerTransition)
_is_str = str.__instancecheck__


def _take_plain(
    iterator: Iterator[Any], known: set[Any], numbered: set[Any], spelled: dict[str, Key], batch: list[Any]
) -> bool:
    """Move up to :data:`BATCH_SIZE` entries into ``batch`` while each is a valid record as it is.

    An entry whose keys are spelled (a dump's stringified map keys) is repaired in place.
    False when the last entry moved needs more than that (or is invalid): the caller
    takes it from there. ``known``, ``numbered`` and ``spelled`` remember keys already
    read (see :func:`_canonical`).
    """
    append = batch.append
    try:
        for raw in islice(iterator, BATCH_SIZE):
            append(raw)
            if type(raw) is not tuple or len(raw) != 6:
                return False
            key, start, finish, recommendations, stimulus_id, timestamp = raw
            if (
                type(start) is not str
                or type(finish) is not str
                or type(recommendations) is not dict
                or not (stimulus_id is None or type(stimulus_id) is str)
                or not (timestamp is None or type(timestamp) is float)
            ):
                return False
            if not SCHEDULER_STATES.issuperset(recommendations.values()) and not all(
                map(_is_str, recommendations.values())
            ):
                return False
            if key in known and known.issuperset(recommendations):
                continue
            # A key seen for the first time, a numbered key (bool-checked each time), or a
            # spelled one (a dump's map keys are strings). Inline: this runs for most entries
            # of a graph whose keys are numbered from 0.
            canonical = (
                key
                if key in known or (key in numbered and bool not in map(type, key))
                else _canonical(key, known, numbered, spelled)
            )
            for other in recommendations:
                if not (other in known or (other in numbered and bool not in map(type, other))) and (
                    other in spelled or _canonical(other, known, numbered, spelled) is not other
                ):
                    break  # spelled: the dict is rebuilt
            else:
                if canonical is not key:
                    batch[-1] = (canonical, start, finish, recommendations, stimulus_id, timestamp)
                continue
            recommendations = {
                (spelled.get(other) or _canonical(other, known, numbered, spelled)): state
                for other, state in recommendations.items()
            }
            batch[-1] = (canonical, start, finish, recommendations, stimulus_id, timestamp)
    except (TypeError, KeyError_):  # an unhashable or invalid key: the caller names it
        return False
    return True


def _canonical(raw: Any, known: set[Any], numbered: set[Any], spelled: dict[str, Key]) -> Key:
    """:func:`canonical_key`, remembering a key that is canonical as it came, and in
    ``spelled`` a string that spells another key.

    Sets are searched by equality, and ``1 == 1.0 == True``: ``known`` holds strings and
    tuples with no part equal to 0 or 1, which no refused ``bool`` can equal; ``numbered``
    holds flat tuples with such a part, and a key found there is used as it came only
    when none of its parts is a ``bool``.
    """
    key = canonical_key(raw)
    if key is raw:
        if type(raw) is str:
            known.add(raw)
        elif type(raw) is tuple:
            if 0 in raw or 1 in raw:
                numbered.add(raw)
            else:
                known.add(raw)
    elif type(raw) is str:
        spelled[raw] = key
    return key


def _validated(rows: list[tuple[Any, ...]], first_index: int, path: str) -> list[SchedulerTransition]:
    if all(map(_is_plain, rows)):
        return list(map(_new_transition, rows))  # what pydantic would return, unchanged
    return validate_rows(rows, first_index, path)


class ReadLog(list[SchedulerTransition]):
    """A log validated while it was read (msgpack dumps), with the shape of its first entry."""

    entry_fields: int | None = None


def _is_plain(row: tuple[Any, ...]) -> bool:
    """Whether every validated field already has its exact type (pydantic would return it as is)."""
    stimulus_id = row[4]
    timestamp = row[5]
    return (
        type(row[1]) is str
        and type(row[2]) is str
        and (stimulus_id is None or type(stimulus_id) is str)
        and (timestamp is None or type(timestamp) is float)
    )


def entry_fields(raw_entries: Sequence[Any]) -> int | None:
    """5 or 6: the shape of the first entry, which tells the era."""
    for raw in raw_entries:
        if isinstance(raw, list | tuple):
            return len(raw)
    return None


def worker_record(raw: Any, worker: str | None) -> WorkerRecord:
    """Classify one worker log entry; shapes replay does not know are kept as they came."""
    if not isinstance(raw, list | tuple) or not raw:
        return UnrecognisedRecord(worker=worker, raw=(raw,))
    try:
        record = _known_worker_record(tuple(raw), worker)
    except (KeyError_, ValidationError, TypeError, ValueError):
        record = None
    return record if record is not None else UnrecognisedRecord(worker=worker, raw=tuple(raw))


def _stimulus_and_time(rest: tuple[Any, ...]) -> tuple[str | None, float | None]:
    stimulus = rest[0] if rest and isinstance(rest[0], str) else None
    timestamp = rest[1] if len(rest) > 1 and isinstance(rest[1], int | float) else None
    return stimulus, timestamp


def _known_worker_record(raw: tuple[Any, ...], worker: str | None) -> WorkerRecord | None:
    size = len(raw)
    first = raw[0]
    if isinstance(first, str) and first in EVENT_FIRST_TAGS and size >= 2:
        layout = EVENT_FIRST_TAGS[first]
        if layout == "keys":
            keys = raw[1] if isinstance(raw[1], list | tuple | set | frozenset) else [raw[1]]
            stimulus, timestamp = _stimulus_and_time(raw[2:])
            return WorkerEvent(
                worker=worker, tag=first, keys=tuple(canonical_key(k) for k in keys),
                stimulus_id=stimulus, timestamp=timestamp,
            )  # fmt: skip
        peer = raw[1] if isinstance(raw[1], str) else None
        keys_field = raw[2] if size > 2 else ()
        keys = keys_field if isinstance(keys_field, list | tuple | set | frozenset) else [keys_field]
        stimulus, timestamp = _stimulus_and_time(raw[3:])
        return WorkerEvent(
            worker=worker, tag=first, peer=peer, keys=tuple(canonical_key(k) for k in keys),
            stimulus_id=stimulus, timestamp=timestamp,
        )  # fmt: skip
    if size >= 2 and isinstance(raw[1], str) and raw[1] in KEY_FIRST_TAGS:
        rest = raw[2:]
        prior = None
        if rest and isinstance(rest[0], str) and rest[0] in WORKER_STATES and len(rest) >= 3:
            prior, rest = rest[0], rest[1:]
        stimulus, timestamp = _stimulus_and_time(rest)
        return WorkerEvent(
            worker=worker, tag=raw[1], key=canonical_key(first), prior_state=prior,
            stimulus_id=stimulus, timestamp=timestamp,
        )  # fmt: skip
    if size == 7 and isinstance(raw[4], dict):
        return WorkerTransition(
            worker=worker, key=canonical_key(first), start=raw[1], requested=raw[2], finish=raw[3],
            recommendations=canonical_recommendations(raw[4]), stimulus_id=raw[5], timestamp=raw[6],
        )  # fmt: skip
    if size == 6 and isinstance(raw[3], dict):
        return WorkerTransition(
            worker=worker, key=canonical_key(first), start=raw[1], requested=None, finish=raw[2],
            recommendations=canonical_recommendations(raw[3]), stimulus_id=raw[4], timestamp=raw[5],
        )  # fmt: skip
    if size in (3, 4) and all(isinstance(part, str) and part in WORKER_STATES for part in raw[1:]):
        return WorkerTransition(
            worker=worker, key=canonical_key(first), start=raw[1], requested=raw[2],
            finish=raw[-1], recommendations={}, stimulus_id=None, timestamp=None,
        )  # fmt: skip
    return None


def worker_records(raw_entries: Iterable[Any], worker: str | None) -> list[WorkerRecord]:
    """Every worker log entry as a record."""
    return [worker_record(raw, worker) for raw in raw_entries]
