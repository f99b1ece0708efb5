"""``replay reconcile``: the scheduler's view of each key against each worker's.

Every committed dump reconciles, in both its forms; the clean ones with no finding, the
known bugs with exactly the mismatch their capture left behind. Each rule is then shown
on hand-made dumps: the mismatch, what makes it an error (the dump shows no message can
be on its way), the in-flight case that keeps it a warning, and what it never compares.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli, main
from replay.errors import UnreadableInputError
from replay.events import Trace, WorkerDump, WorkerEvent, WorkerRecord, WorkerStimulus, WorkerTransition
from replay.ingest import open_trace
from replay.render.theme import THEME
from replay.testing import table_of, trace_of
from replay.worker.reconcile import RULES, Reconciliation, reconcile
from tests.conftest import LARGE_RUNS, TRACES, check_golden

A, B = "tcp://10.0.0.1:1001", "tcp://10.0.0.2:1002"

#: Every committed dump, in both forms (the large runs are too large for a test).
DUMPS = sorted(
    path
    for pattern in ("*/*/dump.msgpack.gz", "*/*/dump.yaml")
    for path in TRACES.glob(pattern)
    if path.parent.name not in LARGE_RUNS
)

#: What reconcile finds in each dump that is not clean: (rule, severity, worker name, worker log
#: entry, stimulus index, key, stimulus id). Every other committed dump has no finding.
EXPECTED: dict[str, list[tuple[Any, ...]]] = {
    # PR #6673: compute-task of a cancelled long-running task raised on the worker (stimulus 4)
    "2022.6.1/wbug-6673": [
        ("processing-will-not-report", "error", "a", 7, 4, "x", "compute-task-1795990775.1725242"),
    ],
    # PR #6914: the resources of x leaked, z (R=1) waits constrained on an idle worker for ever
    "2022.8.0/wbug-6914": [
        ("processing-stuck-on-worker", "error", "a", 14, 4, "z", "compute-task-1795990768.932995"),
    ],
    # Client.retry regression, validate on: the retry raised, its compute-task for x1 never left
    "2022.12.0/bug-7354-retry-validate": [
        ("processing-will-not-report", "error", "a", 4, 1, "x1", "task-erred-1795989076.5984643"),
    ],
    "2026.8.0/bug-7354-retry-validate": [
        ("processing-will-not-report", "error", "a", 4, 1, "x1", "task-erred-1795989082.929936"),
    ],
    # #8548 validate on: remove_b2 raised after dropping g's replicas, a was never told
    "2024.2.1/seed-validate": [
        ("data-unknown-to-scheduler", "error", "a", 9, 1, "g", "gather-dep-success-1795674282.9438503"),
    ],
    # #9068: the transition to processing raised before its compute-task was built
    "2025.4.1/bug-9068": [
        ("processing-will-not-report", "error", "w1", None, None, 2, None),
    ],
    # #9067 fixed: the scheduler erred the actor, a still holds the handle its running fut was given
    "2025.5.0/bug-9067": [
        ("data-unknown-to-scheduler", "warning", "a", 9, 1, "counter", "gather-dep-success-1796004549.8351882"),
    ],
    "2025.5.0/bug-9067-validate": [
        ("data-unknown-to-scheduler", "warning", "a", 9, 1, "counter", "gather-dep-success-1796004550.4973435"),
    ],
}


def finding_rows(outcome: Reconciliation, trace: Trace) -> list[tuple[Any, ...]]:
    names = {dump.address: dump.name for dump in trace.workers}
    return [
        (f.rule, f.severity, names.get(f.machine, f.machine), f.event, f.stimulus_index, f.key, f.stimulus_id)
        for f in outcome.findings
    ]


# -- every committed dump -------------------------------------------------------------------------


@pytest.mark.parametrize("path", DUMPS, ids=lambda path: str(path.relative_to(TRACES)))
def test_every_committed_dump_reconciles_with_exactly_its_known_mismatches(path: Path) -> None:
    trace = open_trace(path, worker_logs=True)
    outcome = reconcile(trace)
    run = f"{path.parent.parent.name}/{path.parent.name}"
    assert finding_rows(outcome, trace) == EXPECTED.get(run, [])
    assert outcome.workers == tuple(dump.address for dump in trace.workers)


def test_both_forms_of_a_dump_reconcile_alike() -> None:
    for run in EXPECTED:
        forms = [
            reconcile(open_trace(TRACES / run / name, worker_logs=True)) for name in ("dump.msgpack.gz", "dump.yaml")
        ]
        assert [f.to_json() for f in forms[0].findings] == [f.to_json() for f in forms[1].findings]


def test_the_fixed_releases_of_the_worker_bugs_reconcile_clean() -> None:
    for run in ("2022.7.0/wbug-6673", "2022.8.1/wbug-6914"):
        outcome = reconcile(open_trace(TRACES / run / "dump.msgpack.gz", worker_logs=True))
        assert outcome.findings == ()
        assert outcome.scheduler_tasks > 0 and outcome.worker_tasks > 0  # there was something to compare


def test_wbug_6673_names_the_stimulus_its_expected_json_names() -> None:
    """x processing on the scheduler, cancelled on a: a handled the compute-task and raised."""
    directory = TRACES / "2022.6.1/wbug-6673"
    expected = json.loads((directory / "expected.json").read_text())["findings"][0]
    (finding,) = reconcile(open_trace(directory / "dump.msgpack.gz", worker_logs=True)).findings
    assert (finding.machine, finding.stimulus_index, finding.stimulus_id, finding.key) == (
        expected["machine"], expected["stimulus_index"], expected["stimulus_id"], expected["key"],
    )  # fmt: skip
    assert "a holds it cancelled" in finding.message
    assert "a handled the compute-task (its log entry 7" in finding.message


def test_wbug_6914_shows_the_deadlock_its_expected_json_names() -> None:
    """z processing on the scheduler, constrained on a, which runs nothing: R=0.4 of 1 leaked."""
    directory = TRACES / "2022.8.0/wbug-6914"
    deadlock = json.loads((directory / "expected.json").read_text())["findings"][2]
    (finding,) = reconcile(open_trace(directory / "dump.yaml", worker_logs=True)).findings
    assert (finding.machine, finding.stimulus_index, finding.event, finding.key) == (
        deadlock["machine"], deadlock["stimulus_index"], deadlock["worker_log_index"], deadlock["key"],
    )  # fmt: skip
    assert "with every resource (R=1) free it would have started" in finding.message


# -- the command ------------------------------------------------------------------------------------


def invoke(*args: str, width: int = 100) -> tuple[int, str, str]:
    """``replay reconcile`` through click with a fixed-width colourless console."""
    console = Console(width=width, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, ["reconcile", *args], obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run_main(*args: str) -> tuple[int, str]:
    """The real entry point, which maps errors to exit codes: exit code and standard error."""
    runner = CliRunner()
    with runner.isolation() as (_, stderr, _):
        with pytest.raises(SystemExit) as exit_:
            main(["reconcile", *args])
        return int(exit_.value.code or 0), stderr.getvalue().decode()


def test_golden_report_of_the_wbug_6914_deadlock() -> None:
    code, out, err = invoke(str(TRACES / "2022.8.0/wbug-6914/dump.msgpack.gz"))
    assert (code, err) == (1, "")
    check_golden("reconcile/wbug-6914-2022.8.0.txt", out.replace(str(TRACES), "traces"))


def test_golden_report_of_the_wbug_6673_cancelled_task() -> None:
    code, out, err = invoke(str(TRACES / "2022.6.1/wbug-6673/dump.yaml"))
    assert (code, err) == (1, "")
    check_golden("reconcile/wbug-6673-2022.6.1.txt", out.replace(str(TRACES), "traces"))


def test_a_clean_dump_exits_0_and_says_what_it_compared() -> None:
    code, out, _ = invoke(str(TRACES / "2022.8.1/wbug-6914/dump.msgpack.gz"))
    assert code == 0
    assert "✓ the scheduler and 1 worker(s) agree on every key (2 task(s) on the scheduler, 2 on the workers)" in out


def test_an_old_release_says_the_stuck_rule_was_not_checked() -> None:
    code, out, _ = invoke(str(TRACES / "2022.5.0/mapreduce/dump.msgpack.gz"))
    assert code == 0
    assert "processing-stuck-on-worker not checked: it needs 2022.6.1 and later" in out


def test_json_document() -> None:
    code, out, _ = invoke(str(TRACES / "2022.6.1/wbug-6673/dump.msgpack.gz"), "--json")
    document = json.loads(out)
    assert code == 1
    assert list(document) == ["source", "workers", "findings", "summary"]
    assert document["source"] == {
        "path": str(TRACES / "2022.6.1/wbug-6673/dump.msgpack.gz"), "format": "dump-msgpack",
        "distributed_version": "2022.6.1", "events": 6,
    }  # fmt: skip
    assert document["workers"] == ["tcp://127.0.0.1:34667"]
    assert document["summary"] == {"errors": 1, "warnings": 0}
    (finding,) = document["findings"]
    assert {name: finding[name] for name in ("rule", "machine", "event", "stimulus_index", "key")} == {
        "rule": "processing-will-not-report", "machine": "tcp://127.0.0.1:34667", "event": 7,
        "stimulus_index": 4, "key": "x",
    }  # fmt: skip


def test_worker_by_name_or_address_and_an_unknown_one() -> None:
    path = str(TRACES / "2022.8.0/wbug-6914/dump.msgpack.gz")
    by_name = json.loads(invoke(path, "--worker", "a", "--json")[1])
    by_address = json.loads(invoke(path, "--worker", "tcp://127.0.0.1:38169", "--json")[1])
    assert by_name == by_address and len(by_name["findings"]) == 1
    code, err = run_main(path, "--worker", "b")
    assert code == 2 and "no worker 'b'" in err


def test_a_bare_log_is_not_a_dump() -> None:
    code, err = run_main(str(TRACES / "2022.8.0/wbug-6914/transition_log.msgpack"))
    assert code == 3 and "not a cluster dump" in err


def test_standard_input() -> None:
    path = TRACES / "2022.8.0/wbug-6914/dump.yaml"
    console = Console(width=100, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, ["reconcile", "-", "--json"], obj=App(console=console), input=path.read_bytes())
    assert result.exit_code == 1 and json.loads(result.stdout)["source"]["path"] == "<stdin>"


def test_rules_are_named_once_and_described() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES) == 6
    assert all(rule.description and rule.when for rule in RULES)


# -- hand-made dumps, rule by rule ------------------------------------------------------------------


def dump_of(
    *entries: tuple[Any, ...],
    tasks: dict[str, dict[str, Any]],
    workers: tuple[WorkerDump, ...],
    records: tuple[WorkerRecord, ...] = (),
    version: str = "2024.2.1",
    counter: int | None = None,
    listed: tuple[str, ...] = (),
) -> Trace:
    """A dump: scheduler entries ``(key, start, finish, recs, stimulus)``, its task table, its workers."""
    addresses = tuple(dict.fromkeys((*listed, *(worker.address for worker in workers))))
    trace = trace_of(*entries, graph=table_of(**tasks), counter=counter, format_name="dump-msgpack", workers=addresses)
    metadata = trace.metadata.model_copy(update={"distributed_version": version})
    return replace(trace, metadata=metadata, workers=workers, worker_records=records)


def worker(address: str = A, name: str = "a", *, nthreads: int = 1, stimuli: tuple[str, ...] = ("ComputeTaskEvent",),
           **fields: Any) -> WorkerDump:  # fmt: skip
    events = tuple(
        WorkerStimulus(index=index, event=event, stimulus_id=f"{event}-{index}") for index, event in enumerate(stimuli)
    )
    return WorkerDump(address=address, name=name, nthreads=nthreads, stimuli=events, **fields)


def moved(key: str, start: str, finish: str, stimulus: str, address: str = A) -> WorkerTransition:
    return WorkerTransition(worker=address, key=key, start=start, requested=finish, finish=finish,
                            recommendations={}, stimulus_id=stimulus, timestamp=None)  # fmt: skip


def event(tag: str, stimulus: str, *, key: str | None = None, keys: tuple[str, ...] = (), prior: str | None = None,
          address: str = A) -> WorkerEvent:  # fmt: skip
    return WorkerEvent(worker=address, tag=tag, key=key, keys=keys, prior_state=prior, stimulus_id=stimulus)


def lines(trace: Trace) -> list[str]:
    """``rule severity key@worker-entry`` per finding."""
    return [
        f"{f.rule} {f.severity} {f.key}@{f.event}"
        if f.machine != "scheduler"
        else f"{f.rule} {f.severity} {f.key}@scheduler"
        for f in reconcile(trace).findings
    ]


SUBMIT: tuple[tuple[Any, ...], ...] = (
    ("x", "released", "waiting", {"x": "processing"}, "update-graph-1"),
    ("x", "waiting", "processing", {}, "update-graph-1"),
)


def test_processing_on_a_worker_that_does_not_know_it_may_be_a_compute_task_on_its_way() -> None:
    trace = dump_of(
        *SUBMIT, tasks={"x": {"state": "processing", "processing_on": A, "who_has": ()}}, workers=(worker(),)
    )
    assert lines(trace) == ["processing-will-not-report warning x@None"]
    assert "unless the compute-task of entry 1 had not reached a" in reconcile(trace).findings[0].message


def test_processing_whose_transition_raised_never_sent_its_compute_task() -> None:
    """The dump of dask/distributed#9068: the transition to processing raised, unlogged."""
    trace = dump_of(
        SUBMIT[0], counter=2,
        tasks={"x": {"state": "processing", "processing_on": A, "who_has": ()}}, workers=(worker(),),
    )  # fmt: skip
    assert lines(trace) == ["processing-will-not-report error x@None"]
    assert "(the transition to processing itself was never logged)" in reconcile(trace).findings[0].message


