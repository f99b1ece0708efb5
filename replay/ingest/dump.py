"""Cluster dumps (``Client.dump_cluster_state``) into a :class:`~replay.events.Trace`.

The msgpack and yaml readers both produce a dict of the dump's own shape (the msgpack
one only with the parts replay uses); this module turns that dict into records.
"""

from __future__ import annotations

import re
from typing import Any

from replay.errors import UnreadableInputError
from replay.events import TaskGraph, TaskRecord, Trace, TraceMetadata, WorkerDump, WorkerRecord, WorkerStimulus
from replay.ingest.keys import KeyError_, canonical_key, key_from_taskstate
from replay.ingest.records import ReadLog, entry_fields, scheduler_transitions, worker_records
from replay.releases import NATIVE_KEYS_SINCE, parse_release


def distributed_version(versions: Any) -> str | None:
    """The scheduler's distributed version from any era's ``versions`` block."""
    if not isinstance(versions, dict):
        return None
    for holder in (versions.get("scheduler"), versions):
        if isinstance(holder, dict):
            packages = holder.get("packages")
            if isinstance(packages, dict) and isinstance(packages.get("distributed"), str):
                return str(packages["distributed"])
    return None


def trace_from_dump(dump: Any, path: str, format_name: str) -> Trace:
    """Records and metadata from a dump dict."""
    if not isinstance(dump, dict) or not isinstance(dump.get("scheduler"), dict):
        raise UnreadableInputError(path, "not a cluster dump: no 'scheduler' map at the top level")
    scheduler: dict[str, Any] = dump["scheduler"]
    raw_log = scheduler.get("transition_log", [])
    if not isinstance(raw_log, list | tuple):
        raise UnreadableInputError(path, "the dump's scheduler.transition_log is not a list")
    if isinstance(raw_log, ReadLog):  # validated while it was read
        transitions = tuple(raw_log)
        fields = raw_log.entry_fields
    else:
        transitions = tuple(scheduler_transitions(raw_log, path))
        fields = entry_fields(raw_log)
    version = distributed_version(dump.get("versions"))
    release = parse_release(version)
    workers = dump.get("workers")
    worker_addresses = _worker_addresses(scheduler.get("workers"), workers)
    counter = scheduler.get("transition_counter")
    metadata = TraceMetadata.checked(
        path=path,
        format=format_name,
        distributed_version=version,
        scheduler_address=scheduler.get("address") if isinstance(scheduler.get("address"), str) else None,
        worker_addresses=worker_addresses,
        transition_counter=counter if isinstance(counter, int) and not isinstance(counter, bool) else None,
        entry_fields=fields,
        stringified_keys=release is not None and release < NATIVE_KEYS_SINCE,
    )
    return Trace(
        metadata=metadata,
        transitions=transitions,
        worker_records=_worker_records(workers),
        graph=task_graph(scheduler.get("tasks"), path, scheduler.get("workers")),
        workers=worker_dumps(workers, scheduler.get("workers"), path),
    )


def _worker_addresses(scheduler_workers: Any, workers: Any) -> tuple[str, ...]:
    addresses: dict[str, None] = {}
    for source in (scheduler_workers, workers):
        if isinstance(source, dict):
            addresses.update((address, None) for address in source if isinstance(address, str))
    return tuple(addresses)


def worker_dumps(workers: Any, scheduler_workers: Any, path: str) -> tuple[WorkerDump, ...]:
    """Each worker of a dump that holds their state (a msgpack dump read without them holds none)."""
    if not isinstance(workers, dict):
        return ()
    table = scheduler_workers if isinstance(scheduler_workers, dict) else {}
    dumps = []
    for address, state in workers.items():
        known = table.get(address)
        known = known if isinstance(known, dict) else {}
        name = known.get("name")
        resources = known.get("resources")
        common: dict[str, Any] = {
            "address": str(address),
            "name": None if name is None else str(name),
            "resources": _resources(resources),
        }
        if isinstance(state, str):
            dumps.append(WorkerDump.model_construct(**common, unreachable=state[:500]))
            continue
        if not isinstance(state, dict) or not state:
            continue  # read without its state
        try:
            dumps.append(_worker_dump(state, common))
        except KeyError_ as error:
            raise UnreadableInputError(path, f"worker {address}: {error}") from None
    return tuple(dumps)


