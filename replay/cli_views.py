"""``replay story``, ``cascade``, ``timeline`` and ``stats``: the terminal views."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Group, RenderableType
from rich.text import Text

from replay.cli_common import (
    EXIT_CODES_HELP,
    App,
    app_of,
    common_options,
    distributed_version_option,
    known_keys,
    listing,
    not_found,
    read_input,
    resolve_key,
    show,
    view_options,
)
from replay.errors import UsageError
from replay.keys import NO_STIMULUS, stimulus_name
from replay.machine import Step
from replay.provenance import ReplayResult, replay_trace
from replay.render.cascade import CascadeView
from replay.render.stats import StatsView
from replay.render.story import StoryView
from replay.render.timeline import Prefix, Selection, TimelineView
from replay.stats import key_prefix, run_stats


def load(app: App, trace: Path, distributed_version: str | None) -> ReplayResult:
    """Read and replay ``trace`` with a progress bar on standard error (terminals only)."""
    with app.progress(f"reading {trace.name}") as describe:
        loaded = read_input(app, trace)
        describe(f"replaying {trace.name}")
        return replay_trace(loaded, distributed_version)


def resolve_stimulus(text: str, steps: Sequence[Step]) -> str | None:
    """The stimulus id ``text`` names: itself, or the one id it is a prefix of.

    ``(no stimulus id)`` names the entries of a log before 2022.4.2, which have none.
    """
    stimuli = list(dict.fromkeys(step.stimulus_id for step in steps))
    if text == NO_STIMULUS and None in stimuli:
        return None
    if text in stimuli:
        return text
    candidates = [stimulus for stimulus in stimuli if stimulus is not None and stimulus.startswith(text)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise UsageError(f"stimulus {text!r} is ambiguous, {len(candidates)} candidates: {listing(candidates)}")
    raise not_found("stimulus", text, [stimulus_name(stimulus) for stimulus in stimuli], "stimuli")


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("trace", type=click.Path(path_type=Path))
@click.argument("keys", nargs=-1, required=True)
@distributed_version_option
@common_options
@view_options
@click.pass_context
def story(context: click.Context, /, trace: Path, keys: tuple[str, ...], distributed_version: str | None,
          **options: Any) -> None:  # fmt: skip
    """The story of each KEY: every transition, what caused it, findings inline.

    Type tuple keys as Python does: "('x', 0)".

    \b
    Examples:
      replay story traces/2024.2.1/seed/dump.msgpack.gz g
      replay story traces/2021.12.0/mapreduce/dump.msgpack.gz "('map', 0)"
    """
    app = app_of(context, options)
    result = load(app, trace, distributed_version)
    known = known_keys(result)
    wanted = [resolve_key(text, known) for text in keys]
    views = [StoryView(key, result.steps, result.findings) for key in wanted]
    show(app, stacked(views), options, f"replay story {' '.join(keys)}")


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("trace", type=click.Path(path_type=Path))
@click.argument("stimulus", required=False)
@click.option("--event", type=click.IntRange(min=0), default=None,
              help="The cascade holding this entry (instead of STIMULUS).")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=0), default=300, show_default=True,
              help="Most transitions shown per cascade (0: all).")  # fmt: skip
@distributed_version_option
@common_options
@view_options
@click.pass_context
def cascade(context: click.Context, /, trace: Path, stimulus: str | None, event: int | None, limit: int,
            distributed_version: str | None, **options: Any) -> None:  # fmt: skip
    """The tree of one STIMULUS (a full id or a unique prefix): each transition under its cause.

    A log without stimulus ids (before 2022.4.2) is one cascade: give --event N.

    \b
    Examples:
      replay cascade traces/2024.2.1/seed/dump.msgpack.gz remove_b2
      replay cascade traces/2024.2.1/seed/dump.msgpack.gz --event 17
    """
    app = app_of(context, options)
    if (stimulus is None) == (event is None):
        raise UsageError("give a STIMULUS or --event N (one of them)")
    result = load(app, trace, distributed_version)
    steps = result.steps
    if event is not None:
        step = next((s for s in steps if s.index == event), None)
        if step is None:
            raise UsageError(f"no event {event} in the trace (events 0 to {len(steps) - 1})")
        groups = [step.group]
        chosen = step.stimulus_id
    else:
        chosen = resolve_stimulus(str(stimulus), steps)
        groups = list(dict.fromkeys(s.group for s in steps if s.stimulus_id == chosen))
    steps_of: dict[int, list[Step]] = {group: [] for group in groups}
    for s in steps:  # one pass, however many times the stimulus came back
        if s.group in steps_of:
            steps_of[s.group].append(s)
    views = []
    for position, group in enumerate(groups):
        group_steps = steps_of[group]
        indices = {s.index for s in group_steps}
        findings = [f for f in result.findings if f.event in indices or (f.culprit and f.culprit.event in indices)]
        title = "cascade " if len(groups) == 1 else f"cascade {position + 1}/{len(groups)} of "
        views.append(CascadeView(group_steps, title=title, findings=findings, limit=limit))
    show(app, stacked(views), options, f"replay cascade {chosen}")


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("trace", type=click.Path(path_type=Path))
@click.option("--by", type=click.Choice(["event", "time"]), default="event", show_default=True,
              help="Horizontal axis: entry index or seconds.")
@click.option("--keys", "key_texts", multiple=True, metavar="KEY",
              help="Only these keys or task prefixes (repeatable; commas separate too).")
@click.option("--limit", type=click.IntRange(min=1), default=40, show_default=True,
              help="Most rows; more keys are grouped by prefix.")  # fmt: skip
@distributed_version_option
@common_options
@view_options
@click.pass_context
def timeline(context: click.Context, /, trace: Path, by: str, key_texts: tuple[str, ...], limit: int,
             distributed_version: str | None, **options: Any) -> None:  # fmt: skip
    """Swimlanes: one row per key (or task prefix), a coloured block per state over the run.

    \b
    Examples:
      replay timeline traces/2026.8.0/large-graph/transition_log.msgpack
      replay timeline traces/2024.2.1/seed/dump.msgpack.gz --keys f,g --by time
    """
    app = app_of(context, options)
    result = load(app, trace, distributed_version)
    known = known_keys(result)
    prefixes = {key_prefix(key) for key in known} if key_texts else set()
    selected: list[Selection] = []
    for text in (part.strip() for given in key_texts for part in _split(given)):
        if text in prefixes and text not in known:
            selected.append(Prefix(text))
        else:
            selected.append(resolve_key(text, known))
    view = TimelineView(result.steps, result.findings, by=by, selected=selected or None, limit=limit)
    show(app, view, options, "replay timeline")


def _split(given: str) -> list[str]:
    """``a,b`` -> ``[a, b]``; commas inside brackets or quotes (a tuple key's) stay."""
    parts: list[str] = []
    depth, quote = 0, ""
    current: list[str] = []
    for char in given:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("trace", type=click.Path(path_type=Path))
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Rows per table.")
@distributed_version_option
@common_options
@view_options
@click.pass_context
def stats(context: click.Context, /, trace: Path, top: int, distributed_version: str | None, **options: Any) -> None:
    """Counts per transition edge, stimulus kind and task prefix; time per state; longest cascades.

    \b
    Example:
      replay stats traces/2024.2.1/seed/dump.msgpack.gz --top 5
    """
    app = app_of(context, options)
    result = load(app, trace, distributed_version)
    summary = run_stats(result.steps, longest=top)
    show(app, StatsView(summary, top=top, source=result.metadata.path), options, "replay stats")


def stacked(views: Sequence[RenderableType]) -> Group:
    """Several views, one after the other with a blank line between."""
    parts: list[RenderableType] = []
    for position, view in enumerate(views):
        if position:
            parts.append(Text(""))
        parts.append(view)
    return Group(*parts)


COMMANDS: list[click.Command] = [story, cascade, timeline, stats]