def test_processing_on_a_worker_that_handled_the_compute_task_and_stayed_cancelled() -> None:
    records = (
        moved("x", "executing", "cancelled", "free-1"),
        event("compute-task", "compute-task-2", key="x", prior="cancelled"),
    )
    trace = dump_of(
        *SUBMIT, tasks={"x": {"state": "processing", "processing_on": A, "who_has": ()}},
        workers=(worker(task_states={"x": "cancelled"}),), records=records,
    )  # fmt: skip
    assert lines(trace) == ["processing-will-not-report error x@1"]


def test_processing_while_the_worker_cancelled_it_may_be_a_resubmission_on_its_way() -> None:
    records = (moved("x", "executing", "cancelled", "free-1"),)
    trace = dump_of(
        *SUBMIT, tasks={"x": {"state": "processing", "processing_on": A, "who_has": ()}},
        workers=(worker(task_states={"x": "cancelled"}),), records=records,
    )  # fmt: skip
    assert lines(trace) == ["processing-will-not-report warning x@0"]


def test_processing_while_the_worker_finished_it_stays_a_warning() -> None:
    """The report may be on its way; and even a report the scheduler handled (other keys moved on
    it) may have been a stale run's, ignored, with the new run's compute-task on its way."""
    finished = (moved("x", "executing", "memory", "task-finished-9"),)
    holds = worker(task_states={"x": "memory"}, data=("x",))
    tasks = {"x": {"state": "processing", "processing_on": A, "who_has": ()}}
    in_flight = dump_of(*SUBMIT, tasks=tasks, workers=(holds,), records=finished)
    assert lines(in_flight) == ["processing-will-not-report warning x@0"]
    message = reconcile(in_flight).findings[0].message
    assert "unless a's report of it (task-finished-9) had not reached the scheduler, or the compute-task" in message
    handled = dump_of(*SUBMIT, ("y", "processing", "memory", {}, "task-finished-9"), tasks=tasks, workers=(holds,),
                      records=finished)  # fmt: skip
    assert lines(handled) == ["processing-will-not-report warning x@0"]


