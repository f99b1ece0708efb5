"""The one theme: every colour replay uses, by meaning."""

from __future__ import annotations

from rich.theme import Theme

STATE_STYLES = {
    "released": "grey62",
    "waiting": "yellow",
    "queued": "dark_orange",
    "no-worker": "magenta",
    "processing": "blue",
    "memory": "green",
    "erred": "bold red",
    "forgotten": "grey42",
}

#: Timeline blocks: the state's colour as a background, the letter readable on it.
BLOCK_STYLES = {
    "released": "black on grey62",
    "waiting": "black on yellow",
    "queued": "black on dark_orange",
    "no-worker": "white on magenta",
    "processing": "white on blue",
    "memory": "black on green",
    "erred": "bold white on red",
    "forgotten": "grey70 on grey23",
}

THEME = Theme(
    {
        **{f"state.{name}": style for name, style in STATE_STYLES.items()},
        **{f"block.{name}": style for name, style in BLOCK_STYLES.items()},
        "block.unknown": "black on white",
        "block.finding": "bold white on red",
        "boundary": "dim",
        "state.unknown": "white on red",
        "severity.error": "bold red",
        "severity.warning": "bold yellow",
        "severity.info": "cyan",
        "culprit": "bold white on red",
        "overridden": "strike red",
        "replaced": "strike dim",
        "noop": "dim",
        "key": "bold cyan",
        "event": "bold",
        "stimulus": "italic magenta",
        "muted": "dim",
        "ok": "bold green",
        "title": "bold",
        "diff.a": "red",
        "diff.b": "green",
    }
)


def state_style(state: str | None) -> str:
    """The theme style of a task state (unknown names stand out)."""
    if state is None:
        return "muted"
    return f"state.{state}" if state in STATE_STYLES else "state.unknown"


def block_style(state: str | None) -> str:
    """The theme style of a timeline block of ``state`` (empty: no task yet)."""
    if state is None:
        return ""
    return f"block.{state}" if state in BLOCK_STYLES else "block.unknown"
