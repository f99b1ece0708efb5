"""What the screens of ``replay tui`` say, as rich text: entry rows, an entry's detail, the world.

No textual here either. Every mark is a word or a sign as well as a colour (``✗``, ``⚠``,
``▶``, ``◀ culprit``, ``overriding``), so a screen reads the same under ``NO_COLOR``.
Colours come from a :class:`Palette` the command builds from replay's one theme
(``replay.render.theme``, a sibling layer this package does not import).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style, StyleType
from rich.table import Table
from rich.text import Text

from replay.events import Key
from replay.keys import format_key, stimulus_name
from replay.machine.steps import DETOUR_INNER, DETOUR_OUTER, NO_OP, Recommendation
from replay.provenance import Culprit, Finding
from replay.tui.session import Neighbour, Session

#: The sign of each severity, before an entry and a finding.
SEVERITY_SIGNS = {"error": "✗", "warning": "⚠", "info": "i"}
#: Recommendations, replacements and findings listed per entry before summing up the rest.
MAX_LISTED = 12
#: Marks the current entry, and the selected key of the world.
CURSOR = "▶"
ROLES = {DETOUR_INNER: "detour 1/2 through released", DETOUR_OUTER: "detour 2/2", NO_OP: "no-op"}


class Palette:
    """Named styles (``state.waiting``, ``culprit``, ``severity.error``, ...); none: no colour."""

    def __init__(self, styles: Mapping[str, StyleType] | None = None) -> None:
        self.styles: dict[str, Style] = {
            name: style if isinstance(style, Style) else Style.parse(style) for name, style in (styles or {}).items()
        }

    def without_colour(self) -> Palette:
        """The same styles with no colour (bold, italic, strike-through stay): for ``NO_COLOR``."""
        return Palette({name: style.without_color for name, style in self.styles.items()})

    def __call__(self, name: str) -> Style:
        return self.styles.get(name, Style.null())

    def state(self, state: str | None) -> Style:
        if state is None:
            return self("muted")
        style = self.styles.get(f"state.{state}")
        return style if style is not None else self("state.unknown")


def event_label(position: int | None) -> str:
    return "the stimulus itself" if position is None else f"[{position}]"


class Writer:
    """Builds the text of every pane of one session, in one palette."""

    def __init__(self, session: Session, palette: Palette) -> None:
        self.session = session
        self.palette = palette
        steps = session.steps
        self.index_width = len(str(max(len(steps) - 1, 0)))
        self.state_width = max((len(state) for state in session.states_seen()), default=8)
        self.longest_key = max((len(text) for text in session.key_texts), default=1)
        self.timed = session.start_time is not None
        last = session.relative_time(len(steps) - 1) if steps and self.timed else None
        self.time_width = len(f"+{last:.3f}") if last is not None else 6

    # ------------------------------------------------------------------ small pieces

    def key(self, key: Key) -> Text:
        return Text(format_key(key), style=self.palette("key"))

    def state(self, state: str | None) -> Text:
        return Text(state if state is not None else "-", style=self.palette.state(state))

    def recommendation(self, key: Key, state: str) -> Text:
        return Text.assemble(self.key(key), ": ", self.state(state))

    def entry_reference(self, position: int | None) -> Text:
        """``[16] f processing → erred``, or ``the stimulus itself``."""
        if position is None or not 0 <= position < len(self.session.steps):
            return Text(event_label(position), style=self.palette("muted"))
        transition = self.session.steps[position].transition
        return Text.assemble(
            Text(f"[{position}]", style=self.palette("event")), " ", self.key(transition.key), " ",
            self.state(transition.start), " → ", self.state(transition.finish),
        )  # fmt: skip

    # ------------------------------------------------------------------ the entry list

    def entry_row(self, position: int, width: int, current: bool) -> list[Segment]:
        """One line of the entry list: mark, index, time, key, start → finish, stimulus."""
        session = self.session
        palette = self.palette
        transition = session.steps[position].transition
        severity = session.worst_severity(position)
        parts: list[tuple[str, Style]] = [
            (SEVERITY_SIGNS[severity] if severity else " ", palette(f"severity.{severity}") if severity else Style.null()),
            (CURSOR if current else " ", palette("title")),
            (f" {position:>{self.index_width}} ", palette("event")),
        ]
        if self.timed:
            elapsed = session.relative_time(position)
            parts.append((f"{'' if elapsed is None else f'+{elapsed:.3f}':>{self.time_width}} ", palette("muted")))
        used = sum(len(text) for text, _ in parts)
        states = 2 * self.state_width + 3
        key_width = max(4, min(self.longest_key, (width - used - states - 2) // 2, 40))
        key_text = format_key(transition.key)
        if len(key_text) > key_width:
            key_text = key_text[: key_width - 1] + "…"
        parts += [
            (f"{key_text:<{key_width}} ", palette("key")),
            (f"{transition.start:<{self.state_width}}", palette.state(transition.start)),
            (" → ", Style.null()),
            (f"{transition.finish:<{self.state_width}}", palette.state(transition.finish)),
            ("  ", Style.null()),
            (stimulus_name(transition.stimulus_id), palette("stimulus")),
        ]
        segments = []
        room = width
        for text, style in parts:
            if room <= 0:
                break
            shown = text if len(text) <= room else text[: room - 1] + "…" if room > 1 else text[:room]
            segments.append(Segment(shown, style))
            room -= len(shown)
        if room > 0:
            segments.append(Segment(" " * room, Style.null()))
        return segments

    # ------------------------------------------------------------------ the detail of one entry

    def detail(self, position: int) -> RenderableType:
        """Requested state, cause, recommendations emitted and replaced, findings of one entry."""
        session = self.session
        palette = self.palette
        step = session.steps[position]
        transition = step.transition
        heading = Text.assemble(self.entry_reference(position))
        heading.stylize(palette("title"))
        if step.role in ROLES:
            heading.append(f"  {ROLES[step.role]}", style=palette("muted"))
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, style=palette("muted"))
        table.add_column(ratio=1, overflow="fold")
        where = Text.assemble(Text(stimulus_name(transition.stimulus_id), style=palette("stimulus")))
        stimulus_entries = session.stimulus_entries(transition.stimulus_id)
        key_entries = session.key_entries(step.key)
        where.append(f"  entry {bisect.bisect_left(stimulus_entries, position) + 1} of {len(stimulus_entries)}", style=palette("muted"))
        elapsed = session.relative_time(position)
        if elapsed is not None:
            where.append(f" · +{elapsed:.3f} s", style=palette("muted"))
        table.add_row("stimulus", where)
        table.add_row("key", Text.assemble(self.key(step.key), Text(
            f"  entry {bisect.bisect_left(key_entries, position) + 1} of {len(key_entries)}", style=palette("muted"))))  # fmt: skip
        table.add_row("requested", self._requested(position))
        table.add_row("cause", self._cause(position))
        emitted = session.emitted(position)
        if emitted:
            lines: list[Text] = []
            hidden = plain = 0
            for item in emitted:
                if not (item.culprit_of or item.overriding or item.replaced_by):
                    plain += 1
                    if plain > MAX_LISTED:
                        hidden += 1
                        continue
                elif len(lines) >= 3 * MAX_LISTED:
                    hidden += 1
                    continue
                lines.append(self._emitted_line(item.recommendation, item.culprit_of, item.overriding, item.replaced_by))
            table.add_row("emitted", self._listed(lines, hidden, len(emitted)))
        else:
            table.add_row("emitted", Text("nothing", style=palette("muted")))
        if step.replaced:
            lines = [self._replaced_line(r) for r in step.replaced[:MAX_LISTED]]
            table.add_row("replaced", self._listed(lines, len(step.replaced) - len(lines), len(step.replaced)))
        if step.silent:
            lines = [Text.assemble(self.recommendation(r.key, r.state),
                                   Text(f" from {event_label(r.event)}, already there", style=palette("muted")))
                     for r in step.silent[:MAX_LISTED]]  # fmt: skip
            table.add_row("skipped", self._listed(lines, len(step.silent) - len(lines), len(step.silent)))
        blamed = session.culprit_findings.get(position, [])
        if blamed:
            table.add_row("culprit of", self._blamed(blamed))
        findings = list(session.findings_at.get(position, []))
        if position == len(session.steps) - 1:
            findings += session.unplaced
        for number, finding in enumerate(findings[:MAX_LISTED]):
            table.add_row("findings" if not number else "", self.finding(finding))
        if len(findings) > MAX_LISTED:
            table.add_row("", Text(f"… {len(findings) - MAX_LISTED} more findings at this entry "
                                   f"(replay run --json lists them all)", style=palette("muted")))  # fmt: skip
        return Group(heading, table)

    def _listed(self, lines: list[Text], hidden: int, total: int) -> Text:
        """Lines, then ``… 3988 more (4000 in all)`` when some were left out."""
        text = Text("\n").join(lines)
        if hidden:
            text.append(f"\n… {hidden} more ({total} in all)", style=self.palette("muted"))
        return text

    def _requested(self, position: int) -> Text:
        step = self.session.steps[position]
        if step.requested is None:
            return Text("nothing: no pending recommendation for this key", style=self.palette("muted"))
        text = self.state(step.requested)
        if step.override is not None and step.cause is not None:
            text = Text.assemble(self.state(step.override.state), "  asked ",
                                 Text(step.cause.state, style=self.palette("overridden")),
                                 Text(", overridden by the detour", style=self.palette("muted")))  # fmt: skip
        elif step.requested != step.transition.finish and step.role != DETOUR_INNER:
            text.append("  went ", style=self.palette("muted"))
            text.append_text(self.state(step.transition.finish))
        return text

    def _cause(self, position: int) -> Text:
        """The recommendation the entry was popped from, with the entry that emitted it (``c`` goes there)."""
        culprit: Culprit = self.session.culprit(position)
        if culprit.event is None:
            return Text("the stimulus itself (its recommendations are never logged)", style=self.palette("muted"))
        text = Text.assemble(self.recommendation(culprit.key, culprit.state), " from ", self.entry_reference(culprit.event))
        if culprit.overrode is not None:
            text.append(", overriding ")
            text.append(f"{format_key(culprit.key)}: {culprit.overrode.state}", style=self.palette("overridden"))
            text.append(f" from {event_label(culprit.overrode.event)}")
        return text

    def _emitted_line(self, recommendation: Recommendation, rules: tuple[str, ...], overriding: Recommendation | None,
                      replaced_by: Recommendation | None) -> Text:  # fmt: skip
        palette = self.palette
        body = self.recommendation(recommendation.key, recommendation.state)
        if rules:
            body.stylize(palette("culprit"))
            text = Text.assemble("→ ", body, Text(" ◀ culprit", style=palette("severity.error")))
        elif replaced_by is not None:
            body.stylize(palette("overridden"))
            text = Text.assemble("✗ ", body)
        else:
            text = Text.assemble("→ ", body)
        if overriding is not None:
            text.append(", overriding ")
            text.append(f"{format_key(overriding.key)}: {overriding.state}", style=palette("overridden"))
            text.append(f" from {event_label(overriding.event)}")
        if replaced_by is not None:
            text.append(f"  replaced by {format_key(replaced_by.key)}: {replaced_by.state} from "
                        f"{event_label(replaced_by.event)}")  # fmt: skip
        return text

    def _replaced_line(self, replaced: Recommendation) -> Text:
        body = Text(f"{format_key(replaced.key)}: {replaced.state}", style=self.palette("overridden"))
        return Text.assemble("✗ ", body, f" from {event_label(replaced.event)}")

    def _blamed(self, findings: list[Finding]) -> Text:
        """``[18] waiting-on-erred, deadlock · [20] deadlock``: findings this entry's recommendations caused."""
        by_event: dict[int | None, list[str]] = {}
        for finding in findings:
            rules = by_event.setdefault(finding.event, [])
            if finding.rule not in rules:
                rules.append(finding.rule)
        text = Text()
        for number, (event, rules) in enumerate(by_event.items()):
            if number == MAX_LISTED:
                text.append(f" · … {len(by_event) - MAX_LISTED} more entries", style=self.palette("muted"))
                break
            if number:
                text.append(" · ", style=self.palette("muted"))
            text.append(event_label(event), style=self.palette("event"))
            text.append(" " + ", ".join(rules))
        return text

    def finding(self, finding: Finding) -> Text:
        """``✗ ERROR rule`` and the message; the culprit when it is another entry's."""
        palette = self.palette
        text = Text.assemble(
            Text(f"{SEVERITY_SIGNS.get(finding.severity, '?')} {finding.severity.upper()} ",
                 style=palette(f"severity.{finding.severity}")),
            Text(finding.rule, style=palette("title")), " ", finding.message,
        )  # fmt: skip
        culprit = finding.culprit
        if culprit is not None:
            text.append("\nculprit: ", style=palette("muted"))
            text.append_text(self.recommendation(culprit.key, culprit.state))
            text.append(f" emitted by {event_label(culprit.event)}")
            if culprit.overrode is not None:
                text.append(", overriding ")
                text.append(f"{format_key(culprit.key)}: {culprit.overrode.state}", style=palette("overridden"))
                text.append(f" from {event_label(culprit.overrode.event)}")
        for missing in finding.missing:
            text.append("\nmissing: ", style=palette("muted"))
            text.append_text(self.recommendation(missing.key, missing.state))
            text.append(" was never recommended")
        return text

    # ------------------------------------------------------------------ the world

    def world_row(self, key_id: int, position: int, width: int, selected: bool, current_key: bool) -> list[Segment]:
        """``▶ g     waiting``: one key of the world, its state after the entry."""
        session = self.session
        palette = self.palette
        state = session.state_name(session.states_after(position)[key_id])
        state_text = state or "-"
        key_room = max(1, width - 3 - max(self.state_width, len(state_text)))
        key_text = session.key_texts[key_id]
        if len(key_text) > key_room:
            key_text = key_text[: key_room - 1] + "…"
        segments = [
            Segment(CURSOR if selected else " ", palette("title")),
            Segment("•" if current_key else " ", palette("event")),
            Segment(f"{key_text:<{key_room}} ", palette("key")),
            Segment(state_text, palette.state(state)),
        ]
        used = sum(segment.cell_length for segment in segments)
        if used < width:
            segments.append(Segment(" " * (width - used), Style.null()))
        return segments

    def world_heading(self, position: int, shown: int, prefix: str, state: str | None) -> Text:
        """``[18] 4 keys · any key · any state``, and how many keys of the prefix are in each state."""
        palette = self.palette
        text = Text.assemble(Text(f"[{position}]", style=palette("event")), f" {shown} key{'s' if shown != 1 else ''} · ")
        text.append(repr(prefix) if prefix else "any key", style=palette("key") if prefix else palette("muted"))
        text.append(" · ")
        text.append(state if state else "any state", style=palette.state(state) if state else palette("muted"))
        text.append("\n")
        for number, (name, count) in enumerate(self.session.state_counts(position, prefix)):
            if number:
                text.append(" ")
            text.append(name, style=palette.state(name))
            text.append(f" {count}")
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def neighbours(self, key: Key | None, position: int) -> Text:
        """The selected key's state, its dependencies and its dependents, as they stood after the entry."""
        palette = self.palette
        if key is None:
            return Text("no key selected", style=palette("muted"))
        session = self.session
        dependencies, dependents = session.neighbours(key, position)
        text = Text.assemble(self.key(key), "  ", self.state(session.state_after(key, position)))
        for title, neighbours in (("dependencies", dependencies), ("dependents", dependents)):
            text.append(f"\n{title} ({len(neighbours)})", style=palette("title"))
            for neighbour in neighbours:
                text.append("\n  ")
                text.append_text(self._neighbour(neighbour))
        source = session.result.graph_source
        if source != "dump":
            text.append("\nedges inferred from recommendations up to here", style=palette("muted"))
        return text

    def _neighbour(self, neighbour: Neighbour) -> Text:
        text = Text.assemble(self.key(neighbour.key), " ", self.state(neighbour.state))
        if neighbour.evidence is not None:
            text.append(f"  since [{neighbour.evidence}]", style=self.palette("muted"))
        return text