def test_processing_states_that_report_back_are_consistent() -> None:
    for state in ("waiting", "ready", "executing", "long-running", "resumed"):
        trace = dump_of(
            *SUBMIT, tasks={"x": {"state": "processing", "processing_on": A, "who_has": ()}},
            workers=(worker(task_states={"x": state, "other": "executing"}),),
        )  # fmt: skip
        assert lines(trace) == [], state


def test_processing_without_processing_on_is_not_compared() -> None:
    trace = dump_of(*SUBMIT, tasks={"x": {"state": "processing"}}, workers=(worker(),))
    assert lines(trace) == []


STUCK_TASKS = {
    "z": {"state": "processing", "processing_on": A, "who_has": ()},
    "x": {"state": "memory", "who_has": (A,)},
}


def stuck_dump(version: str = "2022.8.0", **fields: Any) -> Trace:
    fields.setdefault("task_states", {"z": "constrained", "x": "memory"})
    fields.setdefault("data", ("x",))
    fields.setdefault("resources", {"R": 1.0})
    return dump_of(("z", "waiting", "processing", {}, "update-graph-3"), tasks=STUCK_TASKS, version=version,
                   workers=(worker(**fields),))  # fmt: skip


def test_a_constrained_task_on_a_worker_that_runs_nothing_is_stuck() -> None:
    assert lines(stuck_dump()) == ["processing-stuck-on-worker error z@None"]


