"""Swimlanes: one row per key (or task prefix), one block per column in the state at its end.

Each block shows the state's initial letter (``w`` waiting, ``p`` processing, ...) on the
state's colour: on a colour terminal only where a run of a state starts, without colour in
every column, so the lanes read the same in plain text. ``!`` marks an entry with a
finding, the ruler above the lanes marks where each stimulus's cascade starts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from replay.events import Key
from replay.keys import format_key, stimulus_name
from replay.machine.steps import Step
from replay.provenance import Finding
from replay.render.theme import STATE_STYLES, block_style
from replay.stats import key_prefix

LETTERS = {
    "released": "r",
    "waiting": "w",
    "queued": "q",
    "no-worker": "n",
    "processing": "p",
    "memory": "m",
    "erred": "e",
    "forgotten": "f",
}
#: Which state a group row shows when several are equally common (worst first).
_PRIORITY = ("erred", "no-worker", "processing", "queued", "waiting", "memory", "released", "forgotten")
MAX_LABEL = 28
TICK_SPACING = 12

@dataclass(frozen=True, slots=True)
class Prefix:
    """A selected row of every key of a task prefix."""

    name: str


#: A selected row: a key, or a task prefix.
Selection = Key | Prefix


@dataclass(slots=True)
class _Row:
    label: str
    keys: set[Key]
    grouped: bool
    cells: list[str | None] = field(default_factory=list)
    marks: dict[int, str] = field(default_factory=dict)


class TimelineView:
    """The whole run as swimlanes over the entry index (``by="event"``) or time (``by="time"``)."""

    def __init__(
        self,
        steps: Sequence[Step],
        findings: Sequence[Finding] = (),
        *,
        by: str = "event",
        selected: Sequence[Selection] | None = None,
        limit: int = 40,
    ) -> None:
        self.steps = list(steps)
        self.findings = list(findings)
        self.by = by
        self.selected = list(selected) if selected is not None else None
        self.limit = limit
        #: drawn over time: asked for, and the trace has timestamps
        self.by_time = by == "time" and any(step.transition.timestamp is not None for step in self.steps)
        self.note = "no timestamps in this trace: drawn over the entry index" if by == "time" and not self.by_time else None

    # -- rows ---------------------------------------------------------------------------
    def _rows(self) -> tuple[list[_Row], int]:
        """The rows to draw, and how many were left out."""
        order = list(dict.fromkeys(step.key for step in self.steps))
        if self.selected is not None:
            rows = []
            for selection in self.selected:
                if isinstance(selection, Prefix):
                    name = selection.name
                    keys = {key for key in order if key_prefix(key) == name}
                    rows.append(_Row(f"{name} ({len(keys)} keys)", keys, grouped=True))
                else:
                    rows.append(_Row(format_key(selection), {selection}, grouped=False))
            return rows[: self.limit], max(0, len(rows) - self.limit)
        with_findings = list(dict.fromkeys(
            f.key for f in self.findings if f.key is not None and (f.event is not None or f.culprit)))  # fmt: skip
        rows = [_Row(format_key(key), {key}, grouped=False) for key in with_findings]
        shown = set(with_findings)
        rest = [key for key in order if key not in shown]
        if len(rows) + len(rest) <= self.limit:
            rows += [_Row(format_key(key), {key}, grouped=False) for key in rest]
        else:
            groups: dict[str, set[Key]] = {}
            for key in rest:
                groups.setdefault(key_prefix(key), set()).add(key)
            for name, keys in groups.items():
                if len(keys) == 1:
                    (key,) = keys
                    rows.append(_Row(format_key(key), keys, grouped=False))
                else:
                    rows.append(_Row(f"{name} ({len(keys)} keys)", keys, grouped=True))
        return rows[: self.limit], max(0, len(rows) - self.limit)

    # -- axis ---------------------------------------------------------------------------
    def _positions(self) -> list[float]:
        if self.by_time:
            times = [step.transition.timestamp for step in self.steps]
            positions: list[float] = []
            last = next(time for time in times if time is not None)
            for time in times:
                last = time if time is not None else last
                positions.append(last)
            return positions
        return [float(position) for position in range(len(self.steps))]

    def _fill(self, rows: list[_Row], positions: list[float], columns: int) -> tuple[list[float], dict[int, str]]:
        """Each row's state at the end of each column; returns column starts and cascade-start columns."""
        low = positions[0] if positions else 0.0
        high = positions[-1] if positions else 0.0
        if self.by_time:
            width = (high - low) / columns or 1.0
        else:
            width = max(len(positions), 1) / columns
            low = 0.0
        starts = [low + column * width for column in range(columns)]

        def column_of(position: float) -> int:
            return min(columns - 1, max(0, bisect_right(starts, position) - 1))

        row_of: dict[Key, int] = {}
        for number, row in enumerate(rows):
            for key in row.keys:
                row_of.setdefault(key, number)
        states: dict[Key, str] = {}
        counts = [Counter[str]() for _ in rows]
        step_columns = [column_of(position) for position in positions]
        cursor = 0
        for column in range(columns):
            while cursor < len(self.steps) and step_columns[cursor] <= column:
                transition = self.steps[cursor].transition
                lane = row_of.get(transition.key)
                if lane is not None:
                    before = states.get(transition.key)
                    if before is not None:
                        counts[lane][before] -= 1
                    states[transition.key] = transition.finish
                    counts[lane][transition.finish] += 1
                cursor += 1
            for number, row in enumerate(rows):
                row.cells.append(_dominant(counts[number]))
        by_index = {step.index: step_columns[position] for position, step in enumerate(self.steps)}
        for finding in self.findings:
            marked = by_index.get(finding.event) if finding.event is not None else None
            lane = row_of.get(finding.key) if finding.key is not None else None
            if marked is not None and lane is not None and rows[lane].marks.get(marked) != "error":
                rows[lane].marks[marked] = finding.severity
        boundaries: dict[int, str] = {}
        for position, step in enumerate(self.steps):
            if position == 0 or step.group != self.steps[position - 1].group:
                boundaries.setdefault(step_columns[position], stimulus_name(step.stimulus_id))
        return starts, boundaries

    # -- drawing ------------------------------------------------------------------------
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        plain = console.no_color or console.color_system is None
        rows, hidden = self._rows()
        positions = self._positions()
        label_width = min(MAX_LABEL, max([len(row.label) for row in rows] + [8]))
        columns = max(10, options.max_width - label_width - 1)
        if self.by != "time" and len(self.steps) and len(self.steps) < columns:
            columns = len(self.steps) * (columns // len(self.steps))
        starts, boundaries = self._fill(rows, positions, columns)

        keys = len({key for row in rows for key in row.keys})
        axis = "time" if self.by_time else "entry index"
        title = Text("timeline", style="title")
        title.append(f"  {len(self.steps)} entries · {keys} keys in {len(rows)} rows · over the {axis}", style="muted")
        yield title
        if self.note:
            yield Text(f"note: {self.note}", style="muted")
        yield self._stimulus_ruler(label_width, columns, boundaries)
        for row in rows:
            yield self._lane(row, label_width, plain)
        yield self._axis(label_width, columns, starts)
        if hidden:
            yield Text(f"… {hidden} more rows (--limit, --keys)", style="muted")
        yield self._legend(plain)

    def _stimulus_ruler(self, label_width: int, columns: int, names: dict[int, str]) -> Text:
        cells = [" "] * columns
        starting = sorted(names)
        for number, column in enumerate(starting):
            cells[column] = "|"
            room = (starting[number + 1] if number + 1 < len(starting) else columns) - column - 1
            name = names.get(column, "")
            if room >= 4 and name:
                shown = name if len(name) <= room - 1 else name[: room - 2] + "…"
                for offset, char in enumerate(shown):
                    cells[column + 1 + offset] = char
        text = Text("stimulus".ljust(label_width) + " ", style="muted")
        text.append("".join(cells), style="boundary")
        return text

    def _lane(self, row: _Row, label_width: int, plain: bool) -> Text:
        label = row.label if len(row.label) <= label_width else row.label[: label_width - 1] + "…"
        text = Text(label.ljust(label_width) + " ", style="key" if not row.grouped else "bold")
        previous: str | None = None
        for column, state in enumerate(row.cells):
            mark = row.marks.get(column)
            if mark is not None:
                text.append("!", style="block.finding" if mark == "error" else "severity.warning")
                previous = None
                continue
            if state is None:
                text.append(" ")
                previous = None
                continue
            if state == "forgotten" and previous in ("forgotten", None) and not row.grouped:
                text.append(" ")  # gone: the block marks only where it was forgotten
                previous = state
                continue
            letter = LETTERS.get(state, "?")
            text.append(letter if plain or state != previous else " ", style=block_style(state))
            previous = state
        return text

    def _axis(self, label_width: int, columns: int, starts: list[float]) -> Text:
        cells = [" "] * columns
        column = 0
        while column < columns:
            value = starts[column]
            tick = f"+{value - starts[0]:.2f}s" if self.by_time else f"{round(value)}"
            if column + len(tick) + 1 > columns:
                break
            cells[column] = "╵"
            for offset, char in enumerate(tick):
                cells[column + 1 + offset] = char
            column += max(TICK_SPACING, len(tick) + 3)
        return Text(("time" if self.by_time else "event").ljust(label_width) + " "
                    + "".join(cells), style="muted")  # fmt: skip

    def _legend(self, plain: bool) -> Text:
        text = Text("")
        for state, letter in LETTERS.items():
            text.append(letter, style=block_style(state))
            text.append(f" {state}  ", style=STATE_STYLES[state] if not plain else "")
        text.append("\n")
        text.append("!", style="block.finding")
        text.append(" finding   | a cascade starts (stimulus id above the lanes)", style="muted")
        return text


def _dominant(counts: Counter[str]) -> str | None:
    """The most common state of a row's keys (for one key: its state); None before any."""
    best: str | None = None
    best_count = 0
    for state, count in counts.items():
        if count > best_count or (count == best_count and best is not None and _rank(state) < _rank(best)):
            best, best_count = state, count
    return best


def _rank(state: str) -> int:
    return _PRIORITY.index(state) if state in _PRIORITY else -1
