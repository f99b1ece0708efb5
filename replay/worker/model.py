"""A model replay of each worker's state-machine ``log``, checked rule by rule.

The worker logs its transitions as ``(key, start, requested, finish, recommendations,
stimulus_id, timestamp)``. The model replays one worker's entries in order, keeps each
task's state, and reads a *two-step* transition the way the worker writes it (see
:mod:`replay.worker.tables`): for a pair that is not in the release's table and does not
involve ``released``, the worker logs ``start->released``, its own recommendations for
the task (from 2022.05.1), the requested step, and then an *outer* entry that keeps the
original start and the requested state; the outer entry moves nothing. It needs no
``distributed``: it works on bounded or old dumps, and checks a worker's log by itself.

Each rule is one small check (:data:`RULES`):

* at each entry: continuity, the release's table, state names, the worker's threads,
  a fetch with no gather, a task with resource restrictions in ``ready``;
* at each stimulus of the dump's ``stimulus_log``: a secede that left no trace;
* at the end: a ``transition_counter`` ahead of a complete log, a task left ready or
  constrained that the worker should have started.

Worker logs before 2021.10.0 (3- and 4-field entries, no transition table) are out of
scope: :func:`model_findings` skips them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from replay.events import Key, Trace, WorkerDump, WorkerEvent, WorkerRecord, WorkerTransition
from replay.keys import format_key
from replay.machine.rules.base import Assertion, Rule, releases_text
from replay.releases import Release, format_release, parse_release
from replay.worker.findings import WorkerFinding
from replay.worker.tables import (
    ANY_RELEASE_PAIRS,
    EVERY_CALL_COUNTED_SINCE,
    MODELLED_SINCE,
    WORKER_STATES,
    log_length_of,
    table_for,
)

AT_EACH_ENTRY = "at each entry"
AT_EACH_STIMULUS = "at each stimulus"
AT_THE_END = "at the end of the log"
_entry_rule = partial(Rule, when=AT_EACH_ENTRY)

CONTINUITY = _entry_rule(
    "worker-continuity", "error",
    "a worker entry starts from a state other than the one its log left the task in (an outer entry: the "
    "state before its two-step; compute-task and ensure-task-exists entries record the state too)",
)  # fmt: skip
ILLEGAL_TRANSITION = _entry_rule(
    "worker-illegal-transition", "error",
    "a worker entry's (start, requested) is neither a pair of the release's table nor the outer entry of a "
    "two-step through released",
)  # fmt: skip
UNKNOWN_STATE = _entry_rule("worker-unknown-state", "warning", "a state name that no worker of any release uses")
THREADS_EXCEEDED = _entry_rule(
    "worker-threads-exceeded", "error",
    "more tasks hold a thread (executing, or cancelled or resumed while their run goes on) than the worker has "
    "threads",
)  # fmt: skip
FLIGHT_WITHOUT_GATHER = _entry_rule(
    "worker-flight-without-gather", "error",
    "a task goes to flight with no gather-dependencies or request-dep entry of the same stimulus naming it",
)  # fmt: skip
READY_WITH_RESOURCES = _entry_rule(
    "worker-ready-with-resources", "error",
    "a task with resource restrictions enters ready, which bypasses constrained, where resources are acquired",
    assertions=(
        Assertion((2022, 7, 1), None, "WorkerState._validate_task_ready", "assert not ts.resource_restrictions",
                  at_cascade_end=True),
    ),
)  # fmt: skip
SECEDE_LOST = Rule(
    "worker-secede-lost", "error",
    "a secede of a task whose thread the log shows running left no entry: the task still holds a thread slot "
    "and the scheduler is never told it is long-running",
    when=AT_EACH_STIMULUS,
)  # fmt: skip
STUCK_TASK = Rule(
    "worker-stuck-task", "error",
    "at dump time a task is ready with a thread free, or constrained within the worker's resources with nothing "
    "holding any, on a worker that is not paused: the worker will never start it",
    when=AT_THE_END, since=(2022, 6, 1),
)  # fmt: skip
COUNTER_AHEAD = Rule(
    "worker-counter-ahead", "error",
    "a worker's transition_counter is ahead of the transitions its complete log shows: a transition raised",
    when=AT_THE_END,
)  # fmt: skip

RULES = (
    CONTINUITY, ILLEGAL_TRANSITION, UNKNOWN_STATE, THREADS_EXCEEDED, FLIGHT_WITHOUT_GATHER, READY_WITH_RESOURCES,
    SECEDE_LOST, STUCK_TASK, COUNTER_AHEAD,
)  # fmt: skip

#: Where a ``start->released`` step can finish: the first step of a two-step.
_RELEASE_FINISHES = frozenset({"released", "cancelled"})
#: Task states whose run may go on in a thread after the scheduler let go of it.
_CANCELLED = frozenset({"cancelled", "resumed"})
#: Log entries that say which keys a gather fetches.
_GATHER_TAGS = frozenset({"gather-dependencies", "request-dep"})
#: Log lengths that mean "the deque was full" when the bound itself is unknown.
_USUAL_LOG_LENGTHS = frozenset({1000, 100_000})


def model_findings(trace: Trace) -> list[WorkerFinding]:
    """Replay every worker's log of ``trace`` (read with ``worker_logs=True``) and check the rules.

    ``event`` is the index of the entry in that worker's log, ``stimulus_index`` the
    index in its ``stimulus_log`` of the stimulus with the entry's stimulus id.
    """
    release = parse_release(trace.metadata.distributed_version)
    if release is not None and release < MODELLED_SINCE:
        return []  # no transition table yet: other log shapes, out of scope
    records: dict[str, list[WorkerRecord]] = {}
    for record in trace.worker_records:
        records.setdefault(record.worker or "", []).append(record)
    dumps = {dump.address: dump for dump in trace.workers}
    findings: list[WorkerFinding] = []
    for address in [*dumps, *(address for address in records if address not in dumps)]:
        dump = dumps.get(address)
        if dump is not None and dump.unreachable is not None:
            continue
        findings.extend(model_worker(address, records.get(address, ()), dump, release))
    return findings


def model_worker(
    address: str, records: Sequence[WorkerRecord], dump: WorkerDump | None = None, release: Release | None = None
) -> list[WorkerFinding]:
    """The findings of one worker's log (``records`` in log order), with what its dump adds."""
    transitions = [record if isinstance(record, WorkerTransition) else None for record in records]
    if any(entry is not None and entry.timestamp is None for entry in transitions):
        return []  # 3- and 4-field entries: a worker before 2021.10.0
    model = WorkerModel(address, records, transitions, dump, release)
    model.run()
    return model.findings


