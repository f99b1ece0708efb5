"""Small building blocks shared by every view: styled keys, states, transitions."""

from __future__ import annotations

from rich.text import Text

from replay.events import Key, SchedulerTransition
from replay.keys import format_key
from replay.provenance import Finding, ReplayResult
from replay.render.theme import state_style


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
    """``dump-msgpack · distributed 2024.2.1 · 21 events``."""
    metadata = result.metadata
    return f"{metadata.format} · distributed {metadata.distributed_version or 'release unknown'} · {result.events} events"


def event_text(index: int | None) -> Text:
    return Text("root" if index is None else f"[{index}]", style="event" if index is not None else "muted")
