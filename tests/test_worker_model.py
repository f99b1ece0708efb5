"""The model replay of worker logs: the tables, every committed dump, and one test per rule.

Every committed dump is clean for the model except the four worker-side bugs, where it
finds what each bug's ``expected.json`` (written from the release's source before any
worker tool existed) says, at the same worker, stimulus and key. Hand-made logs show
each rule on its own, built as the worker writes them (the two-step shapes are copied
from real ``WorkerState`` runs of 2022.6.1 and 2026.8.0).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from replay.events import (
    Key,
    Trace,
    TraceMetadata,
    WorkerDump,
    WorkerEvent,
    WorkerRecord,
    WorkerStimulus,
    WorkerTransition,
)
from replay.ingest import open_trace
from replay.keys import format_key
from replay.releases import format_release, parse_release
from replay.worker.findings import WorkerFinding
from replay.worker.model import RULES, model_findings, model_worker
from replay.worker.tables import ANY_RELEASE_PAIRS, NEWEST, TABLES, WORKER_STATES, log_length_of, table_for
from tests.conftest import LARGE_RUNS, TRACES

WORKER = "tcp://127.0.0.1:1"

# ---------------------------------------------------------------------------- the tables


def test_each_table_starts_at_the_first_tag_of_its_change() -> None:
    """The ranges and sizes read tag by tag from dask/distributed's own table."""
    assert {format_release(table.since): len(table.pairs) for table in TABLES} == {
        "2021.10.0": 46, "2022.2.0": 47, "2022.4.1": 48, "2022.5.1": 49, "2022.6.0": 50, "2022.7.0": 51,
        "2022.7.1": 50, "2022.8.1": 50, "2022.9.0": 51, "2023.1.1": 50,
    }  # fmt: skip
    changes = {
        format_release(newer.since): (sorted(newer.pairs - older.pairs), sorted(older.pairs - newer.pairs))
        for older, newer in itertools.pairwise(TABLES)
    }
    assert changes == {
        "2022.2.0": ([("flight", "missing"), ("resumed", "missing")], [("fetch", "missing")]),
        "2022.4.1": ([("fetch", "missing")], []),
        "2022.5.1": ([("cancelled", "missing"), ("released", "missing")], [("cancelled", "resumed")]),
        "2022.6.0": ([("missing", "waiting")], []),
        "2022.7.0": ([("cancelled", "rescheduled")], []),
        "2022.7.1": ([], [("ready", "error")]),
        "2022.8.1": ([("resumed", "rescheduled")], [("cancelled", "forgotten")]),
        "2022.9.0": ([("cancelled", "long-running"), ("resumed", "long-running")], [("resumed", "missing")]),
        "2023.1.1": ([], [("resumed", "waiting")]),
    }
    assert len(WORKER_STATES) == 15
    assert NEWEST.pairs <= ANY_RELEASE_PAIRS


def test_a_release_gets_the_table_of_its_range() -> None:
    assert table_for(None) is None
    assert table_for((2021, 9, 1)) is None  # no table yet: out of scope
    assert table_for((2022, 7, 0)) is TABLES[5]
    assert table_for((2022, 7, 1)) is TABLES[6]
    assert table_for((2026, 8, 0)) is NEWEST


def test_the_log_bound_of_each_release() -> None:
    """100,000 entries until distributed.admin.low-level-log-length (default 1000) arrived in 2023.9.3."""
    assert log_length_of((2023, 9, 2), None) == 100_000
    assert log_length_of((2023, 9, 3), None) == 1000
    assert log_length_of((2026, 8, 0), 10_000_000) == 10_000_000
    assert log_length_of(None, None) is None


def test_the_newest_table_is_the_installed_release_s() -> None:
    """Where ``distributed`` is installed, its own table is the one its release gets."""
    distributed = pytest.importorskip("distributed")
    from distributed.worker_state_machine import WorkerState

    release = parse_release(distributed.__version__)
    table = table_for(release)
    assert table is not None
    assert set(WorkerState._TRANSITIONS_TABLE) == table.pairs


# ---------------------------------------------------------------------------- committed dumps

