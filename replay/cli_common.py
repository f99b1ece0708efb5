"""What every command shares: the App object, common options, exit codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import click
from rich.console import Console, RenderableType

from replay.ingest import DEFAULT_LIMITS, Limits
from replay.render.theme import THEME

F = TypeVar("F", bound=Callable[..., Any])
EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3


@dataclass
class App:
    """What every command shares; tests inject their own console."""

    console: Console | None = None
    debug: bool = False
    limits: Limits = DEFAULT_LIMITS

    def make_console(self, width: int | None = None) -> Console:
        if self.console is not None:
            return self.console
        return Console(theme=THEME, width=width, highlight=False, soft_wrap=False)

    def show(self, renderable: RenderableType, width: int | None = None) -> None:
        self.make_console(width).print(renderable)


def common_options(function: F) -> F:
    """Options every command that reads a trace takes."""
    decorators = [
        click.option("--max-bytes", type=int, default=None, metavar="BYTES",
                     help=f"Most decompressed bytes to read (default {DEFAULT_LIMITS.max_bytes})."),
        click.option("--max-text-bytes", type=int, default=None, metavar="BYTES",
                     help=f"Most bytes of pasted text (default {DEFAULT_LIMITS.max_text_bytes})."),
        click.option("--max-depth", type=int, default=None, metavar="N",
                     help=f"Deepest nesting accepted (default {DEFAULT_LIMITS.max_depth})."),
        click.option("--width", type=int, default=None, help="Render at this many columns."),
        click.option("--debug", is_flag=True, help="Show a traceback on errors."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def app_of(context: click.Context, options: dict[str, Any]) -> App:
    """The App, with the common options applied."""
    app: App = context.ensure_object(App)
    app.debug = app.debug or bool(options.get("debug"))
    changes = {
        name: options[option]
        for name, option in (("max_bytes", "max_bytes"), ("max_text_bytes", "max_text_bytes"), ("max_depth", "max_depth"))
        if options.get(option) is not None
    }
    if changes:
        app.limits = replace(app.limits, **changes)
    return app