@dataclass(slots=True)
class _Run:
    """The entries of one task that follow each other in the log (within one stimulus):
    where a two-step's outer entry looks for its first step."""

    key: Key | None = None
    stimulus_id: str | None = None
    entries: list[WorkerTransition] = field(default_factory=list)


class WorkerModel:
    """One worker's replay: call :meth:`run`, then read :attr:`findings`."""

    def __init__(
        self,
        address: str,
        records: Sequence[WorkerRecord],
        transitions: Sequence[WorkerTransition | None],
        dump: WorkerDump | None,
        release: Release | None,
    ) -> None:
        self.address = address
        self.records = records
        self.transitions = transitions
        self.dump = dump
        self.release = release
        self.table = table_for(release)
        self.pairs = self.table.pairs if self.table is not None else ANY_RELEASE_PAIRS
        self.stimuli = dump.stimuli if dump is not None else ()
        self.stimulus_position: dict[str, int] = {}
        for position, stimulus in enumerate(self.stimuli):
            if stimulus.stimulus_id is not None:
                self.stimulus_position.setdefault(stimulus.stimulus_id, position)
        bound = log_length_of(release, dump.log_length if dump is not None else None)
        count = len(records)
        #: the log holds the worker's whole history (a story's log is a selection: never complete)
        self.complete = dump is not None and (count < bound if bound is not None else count not in _USUAL_LOG_LENGTHS)
        self.nthreads = dump.nthreads if dump is not None else None
        self.findings: list[WorkerFinding] = []
        self.states: dict[Key, str] = {}
        #: for a cancelled or resumed task: the state whose work goes on (executing, long-running, flight, ...)
        self.previous: dict[Key, str] = {}
        self.last_entry: dict[Key, int] = {}
        self.threads: set[Key] = set()
        self.over_threads = False
        self.restrictions: dict[Key, Mapping[str, Any]] = {}
        self.run_of_key = _Run()
        self.position = -1
        self.outer_entries = 0
        self.unknown_states: set[str] = set()
        self.with_records = {_stimulus_of(record) for record in records} - {None}
        self.with_transitions = {entry.stimulus_id for entry in transitions if entry is not None}
        self.gathered = {
            (record.stimulus_id, key)
            for record in records
            if isinstance(record, WorkerEvent) and record.tag in _GATHER_TAGS
            for key in record.keys
        }
        #: log entries before this index may have fallen off a full log together with their gather
        self.head_stimulus_end = _head_stimulus_end(records) if not self.complete else 0

    # ------------------------------------------------------------------ replay

    def run(self) -> None:
        """Replay every entry, then run the end-of-log checks."""
        for index, record in enumerate(self.records):
            stimulus_id = _stimulus_of(record)
            position = self.stimulus_position.get(stimulus_id) if stimulus_id is not None else None
            if position is not None and position > self.position:
                self._advance(position)
            entry = self.transitions[index]
            if entry is not None:
                self._transition(index, entry)
            elif isinstance(record, WorkerEvent):
                self._event(index, record)
        self._advance(len(self.stimuli) - 1)
        self._check_counter()
        if STUCK_TASK.holds_for(self.release):
            self._check_stuck()
        self.findings.sort(key=lambda finding: (finding.event is None, finding.event or 0))

    def _advance(self, position: int) -> None:
        """The worker handled the stimuli up to ``position``: what each says, and what each lost."""
        for current in range(self.position + 1, position + 1):
            stimulus = self.stimuli[current]
            if stimulus.event == "ComputeTaskEvent" and stimulus.key is not None:
                restrictions = stimulus.fields.get("resource_restrictions")
                self.restrictions[stimulus.key] = restrictions if isinstance(restrictions, dict) else {}
            elif stimulus.event == "SecedeEvent" and stimulus.stimulus_id not in self.with_records:
                self._check_secede(current)
        self.position = max(self.position, position)

    def _event(self, index: int, event: WorkerEvent) -> None:
        """An event entry that records its task's state (compute-task, ensure-task-exists)."""
        key, state = event.key, event.prior_state
        if key is None or state is None:
            return
        expected = self._expected_start(key)
        if expected is not None and expected != state:
            self._report(
                CONTINUITY, index, key, event.stimulus_id,
                f"{format_key(key)} {event.tag} records state {state} but the log last left it "
                f"{self._left(key, expected)}",
            )  # fmt: skip
        if self.states.get(key) in (None, "forgotten"):
            self.states[key] = state

    def _transition(self, index: int, entry: WorkerTransition) -> None:
        key, start, requested, finish = entry.key, entry.start, entry.requested, entry.finish
        self._check_names(index, entry)
        known = self.states.get(key)
        named = start in WORKER_STATES and (requested is None or requested in WORKER_STATES)
        # a pair with a state no release uses is reported as unknown-state, not again as illegal
        in_table = requested is not None and ((start, requested) in self.pairs or not named)
        two_step = requested is not None and not in_table and "released" not in (start, requested)
        # without the requested state, or with any release's pairs, an outer entry shows by its shape only
        reads_as_outer = (requested is None or self.table is None) and known not in (None, start) and known == finish
        if two_step or reads_as_outer:
            opener = self._opener(entry)
            if opener is not None:
                self._outer(index, entry, opener)
                return
        if two_step:
            if index < self.head_stimulus_end:
                # a full log that lost its head may have lost this two-step's first steps too
                self.states[key] = finish
                self.last_entry[key] = index
                return
            self._report(
                ILLEGAL_TRANSITION, index, key, entry.stimulus_id,
                f"{format_key(key)} {start}->{requested} is not a transition of {self._table_text()}, and no "
                f"{start}->released step of {format_key(key)} comes before it for a two-step",
            )  # fmt: skip
        elif requested is not None and not in_table:
            self._report(
                ILLEGAL_TRANSITION, index, key, entry.stimulus_id,
                f"{format_key(key)} {start}->{requested} is not a transition of {self._table_text()}",
            )  # fmt: skip
        self._check_continuity(index, entry)
        self._extend_run(entry)
        self._enter(index, entry)

    def _outer(self, index: int, entry: WorkerTransition, opener: int) -> None:
        """The outer entry of a two-step: it closes the steps from its first (``opener``, a
        position in the task's run) and moves nothing."""
        key = entry.key
        self.outer_entries += 1
        known = self.states.get(key)
        if known is not None and known != entry.finish:
            self._report(
                CONTINUITY, index, key, entry.stimulus_id,
                f"{format_key(key)}'s two-step {entry.start}->{entry.requested} says it finished {entry.finish} "
                f"but its last step left it {known}",
            )  # fmt: skip
            self.states[key] = entry.finish
        run = self.run_of_key
        del run.entries[opener:]  # an enclosing two-step's outer entry looks past this one
        run.entries.append(entry)
        self.last_entry[key] = index

    def _opener(self, entry: WorkerTransition) -> int | None:
        """Where, among the task's entries just before ``entry``, its two-step's first step is."""
        run = self.run_of_key
        if run.key != entry.key or run.stimulus_id != entry.stimulus_id:
            return None
        for position in range(len(run.entries) - 1, -1, -1):
            step = run.entries[position]
            if step.start != entry.start:
                continue
            if step.requested == "released" or (step.requested is None and step.finish in _RELEASE_FINISHES):
                return position
        return None

    def _extend_run(self, entry: WorkerTransition) -> None:
        run = self.run_of_key
        if run.key != entry.key or run.stimulus_id != entry.stimulus_id:
            self.run_of_key = run = _Run(entry.key, entry.stimulus_id)
        run.entries.append(entry)

    def _enter(self, index: int, entry: WorkerTransition) -> None:
        """The task's new state, and what it shows about threads, gathers and resources."""
        key, start, requested, finish = entry.key, entry.start, entry.requested, entry.finish
        if finish in _CANCELLED:
            if start not in _CANCELLED:
                self.previous[key] = start
            elif requested == "long-running":
                self.previous[key] = "long-running"  # a cancelled task seceded (2022.9.0 on)
        else:
            self.previous.pop(key, None)
        self.states[key] = finish
        self.last_entry[key] = index
        self._count_threads(index, entry)
        if requested == "flight" or (requested is None and start == "fetch" and finish == "flight"):
            self._check_gather(index, entry)
        if finish == "ready" and start != "ready" and self.restrictions.get(key):
            self._report(
                READY_WITH_RESOURCES, index, key, entry.stimulus_id,
                f"{format_key(key)} went {start}->ready though it has resource restrictions "
                f"{_resources_text(self.restrictions[key])}: it will run without acquiring them; "
                f"{_validate_note(READY_WITH_RESOURCES, self.release)}",
            )  # fmt: skip

    # ------------------------------------------------------------------ checks at each entry

    def _expected_start(self, key: Key) -> str | None:
        """Where the task's next entry must start (None: anywhere)."""
        known = self.states.get(key)
        if known == "forgotten":
            return "released"  # forgotten, then created afresh
        if known is None:
            return "released" if self.complete else None
        return known

    def _left(self, key: Key, expected: str) -> str:
        known = self.states.get(key)
        if known is None:
            return "unseen (a new task starts released)"
        if known == "forgotten":
            return "forgotten (a new task starts released)"
        return expected

    def _check_continuity(self, index: int, entry: WorkerTransition) -> None:
        expected = self._expected_start(entry.key)
        if expected is None or expected == entry.start:
            return
        self._report(
            CONTINUITY, index, entry.key, entry.stimulus_id,
            f"{format_key(entry.key)} {entry.start}->{entry.requested or entry.finish} but the log last left it "
            f"{self._left(entry.key, expected)}",
        )  # fmt: skip

    def _check_names(self, index: int, entry: WorkerTransition) -> None:
        names = [("state", entry.start), ("state", entry.finish)]
        if entry.requested is not None:
            names.append(("requested state", entry.requested))
        names.extend(("recommended state", state) for state in entry.recommendations.values())
        for what, state in names:
            if state not in WORKER_STATES and state not in self.unknown_states:
                self.unknown_states.add(state)
                self._report(
                    UNKNOWN_STATE, index, entry.key, entry.stimulus_id,
                    f"{what} {state!r} is not a worker state of any release",
                )  # fmt: skip

    def _count_threads(self, index: int, entry: WorkerTransition) -> None:
        key = entry.key
        holds = entry.finish == "executing" or (entry.finish in _CANCELLED and self.previous.get(key) == "executing")
        if not holds:
            self.threads.discard(key)
            if self.nthreads is not None and len(self.threads) <= self.nthreads:
                self.over_threads = False
            return
        self.threads.add(key)
        if self.nthreads is None or len(self.threads) <= self.nthreads or self.over_threads:
            return
        self.over_threads = True
        holders = ", ".join([format_key(key), *sorted(format_key(other) for other in self.threads if other != key)])
        self._report(
            THREADS_EXCEEDED, index, key, entry.stimulus_id,
            f"{format_key(key)} went {entry.start}->{entry.finish}: {len(self.threads)} tasks now hold a thread "
            f"({holders}) on a worker of {self.nthreads}",
        )  # fmt: skip

    def _check_gather(self, index: int, entry: WorkerTransition) -> None:
        if (entry.stimulus_id, entry.key) in self.gathered or index < self.head_stimulus_end:
            return
        self._report(
            FLIGHT_WITHOUT_GATHER, index, entry.key, entry.stimulus_id,
            f"{format_key(entry.key)} went {entry.start}->flight but no gather-dependencies or request-dep entry "
            f"of stimulus {entry.stimulus_id} names it: nothing fetches it",
        )  # fmt: skip

    # ------------------------------------------------------------------ checks at a stimulus

    def _check_secede(self, position: int) -> None:
        """A SecedeEvent that logged nothing, for a task whose thread was running."""
        stimulus = self.stimuli[position]
        key = stimulus.key
        if key is None:
            return
        state = self.states.get(key)
        previous = self.previous.get(key)
        if not (state == "executing" or (state in _CANCELLED and previous == "executing")):
            return
        was = state if state == "executing" else f"{state}, its run still executing"
        self._report(
            SECEDE_LOST, None, key, stimulus.stimulus_id,
            f"{format_key(key)} seceded (stimulus {stimulus.index}, {stimulus.stimulus_id}) while {was}, and no "
            f"entry followed: {format_key(key)} still holds one of the worker's threads though its thread left "
            f"the pool, and the scheduler is not told it is long-running",
            stimulus_index=stimulus.index,
        )  # fmt: skip

    # ------------------------------------------------------------------ checks at the end

    def _check_counter(self) -> None:
        dump = self.dump
        counter = dump.transition_counter if dump is not None else None
        if counter is None or not self.complete:
            return
        shown = sum(entry is not None for entry in self.transitions)
        if self.release is not None and self.release < EVERY_CALL_COUNTED_SINCE:
            shown -= self.outer_entries  # only table steps counted then
        if counter <= shown:
            return
        message = (
            f"transition_counter is {counter} but the complete log shows {shown} transition(s): "
            f"{counter - shown} transition(s) started and never finished (they raised)"
        )
        key: Key | None = None
        stimulus_id: str | None = None
        stimulus_index: int | None = None
        last = self.stimuli[-1] if self.stimuli else None
        if last is not None and last.stimulus_id not in self.with_transitions:
            key, stimulus_id, stimulus_index = last.key, last.stimulus_id, last.index
            left = self.states.get(key) if key is not None else None
            about = f" for {format_key(key)}" if key is not None else ""
            about += f", which the log leaves {left}" if left is not None else ""
            message += (
                f"; the last stimulus ({last.index}, {last.event} {last.stimulus_id}{about}) logged no "
                f"transition: the one that raised most likely belongs to it"
            )
        self._report(COUNTER_AHEAD, None, key, stimulus_id, message, stimulus_index=stimulus_index)

    def _check_stuck(self) -> None:
        """Tasks left ready or constrained that a worker with a free thread would have started."""
        dump = self.dump
        if dump is None or self.nthreads is None or not self._worker_running():
            return
        final = dump.task_states  # the worker's own states at dump time, whatever the log kept
        if not final:
            return
        threads = sum(1 for key, state in final.items() if self._holds_thread(key, state))
        if threads >= self.nthreads:
            return
        busy = f"{threads} of its {self.nthreads} thread(s) busy"
        for key, state in final.items():
            if state == "ready":
                self._report_stuck(key, f"{format_key(key)} is ready at dump time with {busy}")
        constrained = [key for key, state in final.items() if state == "constrained"]
        total = dump.resources
        if not constrained or total is None:
            return
        if any(self._holds_resources(key, state) for key, state in final.items()):
            return
        needs = [self.restrictions.get(key) for key in constrained]
        if any(need is None or not _fits(need, total) for need in needs):
            return  # unknown restrictions, or the first in line may never fit: not provably stuck
        for key, need in zip(constrained, needs, strict=True):
            assert need is not None
            self._report_stuck(
                key,
                f"{format_key(key)} is constrained at dump time ({_resources_text(need)}) with {busy}, no task "
                f"holding resources and the worker's {_resources_text(total)} free: the worker's own count of its "
                f"free resources is off",
            )

    def _report_stuck(self, key: Key, message: str) -> None:
        index = self.last_entry.get(key)
        stimulus_id = _stimulus_of(self.records[index]) if index is not None else None
        self._report(STUCK_TASK, index, key, stimulus_id, message + "; the worker will never start it")

    def _worker_running(self) -> bool:
        """Not paused: the last pause or unpause the worker handled was an unpause (or none)."""
        for stimulus in reversed(self.stimuli):
            if stimulus.event in ("PauseEvent", "UnpauseEvent"):
                return stimulus.event == "UnpauseEvent"
        return True

    def _holds_thread(self, key: Key, state: str) -> bool:
        if state == "executing":
            return True
        return state in _CANCELLED and self.previous.get(key, "executing") == "executing"

    def _holds_resources(self, key: Key, state: str) -> bool:
        if state in ("executing", "long-running"):
            return True
        return state in _CANCELLED and self.previous.get(key, "executing") in ("executing", "long-running")

    # ------------------------------------------------------------------ findings

    def _table_text(self) -> str:
        if self.table is not None:
            return self.table.label
        if self.release is not None:
            return format_release(self.release)
        return "any release"

    def _report(
        self,
        rule: Rule,
        index: int | None,
        key: Key | None,
        stimulus_id: str | None,
        message: str,
        *,
        stimulus_index: int | None = None,
    ) -> None:
        if stimulus_index is None and stimulus_id is not None:
            position = self.stimulus_position.get(stimulus_id)
            stimulus_index = self.stimuli[position].index if position is not None else None
        self.findings.append(
            WorkerFinding(
                rule=rule.name, severity=rule.severity, machine=self.address, event=index,
                stimulus_index=stimulus_index, key=key, stimulus_id=stimulus_id, message=message,
            )
        )  # fmt: skip


