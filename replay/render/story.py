"""The story of one key: every entry that touched it, with what caused each."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from replay.events import Key
from replay.ingest.keys import format_key
from replay.machine.findings import Finding
from replay.machine.steps import Step
from replay.render.text import event_text, key_text, recommendations_text, state_text


class StoryView:
    """A table of the steps of ``key`` (entries of the key, or recommending it)."""

    def __init__(
        self,
        key: Key,
        steps: Sequence[Step],
        findings: Sequence[Finding] = (),
        start_time: float | None = None,
    ) -> None:
        self.key = key
        self.steps = [s for s in steps if s.key == key or key in s.transition.recommendations]
        self.findings = [f for f in findings if f.key == key]
        self.start_time = start_time

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(title=Text.assemble("story of ", key_text(self.key)), title_justify="left", expand=False)
        for name, justify in (("#", "right"), ("time", "right"), ("transition", "left"), ("asked", "left"),
                              ("cause", "left"), ("recommendations", "left"), ("stimulus", "left")):  # fmt: skip
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        by_event: dict[int | None, list[Finding]] = {}
        for finding in self.findings:
            by_event.setdefault(finding.event, []).append(finding)
        for step in self.steps:
            transition = step.transition
            own = step.key == self.key
            moved = Text.assemble(state_text(transition.start), " → ", state_text(transition.finish))
            if not own:
                moved = Text.assemble(key_text(step.key), " ", moved, style="dim")
            asked = step.override.state if step.override is not None else step.requested
            asked_text = state_text(asked) if own and asked not in (None, transition.finish) else Text("")
            table.add_row(
                event_text(step.index),
                self._time(transition.timestamp),
                moved,
                asked_text,
                _cause_text(step),
                recommendations_text(transition.recommendations),
                Text(str(transition.stimulus_id), style="stimulus"),
            )
            for finding in by_event.pop(step.index, []):
                table.add_row("", "", Text(f"⚠ {finding.rule}: {finding.message}", style=f"severity.{finding.severity}"), end_section=False)
        yield table
        for leftovers in by_event.values():
            for finding in leftovers:
                yield Text(f"⚠ {finding.rule}: {finding.message}", style=f"severity.{finding.severity}")

    def _time(self, timestamp: float | None) -> Text:
        if timestamp is None or self.start_time is None:
            return Text("")
        return Text(f"+{timestamp - self.start_time:.3f}s", style="muted")


def _cause_text(step: Step) -> Text:
    if step.override is not None:
        return Text.assemble(f"[{step.override.event}] ", key_text(step.override.key), f": {step.override.state}")
    cause = step.cause
    if cause is None:
        return Text("stimulus root", style="muted")
    text = Text.assemble(f"[{cause.event}] ", key_text(cause.key), f": {cause.state}")
    if cause.replaced is not None:
        text.append(f" (replaced {cause.replaced.state} [{cause.replaced.event}])", style="overridden")
    return text


def story_key_label(key: Key) -> str:
    return format_key(key)
