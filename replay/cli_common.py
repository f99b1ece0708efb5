"""What every command shares: the App object, common options, exit codes."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from replay.ingest import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

# rich loads when something is shown, not at start: ``replay run --json`` never needs it.

F = TypeVar("F", bound=Callable[..., Any])
EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a command runs (left off if it already was).

    Speed, process-wide, so it lives here and not in the library: ingest and the replay
    build hundreds of thousands of acyclic records, which reference counting frees, and
    every collector pass over the growing heap only costs time (about a fifth of
    ``replay run`` on a 172,000-entry dump). What survives is moved to the permanent
    generation (``gc.freeze``) before the collector comes back, so its first pass does not
    traverse every record. Guarded by the benchmark, which runs the same way.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


@dataclass
class App:
    """What every command shares; tests inject their own console."""

    console: Console | None = None
    limits: Limits = DEFAULT_LIMITS

    def make_console(self, width: int | None = None, *, record: bool = False) -> Console:
        """The injected console, or one on standard output: colourless when not a terminal or NO_COLOR."""
        if self.console is not None:
            if record:
                self.console.record = True
            return self.console
        from rich.console import Console

        from replay.render.theme import THEME

        return Console(theme=THEME, width=width, highlight=False, soft_wrap=False, record=record,
                       no_color=bool(os.environ.get("NO_COLOR")) or None)  # fmt: skip

    def show(
        self,
        renderable: RenderableType,
        width: int | None = None,
        *,
        svg: Path | None = None,
        html: Path | None = None,
        pager: bool | None = None,
        title: str = "replay",
    ) -> None:
        """Print ``renderable``; page it when long on a terminal; save what was printed as SVG/HTML."""
        exporting = svg is not None or html is not None
        console = self.make_console(width, record=exporting)
        wants_pager = pager is not False and not exporting and self.console is None and console.is_terminal
        if not wants_pager:
            console.print(renderable)
        else:
            with console.capture() as capture:
                console.print(renderable)
            output = capture.get()
            if output.count("\n") >= console.height and sys.stdin.isatty():
                page(output)
            else:
                console.file.write(output)
                console.file.flush()
        if svg is not None:
            console.save_svg(str(svg), title=title, clear=html is None)
        if html is not None:
            console.save_html(str(html), clear=True)

    @contextmanager
    def progress(self, description: str) -> Iterator[Callable[[str], None]]:
        """A pulsing bar on standard error while reading/replaying (only on a terminal).

        Yields a function that changes the description.
        """
        if self.console is not None or not sys.stderr.isatty():
            yield lambda _: None
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from replay.render.theme import THEME

        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True, theme=THEME), transient=True) as bar:
            task = bar.add_task(description, total=None)
            yield lambda text: bar.update(task, description=text)


def page(output: str) -> None:
    """Show ``output`` (with its colour codes) in ``$PAGER``, by default ``less -R``."""
    import shlex
    import subprocess

    command = shlex.split(os.environ.get("PAGER") or "less")
    environment = dict(os.environ)
    environment.setdefault("LESS", "-FRX")
    try:
        with subprocess.Popen(command, stdin=subprocess.PIPE, env=environment) as process:
            if process.stdin is not None:
                with contextlib.suppress(BrokenPipeError):
                    process.stdin.write(output.encode("utf-8", "replace"))
                    process.stdin.close()
            process.wait()
    except OSError:
        sys.stdout.write(output)
        sys.stdout.flush()


def view_options(function: F) -> F:
    """Options of every view: export and pager."""
    decorators = [
        click.option("--svg", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
                     help="Also save what is printed as an SVG picture."),
        click.option("--html", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
                     help="Also save what is printed as an HTML page."),
        click.option("--pager/--no-pager", default=None,
                     help="Page long output (default: when on a terminal)."),
    ]  # fmt: skip
    return _stacked(function, decorators)


distributed_version_option = click.option(
    "--distributed-version", default=None, help="Release the trace came from (bare logs carry none)."
)


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
    return _stacked(function, decorators)


def _stacked(function: F, decorators: Sequence[Callable[[Any], Any]]) -> F:
    """``function`` under ``decorators``, the first outermost (as if written above it in order)."""
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def app_of(context: click.Context, options: dict[str, Any]) -> App:
    """The App, with the common options applied."""
    app: App = context.ensure_object(App)
    changes = {
        name: options[name] for name in ("max_bytes", "max_text_bytes", "max_depth") if options.get(name) is not None
    }
    if changes:
        app.limits = replace(app.limits, **changes)
    return app
