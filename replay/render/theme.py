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

THEME = Theme(
    {
        **{f"state.{name}": style for name, style in STATE_STYLES.items()},
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
