"""``replay scan``: the report as rich tables, as Markdown for a CI summary, and its progress bar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from replay.render.text import Unbroken
from replay.scan import FileScan, ScanReport
from replay.scan import Group as ScanGroup

if TYPE_CHECKING:
    from collections.abc import Callable


def releases_text(releases: tuple[str | None, ...]) -> str:
    """``2022.12.0, 2026.8.0, release unknown``."""
    return ", ".join("release unknown" if release is None else release for release in releases) or "-"


def summary_line(report: ScanReport) -> str:
    """``✗ 80 of 458 traces have errors · 102 unreadable · 16 groups``."""
    total = len(report.files)
    unreadable = report.unreadable
    read = total - unreadable
    head = (
        f"✗ {report.with_errors} of {total} traces have error findings"
        if report.with_errors
        else f"✓ no error finding in {read} trace{'s' * (read != 1)}"
    )
    if read == 0:
        head = f"✗ nothing could be read: {total} file{'s' * (total != 1)}"
    parts = [head]
    if unreadable and read:
        parts.append(f"{unreadable} unreadable")
    parts.append(f"{len(report.groups)} group{'s' * (len(report.groups) != 1)}")
    return " · ".join(parts)


class ScanView:
    """The groups (one row each, then the command that shows each), then the files worth a look."""

    def __init__(self, report: ScanReport) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        report = self.report
        style = "ok" if report.exit_code == 0 else "severity.error"
        yield Text(summary_line(report), style=style)
        if report.groups:
            yield Text("")
            yield groups_table(report.groups)
            yield Text("")
            yield Text("to look at each group:", style="title")
            for number, group in enumerate(report.groups, 1):
                yield Unbroken((f"{number:>3}  ", "muted"), ("$ ", "muted"), (group.command, ""))
        flagged = [row for row in report.files if row.errors or row.warnings]
        if flagged:
            yield Text("")
            yield files_table(flagged)
        unreadable = [row for row in report.files if row.unreadable is not None]
        if unreadable:
            yield Text("")
            yield Text(f"unreadable ({len(unreadable)}):", style="title")
            for row in unreadable:
                yield Unbroken(("  ", ""), (row.path, "muted"), (f": {row.unreadable}", ""))
        clean = len(report.files) - len(flagged) - len(unreadable)
        if clean:
            yield Text(f"{clean} clean trace{'s' * (clean != 1)} not listed (--json lists every file)", style="muted")


def shown_signature(group: ScanGroup) -> str:
    """The signature without the rule it starts with (the table shows the rule beside it)."""
    return group.signature.removeprefix(group.rule).lstrip(": ") or group.signature


def groups_table(groups: tuple[ScanGroup, ...]) -> Table:
    table = Table(title=None, show_edge=False, pad_edge=False, header_style="title", expand=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("traces", justify="right", no_wrap=True)
    table.add_column("releases")
    table.add_column("signature", ratio=1)
    for number, group in enumerate(groups, 1):
        table.add_row(
            str(number),
            Text(group.rule, style=f"severity.{group.severity}"),
            str(group.count),
            releases_text(group.releases),
            Text(shown_signature(group)),
        )
    return table


def files_table(rows: list[FileScan]) -> Table:
    """The traces with findings: path, format, entries, errors, warnings."""
    table = Table(show_edge=False, pad_edge=False, header_style="title", expand=False)
    table.add_column("trace", no_wrap=True, overflow="ignore")
    table.add_column("format", no_wrap=True)
    table.add_column("events", justify="right", no_wrap=True)
    table.add_column("errors", justify="right", no_wrap=True)
    table.add_column("warnings", justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            Text(row.path, style="key"),
            row.format or "-",
            "-" if row.events is None else str(row.events),
            Text(str(row.errors), style="severity.error" if row.errors else "muted"),
            Text(str(row.warnings), style="severity.warning" if row.warnings else "muted"),
        )
    return table


# --------------------------------------------------------------------------- Markdown


def _cell(text: str) -> str:
    """Text for a Markdown table cell: pipes escaped, one line."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """A Markdown code span that holds any backticks ``text`` has, for a table cell."""
    longest = 0
    run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{_cell(padded)}{fence}"


def markdown(report: ScanReport) -> str:
    """The report as GitHub-flavoured Markdown, for a CI job summary (``>> $GITHUB_STEP_SUMMARY``)."""
    lines = [f"## replay scan: {summary_line(report)}", ""]
    if report.groups:
        lines += ["| # | rule | traces | releases | signature | smallest trace | to look at it |",
                  "|--:|---|--:|---|---|---|---|"]  # fmt: skip
        for number, group in enumerate(report.groups, 1):
            lines.append(
                f"| {number} | {_code(group.rule)} ({group.severity}) | {group.count} | {_cell(releases_text(group.releases))} "
                f"| {_cell(group.signature)} | {_code(group.example)} | {_code(group.command)} |"
            )
        lines.append("")
    shown = [row for row in report.files if row.errors or row.warnings or row.unreadable is not None]
    if shown:
        lines += ["| trace | format | events | errors | warnings | unreadable |", "|---|---|--:|--:|--:|---|"]
        for row in shown:
            lines.append(
                f"| {_code(row.path)} | {row.format or '-'} | {'-' if row.events is None else row.events} "
                f"| {row.errors} | {row.warnings} | {_cell(row.unreadable or '')} |"
            )
        lines.append("")
    clean = len(report.files) - len(shown)
    if clean:
        lines += [f"{clean} clean trace{'s' * (clean != 1)} not listed.", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- progress


@contextmanager
def scan_progress(total: int, console: Console) -> Iterator[Callable[[FileScan], None]]:
    """A bar of traces scanned on ``console`` (standard error); yields what advances it.

    Refreshed as each trace ends, never by a thread of its own: the scan forks its worker
    processes, and a process must not fork while another of its threads holds a lock.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[errors]} with errors", style="severity.error"))  # fmt: skip
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as bar:
        task = bar.add_task("scan", total=total, errors=0)
        errors = 0

        def advance(row: FileScan) -> None:
            nonlocal errors
            errors += bool(row.errors)
            bar.update(task, advance=1, errors=errors, refresh=True)

        bar.refresh()
        yield advance
