"""Pydantic models of everything replay ingests.

Every record past ingest is one of these named types, never a positional tuple.
Keys are canonical (see :mod:`replay.ingest.keys`): ``str``, ``int``, ``float``
or a ``tuple`` of keys, whatever form the input spelled them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypeAlias, Union

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, TypeAdapter
from typing_extensions import TypeAliasType

if TYPE_CHECKING:
    Key: TypeAlias = Union[str, int, float, tuple["Key", ...]]  # noqa: UP007 - recursive alias
else:  # pydantic needs a named alias to build a recursive schema
    Key = TypeAliasType("Key", Union[str, int, float, tuple["Key", ...]])  # noqa: UP007

#: A key already made canonical by :func:`replay.ingest.keys.canonical_key`, which is where
#: key types are checked; pydantic re-checking every nested tuple would double ingest time.
CanonicalKey = Annotated[Key, SkipValidation]

#: Every scheduler task state name used by any release from 2021 to 2026.
SCHEDULER_STATES: frozenset[str] = frozenset(
    {"released", "waiting", "no-worker", "queued", "processing", "memory", "erred", "forgotten"}
)


class _Record(BaseModel):
    # built on first use, not at import: `replay run` on a msgpack log never validates one
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SchedulerTransition(NamedTuple):
    """One entry of the scheduler's ``transition_log`` (5-field entries have no stimulus id).

    A NamedTuple validated by pydantic in batches (:func:`scheduler_transitions_adapter`) rather
    than a ``BaseModel``: real logs hold hundreds of thousands of entries, and building a
    model per entry costs about four times as much (measured 3.5 us vs 0.9 us a record).
    """

    key: CanonicalKey
    start: str
    finish: str
    recommendations: Annotated[dict[Key, str], SkipValidation]  # built by ingest.keys
    stimulus_id: str | None
    timestamp: float | None


class WorkerTransition(_Record):
    """The worker's 7-field transition record ``(key, start, requested, finish, recs, stim, ts)``."""

    kind: Literal["worker-transition"] = "worker-transition"
    worker: str | None
    key: Key
    start: str
    requested: str | None
    finish: str
    recommendations: dict[Key, str]
    stimulus_id: str | None
    timestamp: float | None


class WorkerEvent(_Record):
    """An event-style worker record: ``compute-task``, ``free-keys``, ``request-dep``, ..."""

    kind: Literal["worker-event"] = "worker-event"
    worker: str | None
    tag: str
    key: Key | None = None
    keys: tuple[Key, ...] = ()
    peer: str | None = None
    prior_state: str | None = None
    stimulus_id: str | None = None
    timestamp: float | None = None


class UnrecognisedRecord(_Record):
    """A worker record of a shape replay does not know yet, kept as it came."""

    kind: Literal["unrecognised"] = "unrecognised"
    worker: str | None
    raw: tuple[Any, ...]


WorkerRecord: TypeAlias = Annotated[
    WorkerTransition | WorkerEvent | UnrecognisedRecord, Field(discriminator="kind")
]


class WorkerStimulus(_Record):
    """One event of a worker's ``stimulus_log``, as the dump wrote it (never unpickled).

    ``fields`` holds every other field of the event as it came: strings, numbers, lists
    and maps, with task keys still spelled the dump's way (``run_spec`` and data stay the
    strings or nulls the dump has). ``key`` is the event's task key, made canonical.
    """

    index: int
    #: the event's class name (the dump's ``cls``), e.g. ``ComputeTaskEvent``
    event: str
    stimulus_id: str | None = None
    key: CanonicalKey | None = None
    handled: float | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class WorkerDump(_Record):
    """One worker of a cluster dump: who it is, what it handled, what it held at the end."""

    address: str
    name: str | None = None
    nthreads: int | None = None
    resources: dict[str, float] | None = None
    #: the worker's ``stimulus_log``, oldest first
    stimuli: tuple[WorkerStimulus, ...] = ()
    #: how many entries its state-machine ``log`` holds
    log_entries: int = 0
    transition_counter: int | None = None
    #: each task's state on the worker at dump time
    task_states: dict[CanonicalKey, str] = Field(default_factory=dict)
    #: keys whose data the worker held at dump time
    data: tuple[CanonicalKey, ...] = ()
    #: the configured bound of its logs (``distributed.admin.low-level-log-length``); None: unbounded or unknown
    log_length: int | None = None
    #: a worker that did not answer the dump: the error the dump recorded instead
    unreachable: str | None = None


class TaskRecord(_Record):
    """One row of a dump's scheduler task table, as far as replay needs it.

    The scheduler's bookkeeping fields are None when the input did not carry them (a
    graph inferred from the log, or an export made before they were kept).
    """

    key: Key
    state: str
    dependencies: tuple[Key, ...] = ()
    dependents: tuple[Key, ...] = ()
    #: the clients that want the task (their names)
    who_wants: tuple[str, ...] | None = None
    #: dependents that still need the task's result
    waiters: tuple[Key, ...] | None = None
    #: dependencies the task still waits for
    waiting_on: tuple[Key, ...] | None = None
    #: the worker address it runs on
    processing_on: str | None = None
    #: the worker addresses that hold its result
    who_has: tuple[str, ...] | None = None
    #: for an actor: the workers whose actors table holds it (None: not an actor, or not said)
    actor_on: tuple[str, ...] | None = None


class TaskGraph(_Record):
    """The task graph an input carries; ``source`` is ``"dump"`` for a dump's task table (checked against the replay)."""

    source: str
    tasks: dict[Key, TaskRecord]


class TraceMetadata(_Record):
    """What is known about where a trace came from."""

    path: str
    format: str
    distributed_version: str | None = None
    scheduler_address: str | None = None
    worker_addresses: tuple[str, ...] = ()
    transition_counter: int | None = None
    entry_fields: int | None = None
    stringified_keys: bool = False

    @classmethod
    def checked(cls, **fields: Any) -> TraceMetadata:
        """Metadata of values ingest has already checked (strings, ints, tuples of strings).

        Built without validation: a ``replay run`` then never builds a validator, nor
        imports pydantic's plugin discovery (a tenth of its start-up).
        """
        return cls.model_construct(**fields)


@dataclass(frozen=True, slots=True)
class Trace:
    """A whole ingested trace.

    ``transitions`` is any re-iterable of validated entries: a tuple for small inputs,
    or a stream that re-reads the file for bare logs too large to hold.
    """

    metadata: TraceMetadata
    transitions: Iterable[SchedulerTransition]
    worker_records: tuple[WorkerRecord, ...] = ()
    graph: TaskGraph | None = None
    notes: tuple[str, ...] = field(default=())
    #: the workers of a dump, when the reader was asked for them
    workers: tuple[WorkerDump, ...] = ()

    def iter_transitions(self) -> Iterator[SchedulerTransition]:
        """Iterate over the scheduler entries in log order."""
        return iter(self.transitions)

    def materialise(self) -> tuple[SchedulerTransition, ...]:
        """The scheduler entries as a tuple (reads a stream once)."""
        if isinstance(self.transitions, tuple):
            return self.transitions
        return tuple(self.transitions)


@cache
def scheduler_transitions_adapter() -> TypeAdapter[list[SchedulerTransition]]:
    """Validates rows that are not in their exact form yet (built on first use)."""
    return TypeAdapter(list[SchedulerTransition])


@cache
def worker_records_adapter() -> TypeAdapter[list[WorkerRecord]]:
    """Validates worker records read back from replay's own export (built on first use)."""
    return TypeAdapter(list[WorkerRecord])