def test_a_constrained_task_waits_rightly_while_another_holds_resources_or_the_worker_is_paused() -> None:
    assert lines(stuck_dump(task_states={"z": "constrained", "x": "long-running"})) == []
    assert lines(stuck_dump(stimuli=("ComputeTaskEvent", "PauseEvent"))) == []
    assert lines(stuck_dump(stimuli=("PauseEvent", "UnpauseEvent"))) == ["processing-stuck-on-worker error z@None"]


def test_the_stuck_rule_needs_what_the_dump_may_not_carry() -> None:
    assert lines(stuck_dump(version="2022.5.0")) == []  # a pause was no stimulus yet
    assert lines(stuck_dump(stimuli=())) == []  # no stimulus log: paused or not is unknown
    assert lines(stuck_dump(log_length=1)) == []  # a full bounded log may have dropped the pause
    trace = stuck_dump()
    unknown_threads = replace(trace, workers=(trace.workers[0].model_copy(update={"nthreads": None}),))
    assert lines(unknown_threads) == []


def test_a_ready_task_is_stuck_only_with_a_free_thread() -> None:
    free = stuck_dump(nthreads=2, task_states={"z": "ready", "y": "executing"})
    full = stuck_dump(nthreads=2, task_states={"z": "ready", "y": "executing", "w": "cancelled"})
    assert (lines(free), lines(full)) == (["processing-stuck-on-worker error z@None"], [])