def _stimulus_of(record: WorkerRecord) -> str | None:
    return record.stimulus_id if isinstance(record, WorkerTransition | WorkerEvent) else None


def _head_stimulus_end(records: Sequence[WorkerRecord]) -> int:
    """The index of the first record of a stimulus other than the log's first: before it, a
    truncated log may have lost the records that began the stimulus."""
    first = _stimulus_of(records[0]) if records else None
    for index, record in enumerate(records):
        if _stimulus_of(record) != first:
            return index
    return len(records)


def _validate_note(rule: Rule, release: Release | None) -> str:
    """What the worker does here with validate on, in words."""
    assertion = rule.assertion_of(release)
    if assertion is not None and release is not None:
        when = "when the cascade ends" if assertion.at_cascade_end else "here"
        return f"with validate on, the {format_release(release)} worker raises {when} ({assertion.text()})"
    if release is not None:
        return f"no validate-mode assertion of the {format_release(release)} worker checks this"
    ranges = "; ".join(f"{releases_text(a.since, a.until)}: {a.text()}" for a in rule.assertions)
    return f"with validate on, the worker raises ({ranges})" if ranges else "no worker's validate mode checks this"


def _fits(need: Mapping[str, Any], total: Mapping[str, float]) -> bool:
    return all(isinstance(amount, int | float) and amount <= total.get(name, 0) for name, amount in need.items())


def _resources_text(resources: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={amount}" for name, amount in resources.items()) or "none"
