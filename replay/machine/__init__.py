"""The instrumented model of the scheduler's task state machine.

Entries go in (:meth:`Replayer.feed_all`), a frozen :class:`MachineResult` comes out:
steps with their causes, violations of the rules, the final states. Nothing outside the
machine reads or changes its working state.
"""

from __future__ import annotations

from collections.abc import Iterable

from replay.events import SchedulerTransition, TaskGraph
from replay.machine.replayer import MachineResult, Replayer
from replay.machine.rules import RULES, Assertion, Rule, Severity, Violation
from replay.machine.steps import Recommendation, Step
from replay.machine.tables import TABLES, TransitionTable, table_for
from replay.releases import Release

__all__ = [
    "RULES", "TABLES", "Assertion", "MachineResult", "Recommendation", "Replayer", "Rule", "Severity", "Step",
    "TransitionTable", "Violation", "replay_entries", "table_for",
]  # fmt: skip


def replay_entries(
    transitions: Iterable[SchedulerTransition],
    release: Release | None = None,
    task_graph: TaskGraph | None = None,
    *,
    transition_counter: int | None = None,
    workers: Iterable[str] = (),
    keep_steps: bool = True,
) -> MachineResult:
    """Replay entries in log order and check everything the inputs allow.

    ``task_graph`` from a dump (source ``"dump"``) is also checked as the dump's own task
    table, with ``transition_counter`` and the ``workers`` it lists.
    """
    replayer = Replayer(release, task_graph, keep_steps=keep_steps)
    replayer.run(transitions)
    replayer.check_dump(transition_counter, workers)
    return replayer.result()
