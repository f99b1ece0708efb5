"""The ``replay worker`` view: each worker re-executed, its findings, where its log parts ways.

Divergence rows read without colour: ``=`` the same entry on both sides, ``≠`` the first
entries that differ, ``<`` only recorded, ``>`` only re-executed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from replay.events import WorkerEvent
from replay.render.text import Unbroken, key_text
from replay.worker.findings import WorkerFinding
from replay.worker.reexecute import Divergence, Entry, WorkerReport, WorkersResult, first_difference

#: Rows of a divergence shown on each side before the rest is summed up.
MAX_ROWS = 12


def finding_head(finding: WorkerFinding) -> Text:
    """``ERROR rule  stimulus 2  x  secede-…``."""
    where = "" if finding.stimulus_index is None else f"  stimulus {finding.stimulus_index}"
    head = Text.assemble(
        Text(finding.severity.upper(), style=f"severity.{finding.severity}"), " ",
        Text(finding.rule, style="bold"), where,
    )  # fmt: skip
    if finding.key is not None:
        head.append("  ")
        head.append_text(key_text(finding.key))
    if finding.stimulus_id is not None:
        head.append_text(Text.assemble("  ", Text(finding.stimulus_id, style="stimulus")))
    return head


def reexecution_line(report: WorkerReport) -> Text:
    """How the worker was re-executed and what the comparison showed, in one sentence."""
    interpreter = report.interpreter
    if not report.reexecuted or interpreter is None:
        if not report.stimuli:
            return Text("nothing to re-execute: its stimulus log is empty", style="muted")
        return Text("not re-executed (a finding below says why); its log was checked by the model replay", style="muted")
    how = "in-process" if interpreter.python is None else "through --python"
    mode = "differential: another release than the dump's, " if report.differential else ""
    text = Text(f"re-executed on {interpreter.release} ({mode}{how}): {report.handled} of {report.stimuli} stimuli")
    comparison = report.comparison
    if comparison is None:
        return text
    skipped = f", {comparison.skipped} written by the Worker server skipped" if comparison.skipped else ""
    tail = "; the recorded log is the tail of a longer one" if comparison.truncated else ""
    if report.divergence is None:
        upto = "" if report.handled == report.stimuli else f" up to stimulus {report.handled - 1}"
        text.append(f"; every recorded entry{upto} reproduced ({comparison.compared} compared{skipped}{tail})",
                    style="ok")  # fmt: skip
    else:
        text.append(f"; the logs part ways at stimulus {report.divergence.stimulus_index}, after "
                    f"{comparison.compared} equal entries{skipped}{tail}")  # fmt: skip
    return text


def entry_row(mark: str, entry: Entry | None) -> Text:
    """``≠ [10] y waiting → ready {y: executing}``."""
    style = {"=": "muted", "≠": "severity.error", "<": "diff.a", ">": "diff.b"}[mark]
    text = Text(f"{mark} ", style=style)
    if entry is None:
        text.append("(nothing)", style="muted")
        return text
    if entry.log_index is not None:
        text.append(f"[{entry.log_index}] ", style="event")
    text.append(entry.text())
    return text


def side_rows(entries: Sequence[Entry], other: Sequence[Entry], first: Entry | None, only: str) -> list[Text]:
    """Each entry of one side, marked: ``≠`` the first that differs, ``=`` found on the other side."""
    forms = [entry.comparable() for entry in other]
    rows = []
    for entry in entries[:MAX_ROWS]:
        mark = "≠" if entry is first else "=" if entry.comparable() in forms else only
        rows.append(entry_row(mark, entry))
    if len(entries) > MAX_ROWS:
        rows.append(Text(f"  … {len(entries) - MAX_ROWS} more", style="muted"))
    if not entries:
        rows.append(entry_row(only, None))
    return rows


class DivergenceView:
    """The entries of the stimulus where the logs part ways, recorded above re-executed."""

    def __init__(self, divergence: Divergence, release: str | None = None) -> None:
        self.divergence = divergence
        self.release = release

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        divergence = self.divergence
        head = Text.assemble(Text("the logs part ways", style="bold"), f" at stimulus {divergence.stimulus_index} "
                             f"{divergence.cls or ''}")  # fmt: skip
        if divergence.key is not None:
            head.append("  ")
            head.append_text(key_text(divergence.key))
        if divergence.stimulus_id is not None:
            head.append_text(Text.assemble("  ", Text(divergence.stimulus_id, style="stimulus")))
        was, now = first_difference(divergence.recorded, divergence.replayed)
        parts: list[RenderableType] = [head, Text("  recorded in the dump:", style="muted")]
        parts += [Padding(row, (0, 0, 0, 4)) for row in side_rows(divergence.recorded, divergence.replayed, was, "<")]
        parts.append(Text(f"  re-executed{'' if self.release is None else ' on ' + self.release}:", style="muted"))
        parts += [Padding(row, (0, 0, 0, 4)) for row in side_rows(divergence.replayed, divergence.recorded, now, ">")]
        yield Group(*parts)


#: Stimuli of a key's story shown before the one a finding names.
STORY_BEFORE = 6


class KeyStory:
    """The stimuli that touched a finding's key up to just after its stimulus, as re-executed."""

    def __init__(self, report: WorkerReport, finding: WorkerFinding) -> None:
        self.report = report
        self.finding = finding

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        finding = self.finding
        assert finding.key is not None and finding.stimulus_index is not None
        touched = [
            index
            for index, (_, entries) in enumerate(self.report.steps[: finding.stimulus_index + 2])
            if index == finding.stimulus_index
            or any(finding.key == entry.key or _names(entry, finding.key) for entry in entries)
        ]
        shown = [index for index in touched if index <= finding.stimulus_index][-STORY_BEFORE - 1 :]
        shown += [index for index in touched if index > finding.stimulus_index]
        yield Text.assemble("story of ", key_text(finding.key), Text(" on this worker, as re-executed:", style="muted"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for index in shown:
            cls, entries = self.report.steps[index]
            mine = [entry.text() for entry in entries if entry.key == finding.key or _names(entry, finding.key)]
            here = index == finding.stimulus_index
            label = Text("◀ " if here else "  ", style="severity.error")
            label.append(f"stimulus {index} {cls}", style="bold" if here else "")
            grid.add_row(label, Text("; ".join(mine)) if mine else Text("(no entry)", style="muted"))
        yield Padding(grid, (0, 0, 0, 2))


def _names(entry: Entry, key: object) -> bool:
    """Whether an entry without a key of its own (free-keys, gather-dependencies) lists ``key``."""
    record = entry.record
    return isinstance(record, WorkerEvent) and record.key is None and key in record.keys


class WorkerSection:
    """One worker: who, how it was re-executed, its findings, its divergence."""

    def __init__(self, report: WorkerReport) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        report = self.report
        name = f" ({report.name})" if report.name and report.name != report.address else ""
        yield Text.assemble(Text(report.address, style="title"), name,
                            Text(f" · {report.events} log entries · {report.stimuli} stimuli", style="muted"))  # fmt: skip
        yield Padding(reexecution_line(report), (0, 0, 0, 2))
        shown = [finding for finding in report.findings if finding.severity != "info"]
        notes = [finding for finding in report.findings if finding.severity == "info"]
        storied = next(
            (finding for finding in shown if finding.key is not None and finding.stimulus_index is not None), None
        )
        for finding in shown:
            yield Text("")
            yield Padding(Group(finding_head(finding), Padding(Text(finding.message), (0, 0, 0, 2))), (0, 0, 0, 2))
            if finding is storied and report.steps:
                yield Padding(KeyStory(report, finding), (1, 0, 0, 4))
        for finding in notes:
            if finding.rule != "reexecution-filled":
                head = finding_head(finding)
                yield Padding(Group(head, Padding(Text(finding.message), (0, 0, 0, 2))), (1, 0, 0, 2))
        filled = [finding.message for finding in notes if finding.rule == "reexecution-filled"]
        if filled:
            yield Padding(
                Text("filled in, as the dump leaves it out (reexecution-filled):", style="muted"), (1, 0, 0, 2)
            )
            for message in filled:
                yield Padding(Text(message, style="muted"), (0, 0, 0, 4))
        if report.divergence is not None:
            yield Text("")
            release = None if report.interpreter is None else report.interpreter.release
            yield Padding(DivergenceView(report.divergence, release), (0, 0, 0, 2))
        yield Text("")


class WorkersView:
    """The whole ``replay worker`` report."""

    def __init__(self, result: WorkersResult) -> None:
        self.result = result

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        result = self.result
        source = result.source
        yield Unbroken((str(source["path"]), "title"))
        release = source.get("distributed_version") or "release unknown"
        yield Text(f"{source['format']} · distributed {release} · {len(result.workers)} worker(s)", style="muted")
        yield Text("")
        if not result.workers:
            yield Text("no worker in this dump: nothing to re-execute", style="muted")
            return
        if result.errors or result.warnings:
            yield Text(f"✗ {result.errors} error(s), {result.warnings} warning(s)",
                       style="severity.error" if result.errors else "severity.warning")  # fmt: skip
        else:
            yield Text(verdict(result), style="ok")
        yield Text("")
        for report in result.workers:
            yield WorkerSection(report)


def verdict(result: WorkersResult) -> str:
    """The one line of a report without errors or warnings."""
    reexecuted = [report for report in result.workers if report.reexecuted]
    if not reexecuted:
        return "✓ no error or warning; no worker had stimuli to re-execute"
    if any(report.differential for report in reexecuted):
        return f"✓ no errors: {len(reexecuted)} worker(s) re-executed on another release (see below)"
    return (
        f"✓ no error or warning: {len(reexecuted)} worker(s) re-executed with validate on, nothing raised, every "
        "check held and every recorded log was reproduced"
    )


class MachineFindingsView:
    """The worker-side findings of ``replay run --workers``: a section per machine."""

    def __init__(self, findings: Sequence[WorkerFinding], names: Mapping[str, str | None]) -> None:
        self.findings = list(findings)
        self.names = names

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        errors = sum(1 for finding in self.findings if finding.severity == "error")
        warnings = sum(1 for finding in self.findings if finding.severity == "warning")
        yield Text("")
        if not self.findings:
            yield Text("✓ workers: every worker's log and the scheduler's view of it agree", style="ok")
            return
        yield Text(f"✗ workers: {errors} error(s), {warnings} warning(s)",
                   style="severity.error" if errors else "severity.warning")  # fmt: skip
        by_machine: dict[str, list[WorkerFinding]] = {}
        for finding in self.findings:
            by_machine.setdefault(finding.machine, []).append(finding)
        for machine, findings in by_machine.items():
            name = self.names.get(machine)
            yield Text("")
            yield Text.assemble(Text(machine, style="title"), f" ({name})" if name else "")
            for finding in findings:
                yield Padding(finding_head(finding), (0, 0, 0, 2))
                yield Padding(Text(finding.message), (0, 0, 0, 4))
