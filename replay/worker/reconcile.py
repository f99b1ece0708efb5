"""The scheduler's view of each key against each worker's, from one cluster dump.

The scheduler's side is its task table (state, ``processing_on``, ``who_has``) and, for
each key, its last logged step; a worker's side is its task table, its data and its last
log entry for the key. Each mismatch is one :class:`~replay.machine.rules.base.Rule`,
checked by one small function, and reported as a :class:`WorkerFinding`.

A dump is not one instant: ``get_cluster_state`` takes the scheduler's snapshot first and
asks every worker for its own afterwards, while messages keep flowing both ways. A
mismatch that one message still on its way would resolve is therefore reported as a
**warning** that names that message; it is an **error** only when the dump itself shows
no such message can be on its way:

* the scheduler stimulus behind its side raised (``unfinished-cascade`` or
  ``counter-ahead`` of the scheduler replay), so none of its messages was ever sent;
* the worker already handled the scheduler's word on the key (its last entry for the
  key is that compute-task, free-keys or remove-replicas) and still disagrees;
* the scheduler had handled the stimulus at which the worker dropped a replica it still
  lists (one worker stimulus sends all its messages, the release included, in one batch,
  which the scheduler handles as a whole; only a later word of the worker could list it again).

Nothing else counts: a worker's report the scheduler handled may have been a stale run's,
ignored, with the new run's compute-task still on its way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from replay.errors import UnreadableInputError
from replay.events import (
    Key,
    SchedulerTransition,
    TaskRecord,
    Trace,
    WorkerDump,
    WorkerEvent,
    WorkerRecord,
    WorkerTransition,
)
from replay.ingest.records import EVENT_FIRST_TAGS
from replay.keys import format_key
from replay.machine.rules.base import Rule, Severity
from replay.machine.steps import Step
from replay.provenance import ReplayResult, replay_trace
from replay.releases import parse_release
from replay.worker.findings import WorkerFinding

#: When these rules are checked (``replay rules`` shows it).
AT_RECONCILE = "when a dump is reconciled (replay reconcile)"

WORKER_MISSING = Rule(
    "worker-missing", "warning",
    "a worker the scheduler lists (or names in processing_on or who_has) has no state in the dump: "
    "it is absent, or answered the dump with an error; nothing about it can be compared",
    when=AT_RECONCILE,
)  # fmt: skip
PROCESSING_WILL_NOT_REPORT = Rule(
    "processing-will-not-report", "error",
    "a task is processing on a worker that does not know it, or holds it in a state that will never "
    "report a result to the scheduler (released, cancelled, fetch, flight, missing, or memory or error "
    "the scheduler already heard of); a warning when a message still on its way when the dump was "
    "taken would explain it",
    when=AT_RECONCILE,
)  # fmt: skip
PROCESSING_STUCK = Rule(
    "processing-stuck-on-worker", "error",
    "a task processing on a running worker sits ready or constrained while the worker runs nothing "
    "that holds a thread or a resource: the worker starts tasks within the stimulus that frees "
    "room, so it will never start (a deadlock)",
    when=AT_RECONCILE, since=(2022, 6, 1),
)  # fmt: skip
REPLICA_NOT_ON_WORKER = Rule(
    "replica-not-on-worker", "error",
    "the scheduler lists a worker among a task's holders (who_has) that holds no data for it; a "
    "warning when the worker's release of it may still have been on its way to the scheduler",
    when=AT_RECONCILE,
)  # fmt: skip
DATA_UNKNOWN_TO_SCHEDULER = Rule(
    "data-unknown-to-scheduler", "error",
    "a worker holds data for a key the scheduler has no task for, or whose holders (who_has) leave "
    "the worker out; a warning when a message still on its way when the dump was taken would explain it",
    when=AT_RECONCILE,
)  # fmt: skip
MEMORY_WITHOUT_HOLDER = Rule(
    "memory-without-holder", "error",
    "a task in memory on the scheduler has no holder that has its data: who_has is empty, or none "
    "of the workers it lists holds it (a warning when each of those may be a release still on its way)",
    when=AT_RECONCILE,
)  # fmt: skip

RULES = (
    WORKER_MISSING,
    PROCESSING_WILL_NOT_REPORT,
    PROCESSING_STUCK,
    REPLICA_NOT_ON_WORKER,
    DATA_UNKNOWN_TO_SCHEDULER,
    MEMORY_WITHOUT_HOLDER,
)

#: Worker states of a task the scheduler has processing there that still end in a report:
#: computing or about to (``resumed``: a fetch that turned into a compute, see
#: ``WorkerState._transition_cancelled_waiting`` and the ``resumed`` transitions).
REPORTS_BACK = frozenset({"waiting", "ready", "constrained", "executing", "long-running", "resumed"})
#: Worker states that hold a thread, or may (a cancelled or resumed task may still be executing).
HOLDS_A_THREAD = frozenset({"executing", "cancelled", "resumed"})
#: Worker states that hold resources, or may (a seceded task keeps its resources until it ends).
HOLDS_RESOURCES = HOLDS_A_THREAD | {"long-running"}
#: Worker log events that are the worker handling a message of the scheduler.
COMPUTE_EVENTS = frozenset({"compute-task"})
RELEASE_EVENTS = frozenset({"free-keys", "remove-replicas"})
#: Scheduler replay rules that mean a transition raised: its stimulus sent no message.
RAISED_RULES = frozenset({"unfinished-cascade", "counter-ahead"})
#: The machine name of findings about the scheduler's own table.
SCHEDULER = "scheduler"


@dataclass(frozen=True, slots=True)
class SchedulerSide:
    """What the scheduler's dump says of a key: its table row and its last logged step."""

    #: None: the key is not in the scheduler's task table
    state: str | None
    processing_on: str | None = None
    who_has: tuple[str, ...] | None = None
    #: its last step in the scheduler's log (None: the log never names the key)
    step: Step | None = None

    @property
    def entry(self) -> int | None:
        return None if self.step is None else self.step.index

    @property
    def transition(self) -> SchedulerTransition | None:
        return None if self.step is None else self.step.transition

    @property
    def stimulus_id(self) -> str | None:
        return None if self.step is None else self.step.stimulus_id


