"""Rules about a dump's own task table: what the scheduler held when it was dumped.

A dump is written between two stimuli, never inside a cascade, so the scheduler's own
``validate_task_state`` checks must hold for every row. Each rule mirrors one of them
that the table's fields let us make, and is tied back to the replay through the entry
that put the key in its state (whose culprit provenance then names).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from replay.events import Key, TaskRecord
from replay.keys import format_key
from replay.machine.rules.base import Assertion, Rule, Violation
from replay.machine.world import ACTIVE, BAD_DEPENDENCY, World

#: When the rules of this module are checked (``replay rules`` shows it).
AGAINST_THE_TASK_TABLE = "against a dump's task table"
_rule = partial(Rule, when=AGAINST_THE_TASK_TABLE)

DUMP_FINAL_STATE = _rule(
    "dump-final-state", "error",
    "the dump's task table disagrees with the replayed final state, or has a task that needs an erred or "
    "forgotten dependency",
)  # fmt: skip
LEAKED_TASK = _rule(
    "leaked-task", "error",
    "the dump's task table holds a task that nobody needs: in memory or active with no client wanting it and "
    "no waiter, or released or erred with no client and no dependent (it is never forgotten)",
    assertions=(Assertion(None, None, "validate_task_state", "assert ts.waiters or ts.who_wants  # for a task in memory"),),
)  # fmt: skip
WAITER_NOT_ACTIVE = _rule(
    "waiter-not-active", "error",
    "a task's waiters include a task that is not waiting, queued, processing or no-worker",
    assertions=(Assertion(None, None, "validate_task_state",
                          "assert dts.state in ('waiting', 'queued', 'processing', 'no-worker')  # waiter not in play"),),
)  # fmt: skip
WAITING_ON_AVAILABLE = _rule(
    "waiting-on-available", "error",
    "a task waits on a dependency that is already in memory, or released (nobody will compute it)",
    assertions=(Assertion(None, None, "validate_task_state",
                          "assert not dts.who_has; assert dts.state != 'released'  # for dts in ts.waiting_on"),),
)  # fmt: skip
UNKNOWN_WORKER = _rule(
    "unknown-worker", "error",
    "a task is processing on, or held in memory by, a worker that is not in the scheduler's workers table",
    assertions=(Assertion(None, None, "validate_state", "assert ws.address in self.workers"),),
)  # fmt: skip
HOLDERS_DISAGREE = _rule(
    "holders-disagree", "error",
    "a task in memory has no worker holding it, or a task not in memory has one; or a task processing "
    "has no worker, or one not processing has one",
    assertions=(
        Assertion(None, None, "validate_task_state",
                  "assert bool(ts.who_has) == (ts.state == 'memory'); "
                  "assert (ts.processing_on is not None) == (ts.state == 'processing')"),
    ),
)  # fmt: skip

ACTOR_LOST = _rule(
    "actor-lost", "error",
    "an actor in memory is run by no worker that holds it, or by more than one (its worker left, and the "
    "others hold only a handle); or an actor processing is not in its worker's actors",
    assertions=(
        Assertion(None, None, "validate_task_state",
                  "assert sum(ts in ws.actors for ws in ts.who_has) == 1  # an actor in memory; "
                  "assert ts in ts.processing_on.actors  # an actor processing"),
    ),
)  # fmt: skip

RULES = (DUMP_FINAL_STATE, LEAKED_TASK, WAITER_NOT_ACTIVE, WAITING_ON_AVAILABLE, UNKNOWN_WORKER, HOLDERS_DISAGREE,
         ACTOR_LOST)  # fmt: skip

Tasks = Mapping[Key, TaskRecord]


def _leaked(task: TaskRecord, tasks: Tasks, workers: frozenset[str]) -> str | None:
    if task.who_wants is None or task.who_wants:
        return None
    if task.state == "memory" or task.state in ACTIVE:
        if task.waiters is None or task.waiters:
            return None
        return f"{format_key(task.key)} is {task.state} but no client wants it and no dependent waits for it"
    if task.state in ("released", "erred") and not task.dependents:
        return (
            f"{format_key(task.key)} is {task.state} with no client wanting it and no dependent: "
            f"nothing will ever forget it"
        )
    return None


def _waiter_not_active(task: TaskRecord, tasks: Tasks, workers: frozenset[str]) -> str | None:
    for waiter in task.waiters or ():
        waiter_task = tasks.get(waiter)
        if waiter_task is not None and waiter_task.state not in ACTIVE:
            return f"{format_key(task.key)} lists {format_key(waiter)} as a waiter, but it is {waiter_task.state}"
    return None


def _waiting_on_available(task: TaskRecord, tasks: Tasks, workers: frozenset[str]) -> str | None:
    for dependency in task.waiting_on or ():
        dependency_task = tasks.get(dependency)
        if dependency_task is not None and dependency_task.state in ("memory", "released"):
            return (
                f"{format_key(task.key)} ({task.state}) waits on {format_key(dependency)}, which is "
                f"{dependency_task.state}"
            )
    return None


def _unknown_worker(task: TaskRecord, tasks: Tasks, workers: frozenset[str]) -> str | None:
    if not workers:
        return None  # the dump lists no workers: nothing to compare with
    if task.processing_on is not None and task.processing_on not in workers:
        return f"{format_key(task.key)} is processing on {task.processing_on}, which the scheduler does not know"
    for holder in task.who_has or ():
        if holder not in workers:
            return f"{format_key(task.key)} is held by {holder}, which the scheduler does not know"
    return None


def _holders_disagree(task: TaskRecord, tasks: Tasks, workers: frozenset[str]) -> str | None:
    if task.who_has is not None and bool(task.who_has) != (task.state == "memory"):
        holders = ", ".join(task.who_has) or "no worker"
        return f"{format_key(task.key)} is {task.state} and held by {holders}"
    if task.processing_on is not None and task.state != "processing":
        return f"{format_key(task.key)} is {task.state} but processing on {task.processing_on}"
    return None


def _actor_lost(task: TaskRecord, tasks: Tasks, workers: frozenset[str]) -> str | None:
    if task.actor_on is None:
        return None  # not an actor, or the dump does not say where actors run
    if task.state == "memory" and task.who_has is not None:
        running = [holder for holder in task.who_has if holder in task.actor_on]
        if len(running) != 1:
            holders = ", ".join(task.who_has) or "no worker"
            runs = ", ".join(task.actor_on) or "no worker"
            return f"{format_key(task.key)} is an actor in memory, held by {holders}; its actor runs on {runs}"
    if task.state == "processing" and task.processing_on is not None and task.processing_on not in task.actor_on:
        return f"{format_key(task.key)} is an actor processing on {task.processing_on}, whose actors do not list it"
    return None


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One of ``validate_task_state``'s checks on one row of the table."""

    rule: Rule
    check: Callable[[TaskRecord, Tasks, frozenset[str]], str | None]


