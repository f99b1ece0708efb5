"""``replay stats``: tables of counts and times of one run (an adapter around :class:`RunStats`)."""

from __future__ import annotations

from collections import Counter

from rich import box
from rich.columns import Columns
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from replay.keys import stimulus_name
from replay.render.text import state_text
from replay.stats import RunStats


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def _table(title: str, *columns: tuple[str, str]) -> Table:
    table = Table(title=Text(title, style="title"), title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False)  # fmt: skip
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    return table


def _rest(table: Table, counter: Counter[str] | Counter[tuple[str, str]], top: int, columns: int) -> None:
    hidden = len(counter) - top
    if hidden > 0:
        others = sum(count for _, count in counter.most_common()[top:])
        table.add_row(Text(f"… {hidden} more", style="muted"), str(others), *[""] * (columns - 2))


class StatsView:
    """Counts per edge, stimulus kind and task prefix; time per state; the longest cascades."""

    def __init__(self, stats: RunStats, *, top: int = 10, source: str | None = None) -> None:
        self.stats = stats
        self.top = top
        self.source = source

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        stats = self.stats
        top = self.top
        head = Text(self.source or "stats", style="title")
        span = "" if stats.span_seconds is None else f" over {_seconds(stats.span_seconds)}"
        head.append(f"\n{stats.transitions} transitions of {stats.keys} keys{span}", style="muted")
        yield head
        yield Text("")

        edges = _table("transitions per edge", ("edge", "left"), ("count", "right"))
        for (start, finish), count in stats.edges.most_common(top):
            edges.add_row(Text.assemble(state_text(start), " → ", state_text(finish)), str(count))
        _rest(edges, stats.edges, top, 2)

        states = _table("time in each state", ("state", "left"), ("stays", "right"),
                        ("median", "right"), ("max", "right"))  # fmt: skip
        for state_time in stats.state_times:
            states.add_row(state_text(state_time.state), str(state_time.stays),
                           _seconds(state_time.median), _seconds(state_time.longest))  # fmt: skip

        kinds = _table("per stimulus kind", ("stimulus kind", "left"), ("transitions", "right"), ("stimuli", "right"))
        for kind, count in stats.stimulus_kinds.most_common(top):
            kinds.add_row(Text(kind, style="stimulus"), str(count), str(stats.stimuli_per_kind[kind]))
        _rest(kinds, stats.stimulus_kinds, top, 3)

        prefixes = _table("per task prefix", ("prefix", "left"), ("transitions", "right"), ("keys", "right"))
        for prefix, count in stats.prefixes.most_common(top):
            prefixes.add_row(Text(prefix, style="key"), str(count), str(stats.keys_per_prefix[prefix]))
        _rest(prefixes, stats.prefixes, top, 3)

        yield Columns([edges, states], padding=(0, 4))
        yield Text("")
        yield Columns([kinds, prefixes], padding=(0, 4))
        yield Text("")

        cascades = _table("longest cascades", ("events", "left"), ("transitions", "right"),
                          ("lasted", "right"), ("stimulus", "left"))  # fmt: skip
        for cascade in stats.cascades:
            stimulus = Text(stimulus_name(cascade.stimulus_id), style="stimulus")
            cascades.add_row(f"{cascade.first} to {cascade.last}", str(cascade.transitions),
                             _seconds(cascade.seconds), stimulus)  # fmt: skip
        yield cascades
