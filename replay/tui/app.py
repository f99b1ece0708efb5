"""The textual application of ``replay tui``: the entry list, an entry's detail, the world.

Every key binding is in :data:`BINDINGS`, and the help screen (:data:`HELP`) names each one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.pilot import Pilot
from textual.screen import ModalScreen, Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input, Label, Static

from replay.keys import format_key
from replay.tui.session import History, Session
from replay.tui.text import SEVERITY_SIGNS, Palette, Writer

#: Every binding of the main screen, in the order the help screen lists them.
BINDINGS: list[Binding] = [
    Binding("j,down", "step(1)", "next entry"),
    Binding("k,up", "step(-1)", "previous entry"),
    Binding("pagedown", "page(1)", "a page of entries down"),
    Binding("pageup", "page(-1)", "a page of entries up"),
    Binding("home", "first", "first entry"),
    Binding("end", "last", "last entry"),
    Binding("n", "finding(True)", "next entry with a finding"),
    Binding("N", "finding(False)", "previous entry with a finding"),
    Binding("c", "cause", "go to the cause: the entry that emitted this entry's recommendation"),
    Binding("b", "back", "back to where the last jump came from"),
    Binding("g", "go", "go to entry N"),
    Binding("slash", "search", "search: next entry whose key or stimulus id starts with …"),
    Binding("t", "same_key(True)", "next entry of the same key (task)"),
    Binding("T", "same_key(False)", "previous entry of the same key"),
    Binding("s", "same_stimulus(True)", "next entry of the same stimulus"),
    Binding("S", "same_stimulus(False)", "previous entry of the same stimulus"),
    Binding("w", "world", "show the world (every key's state) or the entry's detail"),
    Binding("f", "filter_prefix", "world: only keys starting with a prefix (or of a task prefix)"),
    Binding("F", "filter_state", "world: only keys in one state (press again for the next state)"),
    Binding("tab", "switch_focus", "world: move between the entry list and the keys"),
    Binding("enter", "open_key", "world: go to the selected key's latest entry so far"),
    Binding("d", "scroll_detail(1)", "scroll the detail (or the neighbours) down"),
    Binding("u", "scroll_detail(-1)", "scroll the detail (or the neighbours) up"),
    Binding("question_mark", "help", "this help"),
    Binding("q", "app.quit", "quit"),
]

#: The help screen: every binding above, pairs on one line.
HELP: list[tuple[str, str]] = [
    ("j ↓  k ↑", "next / previous entry"),
    ("pagedown pageup", "a page of entries down / up"),
    ("home end", "first / last entry"),
    ("n N", "next / previous entry with a finding"),
    ("c", "go to the cause: the entry that emitted the recommendation"),
    ("b", "back to where the last jump came from (c, n, g, /, t, s …)"),
    ("g", "go to entry N"),
    ("/", "search the next entry whose key or stimulus starts with …"),
    ("t T", "next / previous entry of the same key (task)"),
    ("s S", "next / previous entry of the same stimulus"),
    ("w", "the world (every key's state here) or the entry's detail"),
    ("f", "world: only keys starting with a prefix (or task prefix)"),
    ("F", "world: only keys in one state; again for the next state"),
    ("tab", "world: between the entry list and the keys"),
    ("enter", "world: go to the selected key's latest entry so far"),
    ("d u", "scroll the detail (or the neighbours) down / up"),
    ("?", "this help"),
    ("q", "quit"),
]

#: The current entry and the selected key: a background under their own colours (and the ``▶`` sign).
CURSOR_STYLE = Style(bold=True, bgcolor="grey30")


class EntryList(ScrollView, can_focus=True):
    """Every entry of the log, one line each, drawn only where visible (fast on any length)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "screen.step(1)", show=False),
        Binding("up", "screen.step(-1)", show=False),
        Binding("pagedown", "screen.page(1)", show=False),
        Binding("pageup", "screen.page(-1)", show=False),
        Binding("home", "screen.first", show=False),
        Binding("end", "screen.last", show=False),
    ]

    class Chosen(Message):
        """An entry was clicked."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(self, writer: Writer, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.writer = writer
        self.position = 0
        self.virtual_size = Size(0, len(writer.session))

    def show(self, position: int) -> None:
        """Make ``position`` the current entry and keep it in view."""
        self.position = position
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_offset.y)
        if not top <= position < top + height:
            self.scroll_to(y=max(0, position - height // 3), animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        position = round(self.scroll_offset.y) + y
        if not 0 <= position < len(self.writer.session):
            return Strip.blank(width, Style.null())
        current = position == self.position
        strip = Strip(self.writer.entry_row(position, width, current), width)
        if current:
            strip = strip.apply_style(CURSOR_STYLE)
        return strip

    def on_click(self, event: events.Click) -> None:
        position = round(self.scroll_offset.y) + event.y
        if 0 <= position < len(self.writer.session):
            self.post_message(self.Chosen(position))


class KeyList(ScrollView, can_focus=True):
    """The keys of the world at the current entry, with a selection."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("home", "move(-1000000000)", show=False),
        Binding("end", "move(1000000000)", show=False),
    ]

    class Selected(Message):
        """The selected key changed."""

    def __init__(self, writer: Writer, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.writer = writer
        self.rows: list[int] = []
        self.selected = 0
        self.position = 0
        self.current_key_id: int | None = None

    def show(self, rows: list[int], position: int, select: int | None) -> None:
        """List ``rows`` (key ids) as they stood after entry ``position``; select key id ``select`` if listed."""
        self.rows = rows
        self.position = position
        self.current_key_id = select
        if select is not None:
            try:
                self.selected = rows.index(select)
            except ValueError:
                self.selected = min(self.selected, max(0, len(rows) - 1))
        else:
            self.selected = min(self.selected, max(0, len(rows) - 1))
        self.virtual_size = Size(0, len(rows))
        self._keep_in_view()
        self.refresh()

    @property
    def selected_key_id(self) -> int | None:
        return self.rows[self.selected] if self.rows else None

    def _keep_in_view(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = round(self.scroll_offset.y)
        if not top <= self.selected < top + height:
            self.scroll_to(y=max(0, self.selected - height // 3), animate=False, immediate=True)

    def action_move(self, delta: int) -> None:
        if not self.rows:
            return
        self.selected = max(0, min(len(self.rows) - 1, self.selected + delta))
        self._keep_in_view()
        self.refresh()
        self.post_message(self.Selected())

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = round(self.scroll_offset.y) + y
        if not 0 <= row < len(self.rows):
            return Strip.blank(width, Style.null())
        key_id = self.rows[row]
        selected = row == self.selected
        strip = Strip(self.writer.world_row(key_id, self.position, width, selected, key_id == self.current_key_id), width)
        if selected:
            strip = strip.apply_style(CURSOR_STYLE if self.has_focus else Style(bold=True))
        return strip

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_offset.y) + event.y
        if 0 <= row < len(self.rows):
            self.selected = row
            self.refresh()
            self.post_message(self.Selected())

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class HelpScreen(ModalScreen[None]):
    """Every key binding."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "close"),
        Binding("down,j", "scroll(1)", show=False),
        Binding("up,k", "scroll(-1)", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100%; max-width: 90; height: auto; max-height: 100%;
                                  border: round $secondary; padding: 0 1; background: $surface; }
    """

    def compose(self) -> ComposeResult:
        text = Text("keys of replay tui", style="bold")
        width = max(len(keys) for keys, _ in HELP)
        for keys, description in HELP:
            text.append(f"\n{keys:>{width}}  ", style="bold")
            text.append(description)
        text.append("\nprompts: enter accepts, escape cancels · escape, q or ? closes this", style="dim")
        with VerticalScroll():
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, delta: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=delta, animate=False)


class Prompt(ModalScreen[str | None]):
    """One line of input at the bottom: enter accepts, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    AUTO_FOCUS = "Input"

    DEFAULT_CSS = """
    Prompt { align: left bottom; }
    Prompt > Horizontal { height: 1; width: 100%; background: $panel; }
    Prompt Label { width: auto; padding: 0 1 0 0; }
    Prompt Input { width: 1fr; }
    """

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.question)
            yield Input(value=self.value, compact=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


#: From this many columns on, the detail and the world are shown side by side.
WIDE_COLUMNS = 140


class MainScreen(Screen[None]):
    """The entry list, and below it the current entry's detail or the world at that entry (both on a wide screen)."""

    BINDINGS: ClassVar[list[BindingType]] = list(BINDINGS)

    DEFAULT_CSS = """
    #header { height: 1; background: $panel; }
    #entries { height: 2fr; min-height: 3; overflow-x: hidden; scrollbar-size-vertical: 1; }
    #lower { height: 3fr; min-height: 4; border-top: solid $secondary; border-title-align: left; }
    #detail-scroll { height: 1fr; scrollbar-size-vertical: 1; }
    #world { height: 1fr; display: none; }
    MainScreen.world #world { display: block; }
    MainScreen.world #detail-scroll { display: none; }
    MainScreen.wide #lower { layout: horizontal; }
    MainScreen.wide #detail-scroll { display: block; width: 1fr; }
    MainScreen.wide #world { display: block; width: 1fr; border-left: solid $secondary; }
    #keys-pane { width: 1fr; }
    #world-heading { height: 2; }
    #keys { height: 1fr; overflow-x: hidden; scrollbar-size-vertical: 1; }
    #neighbours-scroll { width: 1fr; border-left: solid $secondary; padding-left: 1; scrollbar-size-vertical: 1; }
    #status { height: 1; background: $panel; }
    """

    def __init__(self, session: Session, writer: Writer) -> None:
        super().__init__()
        self.session = session
        self.writer = writer
        self.position = 0
        self.history = History()
        self.showing_world = False
        self.wide = False
        self.prefix = ""
        self.state_filter: str | None = None
        self.message = Text("")
        self.last_search = ""

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield EntryList(self.writer, id="entries")
        with Vertical(id="lower"):
            with VerticalScroll(id="detail-scroll"):
                yield Static(id="detail")
            with Horizontal(id="world"):
                with Vertical(id="keys-pane"):
                    yield Static(id="world-heading")
                    yield KeyList(self.writer, id="keys")
                with VerticalScroll(id="neighbours-scroll"):
                    yield Static(id="neighbours")
        yield Static(id="status")

    def on_mount(self) -> None:
        self.query_one("#detail-scroll").can_focus = False
        self.query_one("#neighbours-scroll").can_focus = False
        self.query_one(EntryList).focus()
        if len(self.session):
            self.position = self.session.opening_position()
            self.say(self._opening_message())
        else:
            self.say("the log holds no entries")
        self.call_after_refresh(self.show_position)

    def _opening_message(self) -> str:
        findings = self.session.findings_at.get(self.position)
        if findings:
            worst = self.session.worst_severity(self.position)
            return f"opened at the first {worst} finding, entry {self.position}"
        return "no error or warning finding: opened at the first entry"

    # ------------------------------------------------------------------ showing

    def show_position(self) -> None:
        """Show the current entry everywhere."""
        self._show_header()
        if not len(self.session):
            self.query_one("#detail", Static).update(Text("nothing to show: the log holds no entries"))
            self._show_status()
            return
        self.query_one(EntryList).show(self.position)
        self.query_one("#lower").border_title = "detail · world" if self.wide else "world" if self.showing_world else "detail"
        if self.world_visible:
            self._show_world()
        if self.detail_visible:
            self.query_one("#detail", Static).update(self.writer.detail(self.position))
            self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)
        self._show_status()

    @property
    def world_visible(self) -> bool:
        return self.showing_world or self.wide

    @property
    def detail_visible(self) -> bool:
        return not self.showing_world or self.wide

    def _show_header(self) -> None:
        session = self.session
        result = session.result
        palette = self.writer.palette
        text = Text.assemble(Text("replay tui ", style=palette("title")), Path(result.metadata.path).name)
        release = result.metadata.distributed_version
        if release:
            text.append(f" · {release}")
        if len(session):
            text.append(f" · [{self.position}] of {len(session)}")
        errors, warnings = result.errors, result.warnings
        text.append(" · ")
        if errors or warnings:
            if errors:
                text.append(f"{SEVERITY_SIGNS['error']} {errors} error{'s' if errors != 1 else ''}",
                            style=palette("severity.error"))  # fmt: skip
            if errors and warnings:
                text.append(" ")
            if warnings:
                text.append(f"{SEVERITY_SIGNS['warning']} {warnings} warning{'s' if warnings != 1 else ''}",
                            style=palette("severity.warning"))  # fmt: skip
        else:
            text.append("✓ no error or warning", style=palette("ok"))
        text.no_wrap = True
        text.overflow = "ellipsis"
        self.query_one("#header", Static).update(text)

    def _show_world(self) -> None:
        session = self.session
        keys = self.query_one(KeyList)
        rows = session.world(self.position, self.prefix, self.state_filter)
        current = session.key_ids.get(session.steps[self.position].key)
        keys.show(rows, self.position, current)
        self.query_one("#world-heading", Static).update(
            self.writer.world_heading(self.position, len(rows), self.prefix, self.state_filter)
        )
        self._show_neighbours()

    def _show_neighbours(self) -> None:
        keys = self.query_one(KeyList)
        key_id = keys.selected_key_id
        key = None if key_id is None else self.session.keys[key_id]
        self.query_one("#neighbours", Static).update(self.writer.neighbours(key, self.position))

    def _show_status(self) -> None:
        width = self.size.width
        hint = "? help · q quit"
        text = self.message.copy()
        text.truncate(max(0, width - len(hint) - 1), overflow="ellipsis")
        text.append(" " * max(1, width - text.cell_len - len(hint)))
        text.append(hint, style=self.writer.palette("muted"))
        self.query_one("#status", Static).update(text)

    def say(self, message: str | Text) -> None:
        self.message = message if isinstance(message, Text) else Text(message)
        if self.is_mounted:
            self._show_status()

    def on_resize(self) -> None:
        wide = self.size.width >= WIDE_COLUMNS
        if wide != self.wide:
            self.wide = wide
            self.set_class(wide, "wide")
            if self.query_one(KeyList).has_focus and not self.world_visible:
                self.query_one(EntryList).focus()
            if len(self.session):
                self.show_position()
        self._show_status()

    # ------------------------------------------------------------------ moving

    def go_to(self, position: int, *, remember: bool = True, message: str | Text | None = None) -> None:
        """Make ``position`` the current entry; ``remember`` the one left for ``b``."""
        if remember and position != self.position:
            self.history.remember(self.position)
        self.position = position
        self.say(message if message is not None else "")
        self.show_position()

    def _has_entries(self) -> bool:
        if not len(self.session):
            self.say("the log holds no entries")
            return False
        return True

    def action_step(self, delta: int) -> None:
        if not self._has_entries():
            return
        target = max(0, min(len(self.session) - 1, self.position + delta))
        if target == self.position:
            self.say("already at the last entry" if delta > 0 else "already at the first entry")
            return
        self.go_to(target, remember=False)

    def action_page(self, direction: int) -> None:
        height = max(1, self.query_one(EntryList).scrollable_content_region.height - 1)
        self.action_step(direction * height)

    def action_first(self) -> None:
        if self._has_entries():
            self.go_to(0, remember=False)

    def action_last(self) -> None:
        if self._has_entries():
            self.go_to(len(self.session) - 1, remember=False)

    def action_finding(self, forward: bool) -> None:
        if not self._has_entries():
            return
        target = self.session.next_finding(self.position, forward)
        if target is None:
            self.say(f"no {'later' if forward else 'earlier'} finding")
            return
        count = len(self.session.findings_at[target])
        self.go_to(target, message=f"entry {target}: {count} finding{'s' if count != 1 else ''}")

    def action_cause(self) -> None:
        if not self._has_entries():
            return
        culprit = self.session.culprit(self.position)
        target = self.session.cause_position(self.position)
        if target is None:
            self.say(f"[{self.position}] was asked for by the stimulus itself: no entry emitted it")
            return
        message = f"cause of [{self.position}]: {format_key(culprit.key)}: {culprit.state} emitted by [{target}]"
        if culprit.overrode is not None:
            message += f", overriding {format_key(culprit.key)}: {culprit.overrode.state} from [{culprit.overrode.event}]"
        self.go_to(target, message=message + " · b goes back")

    def action_back(self) -> None:
        target = self.history.back()
        if target is None:
            self.say("nothing to go back to")
            return
        self.go_to(target, remember=False, message=f"back to [{target}]")

    def action_same_key(self, forward: bool) -> None:
        if not self._has_entries():
            return
        key = format_key(self.session.steps[self.position].key)
        target = self.session.same_key(self.position, forward)
        if target is None:
            self.say(f"no {'later' if forward else 'earlier'} entry of {key}")
            return
        self.go_to(target, message=f"{'next' if forward else 'previous'} entry of {key}")

    def action_same_stimulus(self, forward: bool) -> None:
        if not self._has_entries():
            return
        step = self.session.steps[self.position]
        stimulus = step.stimulus_id or "(no stimulus id)"
        target = self.session.same_stimulus(self.position, forward)
        if target is None:
            self.say(f"no {'later' if forward else 'earlier'} entry of {stimulus}")
            return
        self.go_to(target, message=f"{'next' if forward else 'previous'} entry of {stimulus}")

    def action_go(self) -> None:
        if self._has_entries():
            self.app.push_screen(Prompt(f"go to entry (0 to {len(self.session) - 1}):"), self._go)

    def _go(self, answer: str | None) -> None:
        if answer is None or not answer.strip():
            self.say("")
            return
        text = answer.strip().strip("[]")
        if not text.isdigit() or int(text) >= len(self.session):
            self.say(f"no entry {answer.strip()!r}: entries are 0 to {len(self.session) - 1}")
            return
        self.go_to(int(text), message=f"entry {int(text)} · b goes back")

    def action_search(self) -> None:
        if self._has_entries():
            self.app.push_screen(Prompt("search key or stimulus (prefix):", self.last_search), self._search)

    def _search(self, answer: str | None) -> None:
        if answer is None:
            self.say("")
            return
        query = answer or self.last_search
        if not query:
            self.say("")
            return
        self.last_search = query
        target, wrapped = self.session.search(query, self.position)
        if target is None:
            self.say(f"no key or stimulus id starts with {query!r}")
            return
        note = " (wrapped past the last entry)" if wrapped else ""
        self.go_to(target, message=f"{query!r} at entry {target}{note} · / enter finds the next")

    # ------------------------------------------------------------------ the world

    def action_world(self) -> None:
        self.showing_world = not self.showing_world
        self.set_class(self.showing_world, "world")
        if not self.world_visible and self.query_one(KeyList).has_focus:
            self.query_one(EntryList).focus()
        if self.wide:
            self.say("the screen is wide: the detail and the world are both shown")
        else:
            self.say("the world: tab moves to its keys, f and F filter them, w goes back to the detail"
                     if self.showing_world else "")  # fmt: skip
        if len(self.session):
            self.show_position()

    def _ensure_world(self) -> bool:
        if not len(self.session):
            self.say("the log holds no entries")
            return False
        if not self.world_visible:
            self.action_world()
        return True

    def action_filter_prefix(self) -> None:
        if self._ensure_world():
            self.app.push_screen(Prompt("keys starting with (empty: every key):", self.prefix), self._filter_prefix)

    def _filter_prefix(self, answer: str | None) -> None:
        if answer is None:
            return
        self.prefix = answer.strip()
        self.say(f"world: keys starting with {self.prefix!r}" if self.prefix else "world: every key")
        self.show_position()

    def action_filter_state(self) -> None:
        if not self._ensure_world():
            return
        states = [None, *self.session.states_seen()]
        following = states.index(self.state_filter) + 1 if self.state_filter in states else 0
        self.state_filter = states[following % len(states)]
        self.say(f"world: keys in state {self.state_filter}" if self.state_filter else "world: keys in any state")
        self.show_position()

    def action_switch_focus(self) -> None:
        keys = self.query_one(KeyList)
        if keys.has_focus or not self.world_visible:
            self.query_one(EntryList).focus()
            if not self.world_visible:
                self.say("tab moves to the keys of the world: w shows it")
        else:
            keys.focus()

    def action_open_key(self) -> None:
        keys = self.query_one(KeyList)
        if not (self.world_visible and keys.has_focus):
            return
        key_id = keys.selected_key_id
        if key_id is None:
            return
        target = self.session.latest_entry_of(key_id, self.position)
        if target is None:
            return
        self.go_to(target, message=f"latest entry of {self.session.key_texts[key_id]} · b goes back")

    def action_scroll_detail(self, direction: int) -> None:
        scroll = self.query_one("#detail-scroll" if self.detail_visible else "#neighbours-scroll", VerticalScroll)
        scroll.scroll_relative(y=direction * max(1, scroll.size.height // 2), animate=False)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def on_entry_list_chosen(self, message: EntryList.Chosen) -> None:
        self.go_to(message.position, remember=False)

    def on_key_list_selected(self, message: KeyList.Selected) -> None:
        self._show_neighbours()


class ReplayTui(App[None]):
    """``replay tui``: walk through a replayed trace, entry by entry, finding by finding."""

    ENABLE_COMMAND_PALETTE = False
    TITLE = "replay tui"

    def __init__(self, session: Session, palette: Palette | None = None, *, screenshot: Path | None = None) -> None:
        super().__init__()
        self.session = session
        palette = palette or Palette()
        if os.environ.get("NO_COLOR"):
            palette = palette.without_colour()
        self.writer = Writer(session, palette)
        #: where to save the screen when a headless run ends (``--screenshot``)
        self.screenshot = screenshot
        self.quitting = False
        self.main: MainScreen | None = None

    def on_mount(self) -> None:
        self.main = MainScreen(self.session, self.writer)
        self.push_screen(self.main)

    @property
    def position(self) -> int | None:
        """The current entry (None: the log holds none, or the screens never opened)."""
        if self.main is None or not len(self.session):
            return None
        return self.main.position

    async def action_quit(self) -> None:
        self.save_final_screen()
        self.quitting = True
        self.exit()

    def save_final_screen(self) -> None:
        """Save the screen as an SVG picture where ``--screenshot`` asked, once."""
        if self.screenshot is not None:
            path, self.screenshot = self.screenshot, None
            path.write_text(self.export_screenshot(title=f"replay tui {Path(self.session.result.metadata.path).name}"),
                            encoding="utf-8")  # fmt: skip


#: Named keys ``--keys`` takes in angle brackets; ``<lt>`` is a literal ``<``.
NAMED_KEYS = frozenset({"enter", "escape", "tab", "up", "down", "left", "right", "home", "end", "pageup",
                        "pagedown", "space", "backspace", "delete"})  # fmt: skip


def parse_keys(script: str) -> list[str]:
    """``g17<enter>`` -> ``["g", "1", "7", "enter"]``: one key a character, named keys in brackets."""
    keys: list[str] = []
    position = 0
    while position < len(script):
        character = script[position]
        if character == "<":
            end = script.find(">", position)
            name = script[position + 1 : end] if end > 0 else ""
            if name == "lt":
                keys.append("<")
                position = end + 1
                continue
            if name in NAMED_KEYS:
                keys.append(name)
                position = end + 1
                continue
            if end > 0 and name and all(letter.isalpha() or letter == "_" for letter in name):
                raise ValueError(f"unknown key <{name}> (named keys: {', '.join(sorted(NAMED_KEYS))}, lt)")
        keys.append(character)
        position += 1
    return keys


def play(app: ReplayTui, keys: list[str], size: tuple[int, int]) -> None:
    """Run ``app`` headless: press ``keys`` one after the other, save the screen if asked, quit."""

    async def press_all(pilot: Pilot[object]) -> None:
        await pilot.pause()
        for key in keys:
            if app.quitting:
                break
            await pilot.press(key)
        if not app.quitting:
            await pilot.pause()
            app.save_final_screen()
            app.exit()

    app.run(headless=True, size=size, auto_pilot=press_all)