@dataclass(frozen=True, slots=True)
class WorkerSide:
    """What one worker's dump says of a key: its state, whether it holds data, its last log entry."""

    address: str
    #: None: the worker has no task of that key
    state: str | None
    holds: bool
    #: index of its last entry for the key in that worker's ``log`` (None: none names it)
    entry: int | None = None
    record: WorkerRecord | None = None
    #: index in its ``stimulus_log`` of the stimulus of that entry
    stimulus_index: int | None = None

    @property
    def stimulus_id(self) -> str | None:
        record = self.record
        return None if record is None or record.kind == "unrecognised" else record.stimulus_id


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One finding with both sides of it, as the report shows them."""

    finding: WorkerFinding
    scheduler: SchedulerSide | None = None
    worker: WorkerSide | None = None
    #: every worker the finding is about (``--worker`` keeps a finding that names the one asked)
    workers: tuple[str, ...] = ()

    @property
    def rule(self) -> str:
        return self.finding.rule

    @property
    def severity(self) -> Severity:
        return self.finding.severity


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Everything ``replay reconcile`` found in one dump."""

    result: ReplayResult
    #: the workers whose state was compared, in the dump's order (with ``--worker``: that one, if it answered)
    workers: tuple[str, ...]
    #: each worker's name, when the scheduler knows one
    names: Mapping[str, str]
    mismatches: tuple[Mismatch, ...]
    #: workers that answered the dump with an error, and the error
    unreachable: Mapping[str, str] = field(default_factory=dict)
    #: how many tasks the scheduler's table holds, and how many the compared workers hold in all
    scheduler_tasks: int = 0
    worker_tasks: int = 0

    @property
    def findings(self) -> tuple[WorkerFinding, ...]:
        return tuple(mismatch.finding for mismatch in self.mismatches)

    @property
    def errors(self) -> int:
        return sum(1 for mismatch in self.mismatches if mismatch.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for mismatch in self.mismatches if mismatch.severity == "warning")

    def name_of(self, address: str) -> str:
        """A worker as shown: its name, else its address."""
        return self.names.get(address, address)

    def to_json(self) -> dict[str, Any]:
        """The ``replay reconcile --json`` document."""
        return {
            "source": self.result.source_json(),
            "workers": list(self.workers),
            "findings": [finding.to_json() for finding in self.findings],
            "summary": {"errors": self.errors, "warnings": self.warnings},
        }


