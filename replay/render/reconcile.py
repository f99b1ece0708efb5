"""The ``replay reconcile`` report: a table per kind of mismatch, both sides of each key.

Each row is one key: the scheduler's side (its state, the worker it runs on, its last
entry and stimulus) beside the worker's (its state, its last log entry and stimulus),
then each finding's message in words.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from replay.events import WorkerRecord
from replay.render.text import Unbroken, key_text, source_details, state_text
from replay.worker.reconcile import (
    PROCESSING_STUCK,
    RULES,
    WORKER_MISSING,
    Mismatch,
    Reconciliation,
    SchedulerSide,
    WorkerSide,
)

#: Worker states in the theme's scheduler colours, by what they mean for the scheduler.
WORKER_STATE_STYLES = {
    "memory": "state.memory",
    "error": "state.erred",
    "released": "state.released",
    "forgotten": "state.forgotten",
    "waiting": "state.waiting",
    "ready": "state.processing",
    "constrained": "state.processing",
    "executing": "state.processing",
    "long-running": "state.processing",
}


def worker_state_text(state: str | None) -> Text:
    """A worker task state; a state with no scheduler counterpart (cancelled, flight...) stands out."""
    if state is None:
        return Text("no task", style="muted")
    return Text(state, style=WORKER_STATE_STYLES.get(state, "severity.warning"))


def scheduler_cell(side: SchedulerSide | None, reconciliation: Reconciliation) -> Text:
    """``processing on a`` / ``[5] waiting → processing`` / the stimulus."""
    if side is None:
        return Text("-", style="muted")
    text = Text("no task", style="muted") if side.state is None else state_text(side.state)
    if side.processing_on is not None:
        text.append(f" on {reconciliation.name_of(side.processing_on)}")
    if side.who_has:
        text.append(" · who_has ", style="muted")
        text.append(", ".join(reconciliation.name_of(address) for address in side.who_has))
    transition = side.transition
    if transition is None:
        text.append("\nno entry", style="muted")
        return text
    text.append(f"\n[{side.entry}] ", style="event")
    text.append_text(state_text(transition.start))
    text.append(" → ")
    text.append_text(state_text(transition.finish))
    if transition.stimulus_id is not None:
        text.append("\n")
        text.append(transition.stimulus_id, style="stimulus")
    return text


def record_text(record: WorkerRecord) -> Text:
    """A worker log entry without its key: ``long-running → cancelled``, ``compute-task (was cancelled)``."""
    if record.kind == "worker-transition":
        text = Text.assemble(worker_state_text(record.start), " → ", worker_state_text(record.finish))
        if record.requested not in (None, record.finish):
            text.append(f" (asked {record.requested})", style="muted")
        return text
    if record.kind == "worker-event":
        text = Text(record.tag)
        if record.prior_state is not None:
            text.append(f" (was {record.prior_state})", style="muted")
        return text
    return Text("unrecognised entry", style="muted")


def worker_cell(side: WorkerSide | None, reconciliation: Reconciliation) -> Text:
    """``a: cancelled`` / ``[7] compute-task (was cancelled)`` / the stimulus and its index."""
    if side is None:
        return Text("-", style="muted")
    text = Text(f"{reconciliation.name_of(side.address)}: ")
    text.append_text(worker_state_text(side.state))
    if side.holds and side.state != "memory":
        text.append(" · holds its data", style="muted")
    if side.record is None:
        text.append("\nno log entry", style="muted")
        return text
    text.append(f"\n[{side.entry}] ", style="event")
    text.append_text(record_text(side.record))
    if side.stimulus_id is not None:
        text.append("\n")
        text.append(side.stimulus_id, style="stimulus")
        if side.stimulus_index is not None:
            text.append(f" (stimulus {side.stimulus_index})", style="muted")
    return text


def _counts(mismatches: list[Mismatch]) -> str:
    errors = sum(1 for mismatch in mismatches if mismatch.severity == "error")
    warnings = len(mismatches) - errors
    parts = [f"{errors} error(s)"] if errors else []
    return ", ".join([*parts, f"{warnings} warning(s)"] if warnings else parts)


def _severity(mismatch: Mismatch) -> Text:
    return Text(mismatch.severity.upper(), style=f"severity.{mismatch.severity}")


def _where(mismatch: Mismatch, reconciliation: Reconciliation) -> Text:
    """``x · a``: the key and the machine a finding is about."""
    finding = mismatch.finding
    text = Text("") if finding.key is None else key_text(finding.key)
    machine = finding.machine if finding.machine == "scheduler" else reconciliation.name_of(finding.machine)
    if finding.key is not None:
        text.append(" · ")
    text.append(machine, style="bold")
    return text


class ReconcileReport:
    """The whole report of one ``replay reconcile``."""

    def __init__(self, reconciliation: Reconciliation) -> None:
        self.reconciliation = reconciliation

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        reconciliation = self.reconciliation
        result = reconciliation.result
        yield Unbroken((result.metadata.path, "title"))
        yield Text(
            f"{source_details(result)} · {reconciliation.scheduler_tasks} task(s) in the scheduler's table",
            style="muted",
        )
        for address in reconciliation.workers:
            name = reconciliation.names.get(address)
            yield Text(f"worker {name}  {address}" if name else f"worker {address}", style="muted")
        yield Text("")
        if not reconciliation.mismatches:
            yield from self._clean()
            return
        yield Text(
            f"✗ {reconciliation.errors} error(s), {reconciliation.warnings} warning(s)",
            style="severity.error" if reconciliation.errors else "severity.warning",
        )
        yield Text("")
        for rule in RULES:
            mismatches = [mismatch for mismatch in reconciliation.mismatches if mismatch.rule == rule.name]
            if mismatches:
                yield from self._section(rule.name, mismatches)

    def _clean(self) -> Iterator[RenderableType]:
        reconciliation = self.reconciliation
        if not reconciliation.workers:
            yield Text("✓ no worker state in the dump: nothing to compare", style="ok")
            return
        yield Text(
            f"✓ the scheduler and {len(reconciliation.workers)} worker(s) agree on every key "
            f"({reconciliation.scheduler_tasks} task(s) on the scheduler, {reconciliation.worker_tasks} on the workers)",
            style="ok",
        )
        if not PROCESSING_STUCK.holds_for(reconciliation.result.release):
            yield Text(
                f"  {PROCESSING_STUCK.name} not checked: it needs {PROCESSING_STUCK.releases} "
                "(a pause is a worker stimulus since)",
                style="muted",
            )

    def _section(self, rule: str, mismatches: list[Mismatch]) -> Iterator[RenderableType]:
        reconciliation = self.reconciliation
        yield Text.assemble((rule, "bold"), "  ", (_counts(mismatches), "muted"))
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=True, show_edge=False)
        if rule == WORKER_MISSING.name:
            table.add_column("worker", ratio=1, overflow="fold")
            table.add_column("in the dump", ratio=1, overflow="fold")
            for mismatch in mismatches:
                address = mismatch.finding.machine
                name = Text(reconciliation.name_of(address), style="bold")
                answer = "answered with an error" if address in reconciliation.unreachable else "absent"
                table.add_row(Text.assemble(name, "\n", _severity(mismatch)), Text(answer, style="muted"))
        else:
            table.add_column("key", overflow="fold")
            table.add_column("scheduler", ratio=1, overflow="fold")
            table.add_column("worker", ratio=1, overflow="fold")
            for mismatch in mismatches:
                key = mismatch.finding.key
                table.add_row(
                    Text.assemble(Text("-") if key is None else key_text(key), "\n", _severity(mismatch)),
                    scheduler_cell(mismatch.scheduler, reconciliation),
                    worker_cell(mismatch.worker, reconciliation),
                )
        messages: list[RenderableType] = []
        for mismatch in mismatches:
            line = _where(mismatch, reconciliation)
            line.append(": ")
            line.append(mismatch.finding.message)
            messages.append(line)
        yield Padding(table, (0, 0, 0, 2))
        yield Padding(Group(*messages), (0, 0, 0, 2))
        yield Text("")