#: What the model finds on each worker-bug dump: (rule, event, stimulus index, key).
BUG_FINDINGS: dict[str, list[tuple[str, int | None, int | None, Key | None]]] = {
    # compute-task of a cancelled long-running task raises: counter 6, 5 transitions logged
    "2022.6.1/wbug-6673": [("worker-counter-ahead", None, 4, "x")],
    # y (R=1) waiting->ready when its dependency lands: it runs without acquiring R
    "2022.7.0/wbug-6676": [("worker-ready-with-resources", 10, 1, "y")],
    # the resubmission changed x's restrictions while it ran: z (R=1) constrained for ever
    "2022.8.0/wbug-6914": [("worker-stuck-task", 14, 4, "z")],
    # the secede of the cancelled x is dropped: x still holds a thread
    "2022.8.1/wbug-6916": [("worker-secede-lost", None, 2, "x")],
}
DUMPS = sorted(
    path
    for pattern in ("*/*/dump.msgpack.gz", "*/*/dump.yaml")
    for path in TRACES.glob(pattern)
    if path.parent.name not in LARGE_RUNS
)


def _name(path: Path) -> str:
    return str(path.relative_to(TRACES))


def _lines(findings: list[WorkerFinding]) -> list[tuple[str, int | None, int | None, Key | None]]:
    return [(finding.rule, finding.event, finding.stimulus_index, finding.key) for finding in findings]


@pytest.mark.parametrize("path", DUMPS, ids=_name)
def test_every_committed_dump(path: Path) -> None:
    """Clean, but for the worker bugs, where the model finds what each bug left in the log."""
    trace = open_trace(path, worker_logs=True)
    directory = str(path.parent.relative_to(TRACES))
    findings = model_findings(trace)
    assert _lines(findings) == BUG_FINDINGS.get(directory, [])
    for finding in findings:
        assert finding.severity == "error"
        assert finding.machine in {worker.address for worker in trace.workers}


@pytest.mark.parametrize("directory", sorted(BUG_FINDINGS))
def test_bug_findings_are_the_expected_ones(directory: str) -> None:
    """Each finding is one that ``expected.json`` decided from the source: same worker,
    stimulus, key, and log entry where the finding has one."""
    expected = json.loads((TRACES / directory / "expected.json").read_text())
    assert expected["side"] == "worker" and expected["verdict"] == "bug"
    findings = model_findings(open_trace(TRACES / directory / "dump.msgpack.gz", worker_logs=True))
    assert findings
    for finding in findings:
        matches = [
            decided
            for decided in expected["findings"]
            if (decided["machine"], decided["stimulus_index"], decided["key"])
            == (finding.machine, finding.stimulus_index, finding.key)
            and (finding.event is None or decided["worker_log_index"] == finding.event)
        ]
        assert matches, finding


def test_the_counter_ahead_of_6673_in_words() -> None:
    trace = open_trace(TRACES / "2022.6.1/wbug-6673/dump.msgpack.gz", worker_logs=True)
    (finding,) = model_findings(trace)
    assert finding.stimulus_id == "compute-task-1795990775.1725242"
    assert "transition_counter is 6 but the complete log shows 5 transition(s)" in finding.message
    assert "the last stimulus (4, ComputeTaskEvent" in finding.message
    assert "for x, which the log leaves cancelled)" in finding.message


@pytest.mark.parametrize("directory", sorted({"2022.7.0/wbug-6673", "2022.7.1/wbug-6676", "2022.8.1/wbug-6914",
                                              "2022.9.0/wbug-6916"}))  # fmt: skip
def test_the_fixed_releases_are_clean(directory: str) -> None:
    expected = json.loads((TRACES / directory / "expected.json").read_text())
    assert expected["verdict"] == "clean"
    assert model_findings(open_trace(TRACES / directory / "dump.msgpack.gz", worker_logs=True)) == []


@pytest.mark.parametrize("path", [path for path in DUMPS if path.name == "dump.msgpack.gz"], ids=_name)
def test_an_unknown_release_reads_every_dump_the_same(path: Path) -> None:
    """Checked against any release's pairs, a dump is as clean; the stuck-task rule needs a release."""
    trace = open_trace(path, worker_logs=True)
    records: dict[str | None, list[WorkerRecord]] = {}
    for record in trace.worker_records:
        records.setdefault(record.worker, []).append(record)
    findings = []
    for worker in trace.workers:
        findings.extend(model_worker(worker.address, records.get(worker.address, []), worker, None))
    expected = BUG_FINDINGS.get(str(path.parent.relative_to(TRACES)), [])
    assert _lines(findings) == [line for line in expected if line[0] != "worker-stuck-task"]