MEMORY: tuple[tuple[Any, ...], ...] = (("x", "processing", "memory", {}, "task-finished-1"),)


def test_a_replica_dropped_at_a_stimulus_the_scheduler_had_handled_is_an_error() -> None:
    records = (moved("x", "memory", "released", "task-finished-1"),)
    trace = dump_of(*MEMORY, tasks={"x": {"state": "memory", "who_has": (A, B)}},
                    workers=(worker(), worker(B, "b", data=("x",))), records=records)  # fmt: skip
    assert lines(trace) == ["replica-not-on-worker error x@0"]


def test_a_replica_dropped_at_a_stimulus_the_scheduler_had_not_handled_may_be_a_release_on_its_way() -> None:
    records = (moved("x", "memory", "released", "task-finished-7"),)
    trace = dump_of(*MEMORY, tasks={"x": {"state": "memory", "who_has": (A,)}}, workers=(worker(),), records=records)
    assert lines(trace) == ["replica-not-on-worker warning x@0", "memory-without-holder warning x@scheduler"]


def test_memory_without_holder() -> None:
    empty = dump_of(*MEMORY, tasks={"x": {"state": "memory", "who_has": ()}}, workers=(worker(),))
    assert lines(empty) == ["memory-without-holder error x@scheduler"]
    records = (moved("x", "memory", "released", "task-finished-1"),)
    lost = dump_of(*MEMORY, tasks={"x": {"state": "memory", "who_has": (A,)}}, workers=(worker(),), records=records)
    assert lines(lost) == ["replica-not-on-worker error x@0", "memory-without-holder error x@scheduler"]


def test_who_has_not_in_the_dump_is_not_compared() -> None:
    trace = dump_of(*MEMORY, tasks={"x": {"state": "memory"}}, workers=(worker(data=("y",)),))
    assert lines(trace) == ["data-unknown-to-scheduler warning y@None"]  # y: absent from the table