@dataclass(slots=True)
class _WorkerLog:
    """One worker's dump, indexed: its last log entry per key and its stimuli by id."""

    dump: WorkerDump
    last_entry: dict[Key, tuple[int, WorkerRecord]] = field(default_factory=dict)
    #: each key's last transition out of memory (where the worker dropped its data)
    last_drop: dict[Key, tuple[int, WorkerTransition]] = field(default_factory=dict)
    stimulus_index: dict[str, int] = field(default_factory=dict)

    def held(self) -> set[Key]:
        """Keys whose data it holds (``data`` is missing from dumps before 2022.5: memory states count too)."""
        return set(self.dump.data) | {key for key, state in self.dump.task_states.items() if state == "memory"}

    def side(self, key: Key) -> WorkerSide:
        dump = self.dump
        state = dump.task_states.get(key)
        holds = state == "memory" or key in dump.data
        last = self.last_entry.get(key)
        if last is None:
            return WorkerSide(dump.address, state, holds)
        index, record = last
        stimulus_id = None if record.kind == "unrecognised" else record.stimulus_id
        stimulus = None if stimulus_id is None else self.stimulus_index.get(stimulus_id)
        return WorkerSide(dump.address, state, holds, index, record, stimulus)


@dataclass(slots=True)
class _Views:
    """Both sides, indexed once for every check."""

    trace: Trace
    result: ReplayResult
    tasks: Mapping[Key, TaskRecord]
    workers: dict[str, _WorkerLog]
    last_step: dict[Key, Step]
    #: each key's last step from memory (where the scheduler dropped its replicas)
    last_release: dict[Key, Step]
    #: each stimulus id of the scheduler's log, with the index of its last entry
    positions: dict[str | None, int]
    #: scheduler stimuli during which a transition raised
    raised: set[str]

    def scheduler_side(self, key: Key) -> SchedulerSide:
        task = self.tasks.get(key)
        step = self.last_step.get(key)
        if task is None:
            return SchedulerSide(None, step=step)
        return SchedulerSide(task.state, task.processing_on, task.who_has, step)

    def name(self, address: str) -> str:
        dump = self.workers[address].dump if address in self.workers else None
        return dump.name if dump is not None and dump.name else address

    def dropped_unsent(self, key: Key, scheduler: SchedulerSide) -> bool:
        """The scheduler's last stimulus for the key dropped its replicas (a step from memory) and raised:
        the releases it would have sent the holders never left."""
        release = self.last_release.get(key)
        return release is not None and self.never_sent(scheduler) and release.stimulus_id == scheduler.stimulus_id

    def never_sent(self, scheduler: SchedulerSide) -> bool:
        """The scheduler stimulus of its last step for the key raised: none of its messages left."""
        return scheduler.stimulus_id is not None and scheduler.stimulus_id in self.raised


def reconcile(trace: Trace, result: ReplayResult | None = None, *, worker: str | None = None) -> Reconciliation:
    """Compare the scheduler's task table of a dump with each worker's (only ``worker`` if given).

    ``result`` is the scheduler replay of ``trace`` (replayed here when not given); a trace
    that is not a cluster dump is refused.
    """
    graph = trace.graph
    if graph is None or graph.source != "dump" or not trace.metadata.format.startswith("dump-"):
        raise UnreadableInputError(
            trace.metadata.path,
            f"not a cluster dump ({trace.metadata.format}): reconcile compares the scheduler's task table "
            "with each worker's state, which only a dump holds",
        )
    if result is None:
        result = replay_trace(trace)
    views = _index(trace, result)
    mismatches = [mismatch for mismatch in _check_all(views) if worker is None or worker in mismatch.workers]
    order = {rule.name: position for position, rule in enumerate(RULES)}
    mismatches.sort(key=lambda mismatch: order[mismatch.rule])  # stable: dump order within a rule
    compared = tuple(
        address
        for address, log in views.workers.items()
        if log.dump.unreachable is None and (worker is None or address == worker)
    )
    names = {address: log.dump.name for address, log in views.workers.items() if log.dump.name}
    return Reconciliation(
        result=result,
        workers=compared,
        names=names,
        mismatches=tuple(mismatches),
        unreachable={address: log.dump.unreachable for address, log in views.workers.items() if log.dump.unreachable},
        scheduler_tasks=len(views.tasks),
        worker_tasks=sum(len(views.workers[address].dump.task_states) for address in compared),
    )