@pytest.mark.parametrize("path", sorted(TRACES.glob("*/*/client_story.msgpack")), ids=_name)
def test_client_stories_are_clean(path: Path) -> None:
    """A story's worker log is a selection, without the dump's counter or stimuli: nothing to report."""
    assert model_findings(open_trace(path, worker_logs=True)) == []


def test_the_largest_dump_is_clean() -> None:
    """benchmark-large: two workers of 136,000 log entries each."""
    trace = open_trace(TRACES / "2026.8.0/benchmark-large/dump.msgpack.gz", worker_logs=True)
    assert sum(worker.log_entries for worker in trace.workers) > 250_000
    assert model_findings(trace) == []


# ---------------------------------------------------------------------------- hand-made logs


def transition(key: Key, start: str, requested: str | None, finish: str, recommendations: dict[Key, str] | None = None,
               stimulus: str = "s0") -> WorkerTransition:  # fmt: skip
    return WorkerTransition(
        worker=WORKER, key=key, start=start, requested=requested, finish=finish,
        recommendations=recommendations or {}, stimulus_id=stimulus, timestamp=1.0,
    )  # fmt: skip


def event(key: Key, tag: str, state: str, stimulus: str = "s0") -> WorkerEvent:
    return WorkerEvent(worker=WORKER, tag=tag, key=key, prior_state=state, stimulus_id=stimulus, timestamp=1.0)


def gather(*keys: Key, stimulus: str = "s0") -> WorkerEvent:
    return WorkerEvent(worker=WORKER, tag="gather-dependencies", peer="tcp://127.0.0.1:2", keys=keys,
                       stimulus_id=stimulus, timestamp=1.0)  # fmt: skip


def stimulus(index: int, cls: str, stimulus_id: str, key: Key | None = None, **fields: Any) -> WorkerStimulus:
    return WorkerStimulus(index=index, event=cls, stimulus_id=stimulus_id, key=key, fields=fields)


def check(
    *records: WorkerRecord,
    release: str | None = "2026.8.0",
    stimuli: tuple[WorkerStimulus, ...] = (),
    nthreads: int | None = 1,
    counter: int | None = None,
    log_length: int | None = None,
    resources: dict[str, float] | None = None,
    task_states: dict[Key, str] | None = None,
) -> list[str]:
    """``rule@event key #stimulus`` for each finding of one worker's hand-made log."""
    dump = WorkerDump(
        address=WORKER, nthreads=nthreads, resources=resources, stimuli=stimuli, log_entries=len(records),
        transition_counter=counter, task_states=task_states or {}, log_length=log_length,
    )  # fmt: skip
    findings = model_worker(WORKER, records, dump, parse_release(release))
    return [
        f"{finding.rule}@{finding.event} {format_key(finding.key) if finding.key is not None else '-'}"
        + (f" #{finding.stimulus_index}" if finding.stimulus_index is not None else "")
        for finding in findings
    ]


def messages(*records: WorkerRecord, release: str | None = "2026.8.0", **options: Any) -> list[str]:
    dump = WorkerDump(address=WORKER, nthreads=options.get("nthreads", 1), log_entries=len(records),
                      stimuli=options.get("stimuli", ()))  # fmt: skip
    return [finding.message for finding in model_worker(WORKER, records, dump, parse_release(release))]


def test_every_rule_has_a_distinct_worker_name() -> None:
    names = [rule.name for rule in RULES]
    assert len(set(names)) == len(names) == 9
    assert all(name.startswith("worker-") for name in names)


# continuity


def test_continuity_a_step_starts_where_the_log_left_the_task() -> None:
    assert check(
        transition("x", "released", "waiting", "waiting", {"x": "ready"}),
        transition("x", "ready", "executing", "executing"),
    ) == ["worker-continuity@1 x"]
    assert messages(
        transition("x", "released", "waiting", "waiting"), transition("x", "ready", "executing", "executing")
    ) == ["x ready->executing but the log last left it waiting"]


def test_continuity_a_new_task_starts_released_in_a_complete_log_only() -> None:
    first = transition("x", "waiting", "ready", "ready", {"x": "executing"})
    assert check(first) == ["worker-continuity@0 x"]
    assert check(first, log_length=1) == []  # a full log: its first entries may start anywhere


