"""The story of one key: every entry that touched it, with what caused each.

Laid out as aligned rows (fixed widths shared by every block) so that findings can sit
inline, full width, right under the entry that created them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from replay.events import Key
from replay.keys import format_key, stimulus_name
from replay.machine.steps import DETOUR_INNER, DETOUR_OUTER, NO_OP, Step
from replay.provenance import Finding
from replay.render.text import event_reference, event_text, key_text, recommendations_text, state_text

#: Recommendations shown per entry before summing up the rest.
MAX_RECOMMENDATIONS = 6
_COLUMNS = ("#", "time", "transition", "asked", "cause", "recommendations")
_CAPS = {"#": 8, "time": 10, "transition": 36, "asked": 12, "cause": 36}
_SHRINKABLE = ("cause", "transition", "asked")
_MINIMUM = {"cause": 14, "transition": 16, "asked": 5, "recommendations": 16}
#: Room after a key in the recommendations column: ``: processing}`` and a comma.
_AFTER_KEY = len(": no-worker},")


class StoryView:
    """The steps of ``key`` (its own entries, and entries recommending it), findings inline."""

    def __init__(
        self,
        key: Key,
        steps: Sequence[Step],
        findings: Sequence[Finding] = (),
    ) -> None:
        self.key = key
        self.steps = [s for s in steps if s.key == key or key in s.transition.recommendations]
        self.findings = [f for f in findings if f.key == key]
        #: times are shown from the trace's first timestamp on
        self.start_time = next((s.transition.timestamp for s in steps if s.transition.timestamp is not None), None)

    def _cells(self, step: Step) -> list[Text]:
        transition = step.transition
        own = step.key == self.key
        moved = Text.assemble(state_text(transition.start), " → ", state_text(transition.finish))
        if not own:
            moved = Text.assemble(key_text(step.key), " ", moved)
            moved.stylize("dim")
        elif step.role == DETOUR_INNER:
            moved.append(" (detour 1/2)", style="muted")
        elif step.role == DETOUR_OUTER:
            moved.append(" (detour 2/2)", style="muted")
        elif step.role == NO_OP:
            moved.append(" (no-op)", style="noop")
        asked = step.cause.state if step.override is not None and step.cause is not None else step.requested
        asked_text = Text("")
        if own and asked is not None and asked != transition.finish and step.role != DETOUR_INNER:
            asked_text = state_text(asked)
        return [
            event_text(step.index),
            self._time(transition.timestamp),
            moved,
            asked_text,
            _cause_text(step) if own else Text("recommends it", style="muted"),
            recommendations_text(transition.recommendations, limit=MAX_RECOMMENDATIONS),
        ]

    def _grid(self, widths: dict[str, int]) -> Table:
        grid = Table.grid(padding=(0, 1), expand=True)
        for name in _COLUMNS:
            if name == "recommendations":
                grid.add_column(name, ratio=1, overflow="fold")
            else:
                wraps = name in ("transition", "cause")
                grid.add_column(name, width=widths[name], no_wrap=not wraps, overflow="fold" if wraps else "ellipsis",
                                justify="right" if name in ("#", "time") else "left")  # fmt: skip
        return grid

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = Text.assemble("story of ", key_text(self.key), style="title")
        own = sum(1 for step in self.steps if step.key == self.key)
        title.append(f"  {own} transition{'s' if own != 1 else ''}", style="muted")
        if self.findings:
            title.append(f", {len(self.findings)} finding(s)", style="severity.error")
        yield title
        rows = [(step, self._cells(step)) for step in self.steps]
        header = [Text(name, style="bold") for name in _COLUMNS]
        longest_key = max((len(format_key(key)) for step in self.steps for key in step.transition.recommendations),
                          default=0)  # fmt: skip
        widths = _widths(header, [cells for _, cells in rows], options.max_width, longest_key)
        by_event: dict[int | None, list[Finding]] = {}
        for finding in self.findings:
            by_event.setdefault(finding.event, []).append(finding)
        grid = self._grid(widths)
        grid.add_row(*header)
        stimulus: object = object()
        for step, cells in rows:
            if step.stimulus_id != stimulus:
                stimulus = step.stimulus_id
                if grid.row_count:
                    yield grid
                    grid = self._grid(widths)
                yield Text.assemble(("── ", "muted"), (stimulus_name(stimulus), "stimulus"), (" ──", "muted"))
            grid.add_row(*cells)
            found = by_event.pop(step.index, [])
            if found:
                yield grid
                for finding in found:
                    yield Padding(_finding_text(finding), (0, 0, 0, widths["#"] + widths["time"] + 2))
                grid = self._grid(widths)
        if grid.row_count:
            yield grid
        if not rows:
            yield Text("  no entry touches this key", style="muted")
        for leftovers in by_event.values():
            for finding in leftovers:
                yield Padding(_finding_text(finding), (0, 0, 0, 2))

    def _time(self, timestamp: float | None) -> Text:
        if timestamp is None or self.start_time is None:
            return Text("")
        return Text(f"+{timestamp - self.start_time:.3f}s", style="muted")


def _widths(header: list[Text], rows: list[list[Text]], total: int, longest_key: int = 0) -> dict[str, int]:
    """Column widths that fit ``total`` columns, leaving the recommendations room for their
    longest key in one piece (the other columns shrink first: a key is never broken while
    they can give)."""
    widths = {
        name: min(_CAPS.get(name, total), max([header[i].cell_len] + [cells[i].cell_len for cells in rows]))
        for i, name in enumerate(_COLUMNS)
    }
    fixed = widths["#"] + widths["time"] + sum(_MINIMUM[name] for name in _SHRINKABLE) + len(_COLUMNS) - 1
    recommendations = max(_MINIMUM["recommendations"], min(longest_key + _AFTER_KEY, total - fixed))
    available = total - (len(_COLUMNS) - 1) - recommendations
    while sum(widths[name] for name in _COLUMNS[:-1]) > available:
        name = max(_SHRINKABLE, key=lambda column: widths[column] - _MINIMUM[column])
        if widths[name] <= _MINIMUM[name]:
            break
        widths[name] -= 1
    return widths


def _finding_text(finding: Finding) -> Text:
    text = Text(f"⚠ {finding.severity} {finding.rule}: ", style=f"severity.{finding.severity}")
    text.append(finding.message)
    culprit = finding.culprit
    if culprit is not None:
        text.append(f" — culprit {format_key(culprit.key)}: {culprit.state} from {event_reference(culprit.event)}",
                    style="bold")
        if culprit.overrode is not None:
            text.append(f", which replaced {culprit.overrode.state} from [{culprit.overrode.event}]")
    return text


def _cause_text(step: Step) -> Text:
    """``waiting from [17], over erred from [16]`` (the key is the story's own)."""
    if step.override is not None:
        text = Text.assemble(state_text(step.override.state), f" from {event_reference(step.override.event)}")
        if step.cause is not None:
            text.append(f", over {step.cause.state} from {event_reference(step.cause.event)}", style="overridden")
        return text
    cause = step.cause
    if cause is None:
        return Text("stimulus root", style="muted")
    text = Text.assemble(state_text(cause.state), f" from {event_reference(cause.event)}")
    if cause.replaced is not None:
        text.append(f", over {cause.replaced.state} from {event_reference(cause.replaced.event)}", style="overridden")
    return text

