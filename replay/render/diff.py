"""The ``replay diff`` view: the two runs side by side around where they part.

Row marks read without colour: ``=`` same entry, ``≠`` the entries differ, ``<`` only
in A, ``>`` only in B. Long runs of equal rows are folded into one line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from replay.diff import AlignedRow, KeyDifference, TraceDiff, summary_line
from replay.events import SchedulerTransition
from replay.provenance import Finding, ReplayResult
from replay.render.text import (
    Unbroken,
    finding_head,
    key_text,
    recommendations_text,
    source_details,
    state_text,
    transition_text,
)

MARKS = {"equal": "=", "changed": "≠", "a-only": "<", "b-only": ">"}
#: Equal rows kept on each side of a difference before folding the rest.
CONTEXT = 3
#: States of common history shown before a key's paths part.
PATH_CONTEXT = 2


def _source(label: str, result: ReplayResult) -> Group:
    """``A path`` (never broken) and, below it, ``format · distributed X · N events``."""
    return Group(
        Unbroken((f"{label} ", f"diff.{label.lower()}"), (result.metadata.path, "title")),
        Text.assemble("  ", Text(source_details(result), style="muted")),
    )


def _entry_cells(entry: SchedulerTransition | None, index: int | None, *, always: bool) -> tuple[Text, Text]:
    """``[16]`` and ``f processing → erred {g: erred}`` (``{}`` shown only when ``always``)."""
    if entry is None or index is None:
        return Text(""), Text("")
    text = transition_text(entry)
    if entry.recommendations or always:
        text.append(" ")
        text.append_text(recommendations_text(entry.recommendations))
    return Text(f"[{index}]", style="event"), text


def path_text(path: Sequence[str], common: int, final: str | None) -> Text:
    """``… memory → released → waiting``: a key's states from just before the paths part."""
    start = max(0, common - PATH_CONTEXT)
    text = Text("… " if start else "")
    if not path:
        text.append("(no entries)", style="muted")
    for position, state in enumerate(path[start:]):
        if position:
            text.append(" → ")
        text.append_text(state_text(state))
    if path and final is not None and final != path[-1]:
        text.append("  final ")
        text.append_text(state_text(final))
    return text


class SideBySideView:
    """The aligned rows around the differences, folded, at most ``limit`` rows."""

    def __init__(self, diff: TraceDiff, *, limit: int = 60) -> None:
        self.diff = diff
        self.limit = limit

    def _shown(self) -> Iterator[tuple[int, int]]:
        """Ranges ``[start, stop)`` of rows to show, from the first divergence on."""
        rows = self.diff.rows
        anchor = self.diff.first_divergence
        begin = (
            rows.index(anchor)
            if anchor is not None
            else next((position for position, row in enumerate(rows) if row.kind != "equal"), len(rows))
        )
        keep = [False] * len(rows)
        for position in range(begin, len(rows)):
            if rows[position].kind != "equal":
                for near in range(max(0, position - CONTEXT), min(len(rows), position + CONTEXT + 1)):
                    keep[near] = True
        position = 0
        while position < len(rows):
            if not keep[position]:
                position += 1
                continue
            stop = position
            while stop < len(rows) and keep[stop]:
                stop += 1
            yield position, stop
            position = stop

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        diff = self.diff
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=True, show_edge=False)
        table.add_column("", no_wrap=True)
        for label in ("A", "B"):
            table.add_column(label, justify="right", style=f"diff.{label.lower()}", no_wrap=True)
            table.add_column("transition and recommendations", ratio=1, overflow="fold")
        shown = 0
        previous_stop = 0
        stimulus: tuple[object, ...] = ()
        ranges = list(self._shown())
        for start, stop in ranges:
            if start > previous_stop:
                table.add_row(
                    Text("…", style="muted"),
                    Text(""),
                    Text(f"{start - previous_stop} equal entries", style="muted"),
                )
                stimulus = ()
            for row in diff.rows[start:stop]:
                if shown >= self.limit:
                    break
                stimulus = self._stimulus_row(table, row, stimulus)
                changed = row.kind == "changed"
                a_cells = _entry_cells(diff.entry("a", row.a), row.a, always=changed)
                b_cells = _entry_cells(diff.entry("b", row.b), row.b, always=changed)
                mark = Text(MARKS[row.kind], style="bold" if row.kind != "equal" else "muted")
                table.add_row(mark, *a_cells, *b_cells)
                shown += 1
            previous_stop = stop
            if shown >= self.limit:
                break
        hidden = sum(stop - start for start, stop in ranges) - shown
        if hidden > 0:
            table.add_row(
                Text("…", style="muted"),
                Text(""),
                Text(f"{hidden} more rows (--limit to see them)", style="muted"),
            )
        elif previous_stop < len(diff.rows):
            table.add_row(
                Text("…", style="muted"),
                Text(""),
                Text(f"{len(diff.rows) - previous_stop} equal entries", style="muted"),
            )
        yield table

    def _stimulus_row(self, table: Table, row: AlignedRow, current: tuple[object, ...]) -> tuple[object, ...]:
        """A heading row whenever a new stimulus starts on either side."""
        diff = self.diff
        a_entry, b_entry = diff.entry("a", row.a), diff.entry("b", row.b)
        stimulus = (
            diff.stimulus_of(row),
            a_entry and a_entry.stimulus_id,
            b_entry and b_entry.stimulus_id,
        )
        if (
            not current
            or stimulus[0] != current[0]
            or any(
                new is not None and old is not None and new != old
                for new, old in zip(stimulus[1:], current[1:], strict=True)
            )
        ):
            table.add_row("", "", Text(f"stimulus {stimulus[0]}", style="stimulus"))
            return stimulus
        return (stimulus[0], stimulus[1] or current[1], stimulus[2] or current[2])