def workers_of(trace: Trace) -> dict[str, str | None]:
    """Every worker address the dump names (its workers, the scheduler's list, its task table), with its name."""
    named: dict[str, str | None] = {dump.address: dump.name for dump in trace.workers}
    for address in trace.metadata.worker_addresses:
        named.setdefault(address, None)
    if trace.graph is not None:
        for task in trace.graph.tasks.values():
            if task.processing_on is not None:
                named.setdefault(task.processing_on, None)
            for holder in task.who_has or ():
                named.setdefault(holder, None)
    return named


def _index(trace: Trace, result: ReplayResult) -> _Views:
    last_step: dict[Key, Step] = {}
    last_release: dict[Key, Step] = {}
    positions: dict[str | None, int] = {}
    for step in result.steps:
        last_step[step.key] = step
        positions[step.stimulus_id] = step.index
        if step.transition.start == "memory":
            last_release[step.key] = step
    raised = {
        finding.stimulus_id
        for finding in result.findings
        if finding.rule in RAISED_RULES and finding.stimulus_id is not None
    }
    workers = {dump.address: _WorkerLog(dump) for dump in trace.workers}
    counters: dict[str, int] = {}
    for record in trace.worker_records:
        address = record.worker
        if address is None or address not in workers:
            continue
        index = counters.get(address, 0)
        counters[address] = index + 1
        log = workers[address]
        for key in _keys_of(record):
            log.last_entry[key] = (index, record)
        if record.kind == "worker-transition" and record.start == "memory" and record.finish != "memory":
            log.last_drop[record.key] = (index, record)
    for log in workers.values():
        for stimulus in log.dump.stimuli:
            if stimulus.stimulus_id is not None:
                log.stimulus_index[stimulus.stimulus_id] = stimulus.index
    tasks = trace.graph.tasks if trace.graph is not None else {}
    return _Views(trace, result, tasks, workers, last_step, last_release, positions, raised)


def _keys_of(record: WorkerRecord) -> Iterable[Key]:
    """The keys a worker log entry is about; transfer bookkeeping of the Worker server is left out."""
    if record.kind == "worker-transition":
        return (record.key,)
    if record.kind == "worker-event":
        if EVENT_FIRST_TAGS.get(record.tag) == "peer-keys":
            return ()  # request-dep, receive-dep, gather-dependencies...: written by the Worker, not its state machine
        return record.keys if record.key is None else (record.key, *record.keys)
    return ()


def _check_all(views: _Views) -> Iterator[Mismatch]:
    """Every check, in the order of the scheduler's table, then of each worker's data."""
    compared = {address for address, log in views.workers.items() if log.dump.unreachable is None}
    for address, name in workers_of(views.trace).items():
        if address not in compared:
            yield check_worker_missing(views, address, name)
    replica_findings: dict[Key, list[Mismatch]] = {}
    for key, task in views.tasks.items():
        runs_on = task.processing_on
        if task.state == "processing" and runs_on is not None and runs_on in compared:
            yield from _some(check_processing(views, key, runs_on) or check_stuck(views, key, runs_on))
        for address in task.who_has or ():
            if address in compared and (replica := check_replica(views, key, address)) is not None:
                replica_findings.setdefault(key, []).append(replica)
                yield replica
        if task.state == "memory":
            yield from _some(check_memory_holder(views, key, compared, replica_findings.get(key, [])))
    for address in sorted(compared, key=list(views.workers).index):
        for key in sorted(views.workers[address].held(), key=format_key):
            yield from _some(check_unknown_data(views, key, address))


def _some(mismatch: Mismatch | None) -> Iterator[Mismatch]:
    if mismatch is not None:
        yield mismatch