def test_continuity_a_forgotten_task_starts_afresh() -> None:
    forgotten = transition("x", "released", "forgotten", "forgotten")
    assert check(forgotten, transition("x", "released", "waiting", "waiting")) == []
    assert check(forgotten, transition("x", "waiting", "ready", "ready")) == ["worker-continuity@1 x"]


def test_continuity_an_entry_that_records_the_task_s_state() -> None:
    assert check(event("x", "compute-task", "released"), transition("x", "released", "waiting", "waiting")) == []
    assert check(transition("x", "released", "waiting", "waiting"), event("x", "compute-task", "cancelled", "s1")) == [
        "worker-continuity@1 x"
    ]


# legality and two-steps


def test_illegal_a_pair_with_released_outside_the_table() -> None:
    assert check(transition("x", "released", "ready", "ready")) == ["worker-illegal-transition@0 x"]


def test_illegal_a_pair_is_judged_by_its_release() -> None:
    seceded = [
        transition("x", "released", "waiting", "waiting"), transition("x", "waiting", "ready", "ready"),
        transition("x", "ready", "executing", "executing"), transition("x", "executing", "released", "cancelled"),
        transition("x", "cancelled", "long-running", "cancelled", stimulus="s1"),
    ]  # fmt: skip
    assert check(*seceded, release="2022.9.0") == []
    assert check(*seceded, release="2022.8.1") == ["worker-illegal-transition@4 x"]
    assert messages(*seceded, release="2022.8.1")[0] == (
        "x cancelled->long-running is not a transition of 2022.8.1 - before 2022.9.0, and no "
        "cancelled->released step of x comes before it for a two-step"
    )
    assert check(*seceded, release=None) == []  # an unknown release accepts any release's pairs


def test_a_two_step_and_its_outer_entry() -> None:
    """2026.8.0 WorkerState: compute-task of a key in flight (flight->waiting is no pair)."""
    log = (
        event("x", "ensure-task-exists", "released"),
        transition("x", "released", "fetch", "fetch"),
        gather("x"),
        transition("x", "fetch", "flight", "flight"),
        event("x", "compute-task", "flight", "s1"),
        transition("x", "flight", "released", "cancelled", stimulus="s1"),
        transition("x", "cancelled", "waiting", "resumed", stimulus="s1"),
        transition("x", "flight", "waiting", "resumed", stimulus="s1"),  # the outer entry
        transition("x", "resumed", "memory", "memory", stimulus="s2"),
    )
    assert check(*log) == []
    assert check(*log, release=None) == []


def test_a_two_step_that_pops_its_own_recommendation() -> None:
    """2022.6.1 WorkerState: compute-task of a key being fetched."""
    log = (
        transition("x", "released", "fetch", "fetch"),
        transition("x", "fetch", "released", "released", stimulus="s1"),
        transition("x", "released", "waiting", "waiting", {"x": "ready"}, stimulus="s1"),
        transition("x", "fetch", "waiting", "waiting", {"x": "ready"}, stimulus="s1"),
        transition("x", "waiting", "ready", "ready", {"x": "executing"}, stimulus="s1"),
        transition("x", "ready", "executing", "executing", stimulus="s1"),
    )
    assert check(*log, release="2022.6.1") == []


def test_nested_two_steps_close_inside_out() -> None:
    log = (
        transition("x", "released", "fetch", "fetch"),
        transition("x", "fetch", "flight", "flight"),
        gather("x"),
        transition("x", "flight", "released", "cancelled", stimulus="s1"),
        transition("x", "cancelled", "released", "released", stimulus="s1"),
        transition("x", "released", "waiting", "waiting", stimulus="s1"),
        transition("x", "cancelled", "ready", "waiting", stimulus="s1"),  # the inner two-step's outer entry
        transition("x", "flight", "ready", "waiting", stimulus="s1"),  # the outer two-step's
    )
    assert check(*log) == []


def test_an_outer_entry_without_its_steps_is_illegal() -> None:
    assert check(
        transition("x", "released", "fetch", "fetch"),
        transition("x", "fetch", "waiting", "waiting", stimulus="s1"),
    ) == ["worker-illegal-transition@1 x"]


