"""Small building blocks shared by every view: styled keys, states, transitions."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text

from replay.events import Key, SchedulerTransition
from replay.keys import format_key
from replay.provenance import Finding, ReplayResult
from replay.releases import format_release, parse_release
from replay.render.theme import state_style


class Unbroken:
    """A line that is never wrapped nor cut, such as a path to copy: past the width it runs on.

    Printed with ``crop=False`` (as the CLI prints); a terminal then wraps it softly, which
    copies back as one line.
    """

    def __init__(self, *parts: tuple[str, str]) -> None:
        self.parts = parts

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for text, style in self.parts:
            yield Segment(text, console.get_style(style) if style else None)
        yield Segment.line()


def key_text(key: Key) -> Text:
    return Text(format_key(key), style="key")


def state_text(state: str | None) -> Text:
    return Text(state if state is not None else "?", style=state_style(state))


def transition_text(transition: SchedulerTransition) -> Text:
    """``g memory → released`` with each state in its colour."""
    return Text.assemble(
        key_text(transition.key), " ", state_text(transition.start), " → ", state_text(transition.finish)
    )


def recommendations_text(recommendations: dict[Key, str], limit: int | None = None) -> Text:
    """``{g: waiting, ha: waiting}``; past ``limit`` items, ``… +N``."""
    text = Text("{")
    for position, (key, state) in enumerate(recommendations.items()):
        if position:
            text.append(", ")
        if limit is not None and position >= limit:
            text.append(f"… +{len(recommendations) - limit}", style="muted")
            break
        text.append_text(key_text(key))
        text.append(": ")
        text.append_text(state_text(state))
    text.append("}")
    return text


def event_reference(event: int | None) -> str:
    """``[17]``, or ``the stimulus`` for a recommendation that no entry emitted."""
    return "the stimulus" if event is None else f"[{event}]"


def finding_head(finding: Finding) -> Text:
    """``ERROR rule  event 17  key``."""
    where = "event ?" if finding.event is None else f"event {finding.event}"
    return Text.assemble(
        Text(finding.severity.upper(), style=f"severity.{finding.severity}"), " ",
        Text(finding.rule, style="bold"), f"  {where}  ",
        Text("key unknown", style="muted") if finding.key is None else key_text(finding.key),
    )  # fmt: skip


def source_details(result: ReplayResult) -> str:
    """``dump-msgpack · distributed 2024.2.1 · 21 events`` (``2024.2.1 (given)`` when an option said it)."""
    metadata = result.metadata
    if result.release is None:
        release = "release unknown"
    elif metadata.distributed_version and parse_release(metadata.distributed_version) == result.release:
        release = metadata.distributed_version
    else:
        release = f"{format_release(result.release)} (given)"
    return f"{metadata.format} · distributed {release} · {result.events} events"


def clean_summary(result: ReplayResult) -> list[str]:
    """What a report without findings checked, and what it could not."""
    lines = [
        f"✓ no findings in {result.events} entries: every transition is legal for {result.table}, "
        f"every cascade finished, and every state checked was valid"
    ]
    if result.release is None:
        lines.append("release unknown: only the rules of every release were checked (give --distributed-version)")
    if not result.complete_log:
        lines.append("the log starts partway through the run: what happened to its keys before it is unknown")
    if result.graph_source != "dump":
        lines.append(
            "no task table: dependencies come only from what recommendations imply, so the dependency "
            "rules saw some edges, not all (a dump has them all)"
        )
    return lines


def event_text(index: int | None) -> Text:
    return Text("root" if index is None else f"[{index}]", style="event" if index is not None else "muted")