def _worker_dump(state: dict[str, Any], common: dict[str, Any]) -> WorkerDump:
    nthreads = state.get("nthreads")
    counter = state.get("transition_counter")
    log = state.get("log")
    tasks = state.get("tasks")
    data = state.get("data")
    return WorkerDump.model_construct(
        **common,
        nthreads=nthreads if type(nthreads) is int else None,
        stimuli=tuple(_stimuli(state.get("stimulus_log"))),
        log_entries=len(log) if isinstance(log, list | tuple) else 0,
        transition_counter=counter if type(counter) is int else None,
        task_states={
            canonical_key(key): str(fields.get("state"))
            for key, fields in (tasks.items() if isinstance(tasks, dict) else ())
            if isinstance(fields, dict)
        },
        data=tuple(canonical_key(key) for key in (data if isinstance(data, dict | list | tuple) else ())),
        log_length=_log_length(state.get("config")),
    )


def _stimuli(stimulus_log: Any) -> list[WorkerStimulus]:
    stimuli = []
    for index, event in enumerate(stimulus_log if isinstance(stimulus_log, list | tuple) else ()):
        if not isinstance(event, dict):
            continue
        fields = {name: _as_tuples(value) for name, value in event.items() if name not in _EVENT_HEAD}
        stimulus_id, handled, key = event.get("stimulus_id"), event.get("handled"), event.get("key")
        stimuli.append(
            WorkerStimulus.model_construct(
                index=index,
                event=str(event.get("cls")),
                stimulus_id=stimulus_id if isinstance(stimulus_id, str) else None,
                key=None if key is None else canonical_key(key),
                handled=float(handled) if isinstance(handled, int | float) and not isinstance(handled, bool) else None,
                fields=fields,
            )
        )
    return stimuli


def _as_tuples(value: Any) -> Any:
    """Lists as tuples, all the way down: a msgpack and a YAML dump then give equal fields."""
    if isinstance(value, list | tuple):
        return tuple(_as_tuples(item) for item in value)
    if isinstance(value, dict):
        return {name: _as_tuples(item) for name, item in value.items()}
    return value


#: The fields of a dumped event that WorkerStimulus holds on their own.
_EVENT_HEAD = frozenset({"cls", "stimulus_id", "handled", "key"})