def test_an_outer_entry_finishing_elsewhere_than_its_steps() -> None:
    assert check(
        transition("x", "released", "fetch", "fetch"),
        transition("x", "fetch", "released", "released", stimulus="s1"),
        transition("x", "released", "waiting", "waiting", stimulus="s1"),
        transition("x", "fetch", "waiting", "ready", stimulus="s1"),
    ) == ["worker-continuity@3 x"]


def test_a_two_step_without_requested_states() -> None:
    """2021.10.0 - 2021.11.1 logged 6 fields: the outer entry reads from its shape."""
    log = (
        transition("x", "released", None, "fetch"),
        transition("x", "fetch", None, "released", stimulus="s1"),
        transition("x", "released", None, "waiting", stimulus="s1"),
        transition("x", "fetch", None, "waiting", stimulus="s1"),
    )
    assert check(*log, release="2021.10.0") == []
    assert check(*log[:1], transition("x", "waiting", None, "ready"), release="2021.10.0") == ["worker-continuity@1 x"]


def test_unknown_states_are_warned_once() -> None:
    assert check(transition("x", "released", "bogus", "bogus"), transition("x", "bogus", "released", "released")) == [
        "worker-unknown-state@0 x"
    ]


# threads


def _running(key: Key, stimulus: str = "s0") -> tuple[WorkerTransition, ...]:
    return (
        transition(key, "released", "waiting", "waiting", stimulus=stimulus),
        transition(key, "waiting", "ready", "ready", stimulus=stimulus),
        transition(key, "ready", "executing", "executing", stimulus=stimulus),
    )


def test_threads_more_tasks_executing_than_threads() -> None:
    assert check(*_running("x"), *_running("y", "s1")) == ["worker-threads-exceeded@5 y"]
    assert check(*_running("x"), *_running("y", "s1"), nthreads=2) == []


def test_threads_a_cancelled_run_holds_its_thread_a_seceded_one_does_not() -> None:
    cancelled = transition("x", "executing", "released", "cancelled", stimulus="s1")
    assert check(*_running("x"), cancelled, *_running("y", "s2")) == ["worker-threads-exceeded@6 y"]
    seceded = transition("x", "executing", "long-running", "long-running", stimulus="s1")
    assert check(*_running("x"), seceded, *_running("y", "s2")) == []


# flight


def test_flight_needs_a_gather_of_its_stimulus() -> None:
    fetch = transition("x", "released", "fetch", "fetch")
    flight = transition("x", "fetch", "flight", "flight")
    assert check(fetch, gather("x"), flight) == []
    assert check(fetch, flight) == ["worker-flight-without-gather@1 x"]
    assert check(fetch, gather("x", stimulus="other"), flight) == ["worker-flight-without-gather@2 x"]
    assert check(fetch, flight, log_length=2) == []  # a full log may have lost the gather with its head


# resources


def test_ready_with_resource_restrictions() -> None:
    compute = (stimulus(0, "ComputeTaskEvent", "s0", "y", resource_restrictions={"R": 1}),)
    log = _running("y")
    assert check(*log, stimuli=compute) == ["worker-ready-with-resources@1 y #0"]
    assert check(*log, stimuli=(stimulus(0, "ComputeTaskEvent", "s0", "y", resource_restrictions={}),)) == []
    assert (
        "with validate on, the 2022.7.1 worker raises when the cascade ends (WorkerState._validate_task_ready"
        in (messages(*log, release="2022.7.1", stimuli=compute)[0])
    )
    assert (
        "no validate-mode assertion of the 2022.7.0 worker checks this"
        in (messages(*log, release="2022.7.0", stimuli=compute)[0])
    )


# secede


def _secede_run(*, logged: bool, cancelled: bool) -> tuple[list[WorkerRecord], tuple[WorkerStimulus, ...]]:
    stimuli = (
        stimulus(0, "ComputeTaskEvent", "s0", "x", resource_restrictions={}),
        stimulus(1, "FreeKeysEvent", "s1", keys=("x",)),
        stimulus(2, "SecedeEvent", "s2", "x", compute_duration=0.1),
        stimulus(3, "ExecuteSuccessEvent", "s3", "x"),
    )
    log: list[WorkerRecord] = [*_running("x")]
    if cancelled:
        log.append(transition("x", "executing", "released", "cancelled", stimulus="s1"))
    if logged:
        log.append(transition("x", "cancelled" if cancelled else "executing", "long-running",
                              "cancelled" if cancelled else "long-running", stimulus="s2"))  # fmt: skip
    log.append(transition("x", "cancelled" if cancelled else ("long-running" if logged else "executing"),
                          "memory", "memory" if not cancelled else "released", stimulus="s3"))  # fmt: skip
    return log, stimuli