def _finding(
    rule: Rule, severity: Severity, key: Key | None, message: str, *, worker: WorkerSide | None = None,
    scheduler: SchedulerSide | None = None, machine: str | None = None, workers: tuple[str, ...] = (),
) -> Mismatch:  # fmt: skip
    """A mismatch on ``worker``'s machine (its last entry and stimulus), or on ``machine``."""
    if worker is not None:
        finding = WorkerFinding(
            rule=rule.name, severity=severity, machine=worker.address, event=worker.entry,
            stimulus_index=worker.stimulus_index, key=key, stimulus_id=worker.stimulus_id, message=message,
        )  # fmt: skip
        workers = workers or (worker.address,)
    else:
        finding = WorkerFinding(
            rule=rule.name, severity=severity, machine=machine or SCHEDULER,
            event=None if scheduler is None else scheduler.entry, stimulus_index=None, key=key,
            stimulus_id=None if scheduler is None else scheduler.stimulus_id, message=message,
        )  # fmt: skip
    return Mismatch(finding, scheduler, worker, workers)


# -- the checks, one per rule ------------------------------------------------------------------


def check_worker_missing(views: _Views, address: str, name: str | None) -> Mismatch:
    """A worker the scheduler names that has no state in the dump, said once."""
    processing = sum(1 for task in views.tasks.values() if task.state == "processing" and task.processing_on == address)
    replicas = sum(1 for task in views.tasks.values() if address in (task.who_has or ()))
    log = views.workers.get(address)
    shown = address if name is None else f"{name} ({address})"
    named = f" ({processing} task(s) processing there, {replicas} replica(s) listed)" if processing or replicas else ""
    if log is not None and log.dump.unreachable is not None:
        why = f"it answered the dump with an error: {log.dump.unreachable}"
    else:
        why = "the dump holds no state for it (it left, or joined, while the dump was taken)"
    return _finding(
        WORKER_MISSING, WORKER_MISSING.severity, None,
        f"the scheduler names worker {shown}{named}, but {why}; nothing about it is compared",
        machine=address, workers=(address,),
    )  # fmt: skip


def check_processing(views: _Views, key: Key, address: str) -> Mismatch | None:
    """A task processing on a worker that does not know it, or holds it where it never reports back."""
    worker = views.workers[address].side(key)
    if worker.state in REPORTS_BACK:
        return None
    scheduler = views.scheduler_side(key)
    name = views.name(address)
    compute_task = f"the compute-task{_of_entry(scheduler)}"
    if worker.state is None:
        held, pending = f"{name} does not know it", f"{compute_task} had not reached {name}"
    elif worker.state in ("memory", "error"):
        held = f"{name} holds it in {worker.state}{_earlier_run(views, worker, scheduler)}"
        pending = (
            f"{name}'s report of it ({worker.stimulus_id}) had not reached the scheduler, or {compute_task} "
            f"had not reached {name}"
        )
    else:
        held, pending = f"{name} holds it {worker.state}", f"{compute_task} had not reached {name}"
    message = f"{format_key(key)} is processing on {name} for the scheduler{_step_note(scheduler)}, but {held}"
    proof = _processing_proof(views, worker, scheduler, name)
    if proof is not None:
        return _finding(PROCESSING_WILL_NOT_REPORT, "error", key,
                        f"{message}: it will never report a result. {proof}", worker=worker, scheduler=scheduler)  # fmt: skip
    return _finding(
        PROCESSING_WILL_NOT_REPORT, "warning", key,
        f"{message}: it will not report a result, unless {pending} when the dump was taken",
        worker=worker, scheduler=scheduler,
    )  # fmt: skip


def _earlier_run(views: _Views, worker: WorkerSide, scheduler: SchedulerSide) -> str:
    """`` from an earlier run (its report task-erred-…, handled at entry 1)`` when the scheduler heard it before its last step."""
    stimulus_id = worker.stimulus_id
    position = None if stimulus_id is None else views.positions.get(stimulus_id)
    if (
        position is None
        or scheduler.entry is None
        or position > scheduler.entry
        or stimulus_id == scheduler.stimulus_id
    ):
        return ""
    return f" from an earlier run (its report {stimulus_id} was handled at entry {position})"


def _processing_proof(views: _Views, worker: WorkerSide, scheduler: SchedulerSide, name: str) -> str | None:
    """Why no message in flight explains a processing mismatch, or None."""
    if views.never_sent(scheduler):
        unlogged = ""
        if scheduler.transition is not None and scheduler.transition.finish != "processing":
            unlogged = " (the transition to processing itself was never logged)"
        return (
            f"The scheduler's stimulus {scheduler.stimulus_id} raised{unlogged}, so the compute-task it "
            f"would have sent was never sent"
        )
    record = worker.record
    if isinstance(record, WorkerEvent) and record.tag in COMPUTE_EVENTS and worker.state != "memory":
        return (
            f"{name} handled the compute-task (its log entry {worker.entry}, {record.stimulus_id}) and "
            f"stayed {worker.state or 'without the task'}, so no message in flight explains it"
        )
    return None


