"""The ``replay run`` report: what broke, which recommendation did it, and around it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.padding import Padding
from rich.text import Text

from replay.keys import format_key
from replay.machine.steps import Step
from replay.provenance import Culprit, Finding, ReplayResult
from replay.render.cascade import CascadeView
from replay.render.story import StoryView
from replay.render.text import (
    Unbroken,
    clean_summary,
    finding_head,
    key_text,
    source_details,
    state_text,
    transition_text,
)

MAX_DETAILED = 10


def source_lines(result: ReplayResult) -> Group:
    """The path (never broken) and ``dump-msgpack · distributed 2024.2.1 · 21 events · checked against …``."""
    return Group(
        Unbroken((result.metadata.path, "title")),
        Text(f"{source_details(result)} · checked against {result.table}", style="muted"),
    )


def culprit_text(culprit: Culprit, steps: Mapping[int, Step]) -> Text:
    """``culprit: g: waiting emitted by [17] g memory → released, overriding g: erred from [16] …``."""
    text = Text("culprit: ", style="bold")
    text.append_text(Text.assemble(key_text(culprit.key), ": ", state_text(culprit.state)).copy())
    text.stylize("culprit", len("culprit: "))
    text.append(" emitted by ")
    text.append_text(_entry(culprit.event, steps))
    if culprit.overrode is not None:
        text.append(", overriding ")
        text.append(f"{format_key(culprit.key)}: {culprit.overrode.state}", style="overridden")
        text.append(" from ")
        text.append_text(_entry(culprit.overrode.event, steps))
    return text


def _entry(index: int | None, steps: Mapping[int, Step]) -> Text:
    if index is None:
        return Text("the stimulus itself", style="muted")
    step = steps.get(index)
    if step is None:
        return Text(f"[{index}]")
    return Text.assemble(f"[{index}] ", transition_text(step.transition))


def anchor_of(finding: Finding) -> int | None:
    """The entry a finding is shown around: its own, else its culprit's."""
    if finding.event is not None:
        return finding.event
    return finding.culprit.event if finding.culprit is not None else None


class FindingView:
    """One finding with its culprit, and the cascade around it when given."""

    def __init__(self, finding: Finding, steps: Mapping[int, Step], cascade: Sequence[Step] = ()) -> None:
        self.finding = finding
        self.steps = steps
        self.cascade = cascade

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        finding = self.finding
        head = finding_head(finding)
        if finding.stimulus_id is not None:
            head.append_text(Text.assemble("  ", Text(finding.stimulus_id, style="stimulus")))
        parts: list[object] = [head, Padding(Text(finding.message), (0, 0, 0, 2))]
        if finding.culprit is not None:
            parts.append(Padding(culprit_text(finding.culprit, self.steps), (0, 0, 0, 2)))
        for missing in finding.missing:
            parts.append(Padding(Text(f"missing: {format_key(missing.key)}: {missing.state} was never recommended",
                                      style="severity.warning"), (0, 0, 0, 2)))  # fmt: skip
        if self.cascade:
            parts.append(Padding(CascadeView(self.cascade, finding.culprit), (1, 0, 0, 2)))
        yield Group(*parts)  # type: ignore[arg-type]
        yield Text("")


class RunReport:
    """The whole report of one replay."""

    def __init__(self, result: ReplayResult) -> None:
        self.result = result

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        result = self.result
        yield source_lines(result)
        for note in result.notes:
            yield Text(f"note: {note}", style="muted")
        yield Text("")
        if not result.findings:
            verdict, *caveats = clean_summary(result)
            yield Text(verdict, style="ok")
            for caveat in caveats:
                yield Text(f"  {caveat}", style="muted")
            return
        yield Text(f"✗ {result.errors} error(s), {result.warnings} warning(s)",
                   style="severity.error" if result.errors else "severity.warning")  # fmt: skip
        yield Text("")
        steps_by_index = {step.index: step for step in result.steps}
        groups: dict[int, list[Step]] = {}
        for step in result.steps:
            groups.setdefault(step.group, []).append(step)
        shown_groups: set[int] = set()
        for position, finding in enumerate(result.findings):
            anchor = anchor_of(finding)
            group = steps_by_index[anchor].group if anchor in steps_by_index else None
            cascade: Sequence[Step] = ()
            if position < MAX_DETAILED and group is not None and group not in shown_groups:
                shown_groups.add(group)
                cascade = groups[group]
            yield FindingView(finding, steps_by_index, cascade)
        if result.steps:
            placed = [f for f in result.findings if f.key is not None]
            first = next((f for f in placed if f.severity == "error"), placed[0] if placed else None)
            if first is not None and first.key is not None:
                yield StoryView(first.key, result.steps, result.findings)