def _first_divergence(diff: TraceDiff) -> RenderableType:
    row = diff.first_divergence
    assert row is not None
    lines = [
        Text.assemble(
            Text("first divergence", style="title"),
            "  stimulus ",
            Text(diff.stimulus_of(row), style="stimulus"),
        )
    ]
    for label, index in (("A", row.a), ("B", row.b)):
        entry = diff.entry(label.lower(), index)  # type: ignore[arg-type]
        line = Text(f"  {label} ", style=f"diff.{label.lower()}")
        if entry is None:
            line.append("(no matching entry)", style="muted")
        else:
            line.append_text(
                Text.assemble(
                    Text(f"[{index}] ", style="event"),
                    transition_text(entry),
                    "  recommends ",
                    recommendations_text(entry.recommendations),
                )
            )
        lines.append(line)
    return Group(*lines)


def _keys_table(keys: Sequence[KeyDifference]) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        title_justify="left",
        title=Text(f"keys whose paths differ ({len(keys)})", style="title"),
    )
    table.add_column("key", no_wrap=True)
    table.add_column("A", overflow="fold")
    table.add_column("B", overflow="fold")
    for difference in keys:
        table.add_row(
            key_text(difference.key),
            path_text(difference.a_path, difference.common, difference.a_final),
            path_text(difference.b_path, difference.common, difference.b_final),
        )
    return table


def _findings(label: str, findings: Sequence[Finding]) -> RenderableType:
    lines: list[RenderableType] = [Text(f"findings only in {label} ({len(findings)})", style="title")]
    for finding in findings:
        lines.append(Padding(Text.assemble(finding_head(finding), "  ", finding.message), (0, 0, 0, 2)))
    return Group(*lines)


class DiffView:
    """All ``replay diff`` shows: sources, verdict, first divergence, side by side, consequences."""

    def __init__(self, diff: TraceDiff, *, limit: int = 60) -> None:
        self.diff = diff
        self.limit = limit

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        diff = self.diff
        yield _source("A", diff.a)
        yield _source("B", diff.b)
        yield Text("")
        style = "ok" if diff.equivalent else "severity.error"
        yield Text(("✓ " if diff.equivalent else "✗ ") + summary_line(diff), style=style)
        if diff.first_divergence is not None:
            yield Text("")
            yield _first_divergence(diff)
        if any(row.kind != "equal" for row in diff.rows):
            yield Text("")
            yield SideBySideView(diff, limit=self.limit)
        if diff.keys:
            yield Text("")
            yield _keys_table(diff.keys)
        for label, findings in (("A", diff.a_only_findings), ("B", diff.b_only_findings)):
            if findings:
                yield Text("")
                yield _findings(label, findings)