def check_stuck(views: _Views, key: Key, address: str) -> Mismatch | None:
    """A task processing on a running worker, ready or constrained while the worker runs nothing that holds room."""
    log = views.workers[address]
    dump = log.dump
    state = dump.task_states.get(key)
    if state not in ("ready", "constrained") or dump.nthreads is None:
        return None
    if not PROCESSING_STUCK.holds_for(parse_release(views.trace.metadata.distributed_version)):
        return None  # before 2022.6.1 a pause is no stimulus: whether the worker ran is unknown
    if _running(dump) is not True:
        return None
    states = list(dump.task_states.values())
    busy_threads = sum(1 for other in states if other in HOLDS_A_THREAD)
    if busy_threads >= dump.nthreads:
        return None
    name = views.name(address)
    if state == "ready":
        room = f"{busy_threads} of its {dump.nthreads} thread(s) busy"
        would = "it would have started"
    else:
        if any(other in HOLDS_RESOURCES for other in states):
            return None
        resources = f" ({_resources(dump.resources)})" if dump.resources else ""
        room = f"no task executing, long-running, cancelled or resumed on its {dump.nthreads} thread(s)"
        would = f"with every resource{resources} free it would have started, so {name}'s resource accounting leaked"
    worker = log.side(key)
    scheduler = views.scheduler_side(key)
    return _finding(
        PROCESSING_STUCK, PROCESSING_STUCK.severity, key,
        f"{format_key(key)} is processing on {name} for the scheduler{_step_note(scheduler)} and {state} on "
        f"{name}, which runs with {room}: {would}; the worker starts tasks within the stimulus that frees "
        f"room, so {format_key(key)} will never start (a deadlock)",
        worker=worker, scheduler=scheduler,
    )  # fmt: skip


def _running(dump: WorkerDump) -> bool | None:
    """Whether the worker ran (was not paused) at dump time: its last pause or unpause, if its stimulus log shows it."""
    for stimulus in reversed(dump.stimuli):
        if stimulus.event == "PauseEvent":
            return False
        if stimulus.event == "UnpauseEvent":
            return True
    if not dump.stimuli:
        return None  # no stimulus log: unknown
    if dump.log_length is not None and len(dump.stimuli) >= dump.log_length:
        return None  # a full, bounded log may have dropped the last pause
    return True


def _resources(resources: Mapping[str, float] | None) -> str:
    return ", ".join(f"{name}={amount:g}" for name, amount in (resources or {}).items())


def check_replica(views: _Views, key: Key, address: str) -> Mismatch | None:
    """A holder the scheduler lists (who_has) that holds no data for the key."""
    worker = views.workers[address].side(key)
    if worker.holds:
        return None
    scheduler = views.scheduler_side(key)
    name = views.name(address)
    held = "does not know it" if worker.state is None else f"holds it {worker.state}, without its data"
    message = (
        f"the scheduler lists {name} among the holders of {format_key(key)} ({scheduler.state}), but {name} {held}"
    )
    drop = views.workers[address].last_drop.get(key)
    position = None if drop is None or drop[1].stimulus_id is None else views.positions.get(drop[1].stimulus_id)
    if drop is not None and position is not None:
        return _finding(
            REPLICA_NOT_ON_WORKER, "error", key,
            f"{message}. {name} dropped it at its log entry {drop[0]} ({drop[1].stimulus_id}), a stimulus the "
            f"scheduler had handled before its snapshot (entry {position}), so no message in flight explains it",
            worker=worker, scheduler=scheduler,
        )  # fmt: skip
    last = "" if worker.entry is None else f" (its log entry {worker.entry}, {worker.stimulus_id})"
    return _finding(
        REPLICA_NOT_ON_WORKER, "warning", key,
        f"{message}, unless {name}'s release of it{last} had not reached the scheduler when the dump was taken",
        worker=worker, scheduler=scheduler,
    )  # fmt: skip