def test_secede_lost_for_a_cancelled_run() -> None:
    log, stimuli = _secede_run(logged=False, cancelled=True)
    assert check(*log, stimuli=stimuli, release="2022.8.1") == ["worker-secede-lost@None x #2"]
    log, stimuli = _secede_run(logged=True, cancelled=True)
    assert check(*log, stimuli=stimuli, release="2022.9.0") == []
    log, stimuli = _secede_run(logged=True, cancelled=False)
    assert check(*log, stimuli=stimuli) == []


# stuck tasks


def test_stuck_a_constrained_task_the_resources_cover() -> None:
    compute = (stimulus(0, "ComputeTaskEvent", "s0", "z", resource_restrictions={"R": 1}),)
    log = (
        transition("z", "released", "waiting", "waiting", {"z": "constrained"}),
        transition("z", "waiting", "constrained", "constrained"),
    )
    stuck: dict[str, Any] = {"stimuli": compute, "resources": {"R": 1.0}, "task_states": {"z": "constrained"}}
    assert check(*log, **stuck) == ["worker-stuck-task@1 z #0"]
    assert check(*log, **{**stuck, "resources": {"R": 0.5}}) == []  # it never fits: not the worker's count
    assert check(*log, **{**stuck, "task_states": {"z": "constrained", "x": "long-running"}}) == []
    paused = (*compute, stimulus(1, "PauseEvent", "s1"))
    assert check(*log, **{**stuck, "stimuli": paused}) == []
    assert check(*log, **stuck, release="2022.6.0") == []  # before WorkerState: not checked


def test_stuck_a_ready_task_with_a_thread_free() -> None:
    log = (transition("y", "released", "waiting", "waiting"), transition("y", "waiting", "ready", "ready"))
    assert check(*log, task_states={"y": "ready"}) == ["worker-stuck-task@1 y"]
    assert check(*log, task_states={"y": "ready", "x": "executing"}) == []


# the counter


def test_counter_ahead_of_a_complete_log() -> None:
    log = _running("x")
    assert check(*log, counter=3) == []
    assert check(*log, counter=4) == ["worker-counter-ahead@None -"]
    assert check(*log, counter=4, log_length=3) == []  # a full log dropped its oldest entries
    stimuli = (stimulus(0, "ComputeTaskEvent", "s0", "x"), stimulus(1, "ComputeTaskEvent", "s1", "x"))
    assert check(*log, event("x", "compute-task", "executing", "s1"), counter=4, stimuli=stimuli) == [
        "worker-counter-ahead@None x #1"
    ]


def test_counter_counts_outer_entries_from_2022_05_1() -> None:
    log = (
        transition("x", "released", "fetch", "fetch"),
        transition("x", "fetch", "released", "released", stimulus="s1"),
        transition("x", "released", "waiting", "waiting", stimulus="s1"),
        transition("x", "fetch", "waiting", "waiting", stimulus="s1"),
    )
    assert check(*log, counter=4, release="2022.6.1") == []
    assert check(*log, counter=3, release="2022.5.0") == []  # only table steps counted then
    assert check(*log, counter=4, release="2022.5.0") == ["worker-counter-ahead@None -"]


# scope


def test_logs_before_2021_10_are_out_of_scope() -> None:
    record = transition("x", "waiting", "ready", "ready")
    dump = WorkerDump(address=WORKER, nthreads=1, log_entries=1)
    old = Trace(
        TraceMetadata(path="old", format="dump", distributed_version="2021.9.1"), (), (record,), workers=(dump,)
    )
    assert model_findings(old) == []
    new = Trace(
        TraceMetadata(path="new", format="dump", distributed_version="2026.8.0"), (), (record,), workers=(dump,)
    )
    assert [finding.rule for finding in model_findings(new)] == ["worker-continuity"]
    shapeless = transition("x", "waiting", "ready", "ready").model_copy(update={"timestamp": None})
    assert model_worker(WORKER, [shapeless], dump, None) == []  # a 3- or 4-field entry