TABLE_CHECKS = (
    TableCheck(LEAKED_TASK, _leaked),
    TableCheck(WAITER_NOT_ACTIVE, _waiter_not_active),
    TableCheck(WAITING_ON_AVAILABLE, _waiting_on_available),
    TableCheck(UNKNOWN_WORKER, _unknown_worker),
    TableCheck(HOLDERS_DISAGREE, _holders_disagree),
    TableCheck(ACTOR_LOST, _actor_lost),
)


def _final_state_message(task: TaskRecord, replayed: str) -> str:
    text = f"the dump's task table has {format_key(task.key)} {task.state}, the log leaves it {replayed}"
    if replayed != "forgotten":
        return text
    text += ": the task was created again without a transition"
    if task.state == "released" and task.who_wants:
        text += f", and {', '.join(task.who_wants)} wants it: nothing will ever recommend it waiting"
    return text


def check_task_table(
    world: World, tasks: Tasks, workers: frozenset[str], reported: set[tuple[str, Key | None]]
) -> list[Violation]:
    """Every row against the replay and against the table checks."""
    violations = []
    states = world.states
    for key, task in tasks.items():
        step = world.last_step.get(key)
        event = step.index if step else None
        stimulus_id = step.stimulus_id if step else None
        replayed = states.get(key)
        if replayed is not None and replayed != task.state:
            violations.append(Violation(
                DUMP_FINAL_STATE, key, event, stimulus_id, _final_state_message(task, replayed), step=step,
            ))  # fmt: skip
        if task.state in ACTIVE and ("deadlock", key) not in reported and (
            "dependency-erred-or-forgotten", key) not in reported:  # fmt: skip
            for dependency in task.dependencies:
                dependency_task = tasks.get(dependency)
                if dependency_task is not None and dependency_task.state in BAD_DEPENDENCY:
                    violations.append(Violation(
                        DUMP_FINAL_STATE, key, event, stimulus_id,
                        f"the dump's task table has {format_key(key)} {task.state} while its dependency "
                        f"{format_key(dependency)} is {dependency_task.state}",
                        step=step,
                    ))  # fmt: skip
                    break
        for table_check in TABLE_CHECKS:
            message = table_check.check(task, tasks, workers)
            if message is not None:
                where = f" (the log put it there at entry {event})" if event is not None else ""
                violations.append(Violation(table_check.rule, key, event, stimulus_id, message + where, step=step))
    return violations