def check_unknown_data(views: _Views, key: Key, address: str) -> Mismatch | None:
    """Data a worker holds for a key the scheduler has no task for, or whose holders leave the worker out."""
    task = views.tasks.get(key)
    if task is not None:
        if task.who_has is None or address in task.who_has:
            return None  # who_has not in this dump, or the worker is listed
        if task.state == "processing" and task.processing_on == address:
            return None  # the worker finished it: processing-will-not-report says whether that is news
    worker = views.workers[address].side(key)
    scheduler = views.scheduler_side(key)
    name = views.name(address)
    where = _step_note(scheduler)
    if task is None:
        message = f"{name} holds {format_key(key)} in memory, but the scheduler has no task {format_key(key)}{where}"
    else:
        holders = ", ".join(views.name(holder) for holder in task.who_has or ())
        listed = f"lists only {holders} as its holders" if holders else "lists no holder"
        message = f"{name} holds {format_key(key)} in memory, but the scheduler has it {task.state}{where} and {listed}"
    record = worker.record
    if views.dropped_unsent(key, scheduler):
        return _finding(
            DATA_UNKNOWN_TO_SCHEDULER, "error", key,
            f"{message}. The scheduler's stimulus {scheduler.stimulus_id} raised after dropping the key's "
            f"replicas, so the release it would have sent {name} was never sent",
            worker=worker, scheduler=scheduler,
        )  # fmt: skip
    if isinstance(record, WorkerEvent) and record.tag in RELEASE_EVENTS:
        return _finding(
            DATA_UNKNOWN_TO_SCHEDULER, "error", key,
            f"{message}. {name} handled the scheduler's {record.tag} of it (its log entry {worker.entry}, "
            f"{record.stimulus_id}) and kept it, so no message in flight explains it",
            worker=worker, scheduler=scheduler,
        )  # fmt: skip
    report = "" if worker.stimulus_id is None else f" ({worker.stimulus_id})"
    return _finding(
        DATA_UNKNOWN_TO_SCHEDULER, "warning", key,
        f"{message}, unless {name}'s report of it{report} had not reached the scheduler, or the scheduler's "
        f"release of it had not reached {name}, when the dump was taken",
        worker=worker, scheduler=scheduler,
    )  # fmt: skip


def check_memory_holder(views: _Views, key: Key, compared: set[str], replicas: list[Mismatch]) -> Mismatch | None:
    """A task in memory on the scheduler without one holder that has its data."""
    task = views.tasks[key]
    if task.who_has is None:
        return None  # who_has not in this dump
    if any(address not in compared for address in task.who_has):
        return None  # a holder the dump cannot show: worker-missing says so
    if any(views.workers[address].side(key).holds for address in task.who_has):
        return None
    scheduler = views.scheduler_side(key)
    head = f"{format_key(key)} is in memory on the scheduler{_step_note(scheduler)}"
    if not task.who_has:
        return _finding(
            MEMORY_WITHOUT_HOLDER, "error", key, f"{head}, but its who_has is empty: no worker holds its data",
            scheduler=scheduler,
        )  # fmt: skip
    names = ", ".join(views.name(address) for address in task.who_has)
    severity: Severity = "error" if replicas and all(replica.severity == "error" for replica in replicas) else "warning"
    tail = (
        ""
        if severity == "error"
        else " (unless the releases reported as replica-not-on-worker warnings were on their way)"
    )
    return _finding(
        MEMORY_WITHOUT_HOLDER, severity, key,
        f"{head}, but none of the workers it lists ({names}) holds its data: it is lost and the scheduler does not know{tail}",
        scheduler=scheduler, workers=task.who_has,
    )  # fmt: skip


# -- wording ---------------------------------------------------------------------------------


def _of_entry(scheduler: SchedulerSide) -> str:
    return "" if scheduler.entry is None else f" of entry {scheduler.entry}"


def _step_note(scheduler: SchedulerSide) -> str:
    """`` (its last step [5] waiting → processing, update-graph-…)``, or nothing when the log never names the key."""
    transition = scheduler.transition
    if transition is None:
        return ""
    stimulus = "" if transition.stimulus_id is None else f", {transition.stimulus_id}"
    return f" (its last step [{scheduler.entry}] {transition.start} → {transition.finish}{stimulus})"