def _resources(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    return {str(name): float(amount) for name, amount in value.items() if type(amount) in (int, float)}


def _log_length(config: Any) -> int | None:
    """``distributed.admin.low-level-log-length`` from a worker's config (None: unbounded or unset)."""
    admin = config.get("distributed", {}).get("admin", {}) if isinstance(config, dict) else {}
    length = admin.get("low-level-log-length") if isinstance(admin, dict) else None
    return length if type(length) is int else None


def _worker_records(workers: Any) -> tuple[WorkerRecord, ...]:
    if not isinstance(workers, dict):
        return ()
    records: list[WorkerRecord] = []
    for address, state in workers.items():
        if isinstance(state, dict) and isinstance(state.get("log"), list | tuple):
            records.extend(worker_records(state["log"], str(address)))
    return tuple(records)


def task_graph(tasks: Any, path: str, scheduler_workers: Any = None) -> TaskGraph | None:
    """The graph of a dump's task table, from the ``<TaskState ...>`` reprs of each row.

    A dump names each task once per dependent and dependency, and each worker and client
    once per task it holds or wants: every repr is read once (:class:`_Reprs`). Where each
    actor runs comes from the scheduler's workers table (``scheduler_workers``).
    """
    if not isinstance(tasks, dict):
        return None
    rows: dict[Any, TaskRecord] = {}
    reprs = _Reprs()
    actor_homes = _actor_homes(scheduler_workers, reprs)
    keys_of = reprs.keys
    clients = reprs.clients
    workers = reprs.workers
    construct = TaskRecord.model_construct
    for raw_key, fields in tasks.items():
        if not isinstance(fields, dict):
            continue
        try:
            key = canonical_key(raw_key)
        except KeyError_ as error:
            raise UnreadableInputError(path, f"task table: {error}") from None
        state = fields.get("state")
        processing_on = workers(fields, "processing_on")
        # checked here: built without validation (see TraceMetadata.checked)
        rows[key] = construct(
            key=key,
            state=state if isinstance(state, str) else "unknown",
            dependencies=keys_of(fields.get("dependencies")),
            dependents=keys_of(fields.get("dependents")),
            who_wants=clients(fields, "who_wants"),
            waiters=keys_of(fields.get("waiters")) if "waiters" in fields else None,
            waiting_on=keys_of(fields.get("waiting_on")) if "waiting_on" in fields else None,
            processing_on=processing_on[0] if processing_on else None,
            who_has=workers(fields, "who_has"),
            actor_on=None if actor_homes is None or fields.get("actor") is not True else actor_homes.get(key, ()),
        )
    return TaskGraph.model_construct(source="dump", tasks=rows)


def _actor_homes(scheduler_workers: Any, reprs: _Reprs) -> dict[Any, tuple[str, ...]] | None:
    """For each actor, the workers whose ``actors`` list it (None: the table does not say)."""
    if not isinstance(scheduler_workers, dict):
        return None
    homes: dict[Any, tuple[str, ...]] = {}
    said = False
    for address, fields in scheduler_workers.items():
        if isinstance(fields, dict) and "actors" in fields and isinstance(address, str):
            said = True
            for key in reprs.keys(fields["actors"]):
                homes[key] = (*homes.get(key, ()), address)
    return homes if said else None


#: ``<Client 'Client-1180…'>`` and ``<WorkerState 'tcp://127.0.0.1:45895', name: …>``: the name or address
_CLIENT_REPR = re.compile(r"^<Client '([^']*)'>$")
_WORKER_REPR = re.compile(r"^<WorkerState '([^']*)'")
#: The usual ``<TaskState 'x' memory>`` and ``<TaskState ('x', 0, 1) memory>``, read without the
#: literal parser: a plain quoted name (no quote, backslash, or opening bracket that could spell
#: a key itself) and int parts. Anything else goes to :func:`key_from_taskstate`, which gives
#: these the same key.
_SIMPLE_TASKSTATE = re.compile(
    r"<(?:TaskState|Task) (?:'([^'\\(\[][^'\\]*)'|\('([^'\\(\[][^'\\]*)'((?:, -?(?:0|[1-9][0-9]*))+)\)) \S+>"
)


class _Reprs:
    """Keys, client names and worker addresses read from a dump's reprs, each text read once."""

    def __init__(self) -> None:
        self._keys: dict[str, Any] = {}
        self._names: dict[tuple[str, str], str | None] = {}

    def keys(self, reprs: Any) -> tuple[Any, ...]:
        """The keys of a list of ``<TaskState ...>`` reprs (what is not one is left out)."""
        if not isinstance(reprs, list | tuple):
            return ()
        known = self._keys
        keys = []
        for text in reprs:
            try:
                key = known[text]
            except KeyError:
                key = known[text] = self._key(text) if isinstance(text, str) else None
            except TypeError:  # unhashable: not a repr
                continue
            if key is not None:
                keys.append(key)
        return tuple(keys)

    @staticmethod
    def _key(text: str) -> Any:
        simple = _SIMPLE_TASKSTATE.fullmatch(text)
        if simple is not None:
            name, tuple_name, numbers = simple.groups()
            if name is not None:
                return name
            return (tuple_name, *map(int, numbers.split(", ")[1:]))
        parsed = key_from_taskstate(text)
        return None if parsed is None else parsed[0]

    def clients(self, fields: dict[str, Any], name: str) -> tuple[str, ...] | None:
        return self._read(fields, name, _CLIENT_REPR)

    def workers(self, fields: dict[str, Any], name: str) -> tuple[str, ...] | None:
        return self._read(fields, name, _WORKER_REPR)

    def _read(self, fields: dict[str, Any], name: str, pattern: re.Pattern[str]) -> tuple[str, ...] | None:
        """Client names or worker addresses from a field of reprs (None when absent or not understood).

        A dump writes an empty set as null, a single object as its repr, a set as a list of them.
        """
        if name not in fields:
            return None
        value = fields[name]
        texts = value if isinstance(value, list | tuple) else () if value is None else (value,)
        known = self._names
        names = []
        for text in texts:
            if not isinstance(text, str):
                return None
            found = known.get((pattern.pattern, text), _UNSEEN)
            if found is _UNSEEN:
                match = pattern.match(text)
                found = known[(pattern.pattern, text)] = None if match is None else match.group(1)
            if found is None:
                return None  # a repr of another era: unknown rather than wrong
            names.append(found)
        return tuple(names)


_UNSEEN: Any = object()