def test_data_the_scheduler_forgot_may_be_a_free_keys_on_its_way() -> None:
    """A busy cluster: the scheduler handled x's task-finished, released and forgot x, and its
    free-keys (same stimulus id) has not reached the worker yet."""
    entries: tuple[tuple[Any, ...], ...] = (*SUBMIT, ("x", "processing", "memory", {}, "task-finished-5"), ("x", "memory", "released", {}, "task-finished-5"),
               ("x", "released", "forgotten", {}, "task-finished-5"))  # fmt: skip
    records = (moved("x", "executing", "memory", "task-finished-5"),)
    trace = dump_of(*entries, tasks={}, workers=(worker(task_states={"x": "memory"}, data=("x",)),), records=records)
    (finding,) = reconcile(trace).findings
    assert (finding.rule, finding.severity) == ("data-unknown-to-scheduler", "warning")
    assert finding.message.startswith("a holds x in memory, but the scheduler has no task x (its last step [4]")


def test_data_kept_after_the_schedulers_release_is_an_error() -> None:
    records = (moved("x", "flight", "memory", "gather-1"), event("free-keys", "release-2", keys=("x",)))
    trace = dump_of(*MEMORY, tasks={"x": {"state": "memory", "who_has": (B,)}},
                    workers=(worker(task_states={"x": "memory"}), worker(B, "b", data=("x",))), records=records)  # fmt: skip
    assert lines(trace) == ["data-unknown-to-scheduler error x@1"]


def test_data_whose_release_raised_on_the_scheduler_is_an_error() -> None:
    """The dump of #8548 with validate on: the stimulus that dropped g's replicas raised."""
    entries: tuple[tuple[Any, ...], ...] = (
        ("g", "processing", "memory", {}, "task-finished-1"),
        ("g", "memory", "released", {"g": "waiting"}, "remove_b2"),
    )
    trace = dump_of(*entries, counter=3, tasks={"g": {"state": "released", "who_has": ()}},
                    workers=(worker(task_states={"g": "memory"}, data=("g",)),))  # fmt: skip
    assert lines(trace) == ["data-unknown-to-scheduler error g@None"]


def test_a_task_the_worker_finished_is_reported_once() -> None:
    trace = dump_of(*SUBMIT, tasks={"x": {"state": "processing", "processing_on": A, "who_has": ()}},
                    workers=(worker(task_states={"x": "memory"}, data=("x",)),))  # fmt: skip
    assert [line.split()[0] for line in lines(trace)] == ["processing-will-not-report"]


def test_a_worker_missing_from_the_dump_is_said_once() -> None:
    tasks = {key: {"state": "processing", "processing_on": B, "who_has": ()} for key in ("x", "y")}
    trace = dump_of(tasks=tasks, workers=(worker(),), listed=(B,))
    (finding,) = reconcile(trace).findings
    assert (finding.rule, finding.severity, finding.machine, finding.key) == ("worker-missing", "warning", B, None)
    assert "(2 task(s) processing there, 0 replica(s) listed)" in finding.message


def test_a_worker_that_answered_with_an_error_is_said_once() -> None:
    tasks = {"x": {"state": "memory", "who_has": (B,)}}
    unreachable = WorkerDump(address=B, unreachable="OSError('Timed out trying to connect')")
    trace = dump_of(*MEMORY, tasks=tasks, workers=(worker(), unreachable))
    assert lines(trace) == ["worker-missing warning None@None"]
    assert "it answered the dump with an error: OSError" in reconcile(trace).findings[0].message


def test_only_one_worker() -> None:
    tasks = {
        "x": {"state": "processing", "processing_on": A, "who_has": ()},
        "y": {"state": "processing", "processing_on": B, "who_has": ()},
    }
    trace = dump_of(tasks=tasks, workers=(worker(), worker(B, "b")))
    assert [f.machine for f in reconcile(trace).findings] == [A, B]
    assert [f.machine for f in reconcile(trace, worker=B).findings] == [B]
    assert reconcile(trace, worker=B).workers == (B,)


def test_a_trace_that_is_not_a_dump_is_refused() -> None:
    trace = trace_of(*SUBMIT)
    with pytest.raises(UnreadableInputError, match="not a cluster dump"):
        reconcile(trace)
