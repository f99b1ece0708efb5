"""What every command shares: the App object, common options, exit codes."""

from __future__ import annotations

import contextlib
import difflib
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from replay.errors import LimitExceededError, OutputError, UnreadableInputError, UsageError
from replay.events import Key, Trace
from replay.ingest import DEFAULT_LIMITS, Limits, open_trace
from replay.ingest.keys import parse_user_key
from replay.keys import format_key
from replay.releases import format_release, parse_release

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from replay.provenance import ReplayResult

# rich loads when something is shown, not at start: ``replay run --json`` never needs it.

F = TypeVar("F", bound=Callable[..., Any])
EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3

#: The end of every command's ``--help``.
EXIT_CODES_HELP = (
    "Exit codes: 0 done (run, worker, reconcile: no error finding; diff: the runs agree), 1 error "
    "findings or diverging runs, 2 usage error, 3 unreadable input, a limit exceeded or an output "
    "that cannot be written. The views, info, convert, rules, table, slice and report exit 0 "
    "whatever the trace holds."
)
#: The narrowest output that still lays out.
MIN_WIDTH = 20


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

    def make_console(self, width: int | None = None) -> Console:
        """The injected console, or one on standard output: plain (no escape codes at all) when
        ``NO_COLOR`` is set, colourless when not a terminal."""
        if self.console is not None:
            return self.console
        from rich.console import Console

        from replay.render.theme import THEME

        plain = bool(os.environ.get("NO_COLOR"))
        return Console(theme=THEME, width=width, highlight=False, soft_wrap=False,
                       no_color=plain or None, color_system=None if plain else "auto")  # fmt: skip

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
        """Print ``renderable``; page it when long on a terminal; save what was printed as SVG/HTML.

        Output without escape codes (piped, or ``NO_COLOR``) loses the spaces that pad its
        lines to the width: they only make copies and diffs noisy.
        """
        console = self.make_console(width)
        with console.capture() as capture:
            console.print(renderable, crop=False)  # an Unbroken line (a path) runs past the width
        output = capture.get()
        if not console.is_terminal or console.color_system is None:
            output = "\n".join(line.rstrip() for line in output.split("\n"))
        exporting = svg is not None or html is not None
        wants_pager = pager is not False and not exporting and self.console is None and console.is_terminal
        if wants_pager and output.count("\n") >= console.height and sys.stdin.isatty():
            page(output)
        else:
            console.file.write(output)
            console.file.flush()
        if exporting:
            export(renderable, console.width, svg=svg, html=html, title=title)

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


def export(renderable: RenderableType, width: int, *, svg: Path | None, html: Path | None, title: str) -> None:
    """Save ``renderable`` at ``width`` as an SVG picture and/or an HTML page, in colour."""
    import io

    from rich.console import Console

    from replay.render.theme import THEME

    recorder = Console(theme=THEME, width=width, highlight=False, soft_wrap=False, record=True,
                       file=io.StringIO(), force_terminal=True, color_system="truecolor")  # fmt: skip
    recorder.print(renderable, crop=False)
    if svg is not None:
        recorder.save_svg(str(svg), title=title, clear=html is None)
    if html is not None:
        recorder.save_html(str(html), clear=True)


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


def writable_destination(context: click.Context | None, parameter: click.Parameter | None, path: Path | None) -> Path | None:
    """A file to write, checked before any work: its directory must exist and be writable."""
    if path is None or str(path) == "-":
        return path
    directory = path.parent
    if not directory.is_dir():
        raise OutputError(str(path), f"cannot write: no directory {str(directory)!r}")
    if not os.access(directory, os.W_OK):
        raise OutputError(str(path), f"cannot write: the directory {str(directory)!r} is not writable")
    if path.is_dir():
        raise OutputError(str(path), "cannot write: it is a directory")
    return path


def view_options(function: F) -> F:
    """Options of everything that shows a picture: width, export and pager."""
    decorators = [
        click.option("--width", type=click.IntRange(min=MIN_WIDTH), default=None, metavar="COLUMNS",
                     help=f"Render at this many columns (at least {MIN_WIDTH}; default: the terminal's)."),
        click.option("--svg", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
                     callback=writable_destination, help="Also save what is printed as an SVG picture."),
        click.option("--html", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
                     callback=writable_destination, help="Also save what is printed as an HTML page."),
        click.option("--pager/--no-pager", default=None,
                     help="Page long output (default: when on a terminal)."),
    ]  # fmt: skip
    return _stacked(function, decorators)


def checked_release(context: click.Context | None, parameter: click.Parameter | None, text: str | None) -> str | None:
    """A ``--distributed-version`` that names a release replay has a table for, or a usage error."""
    if text is None:
        return None
    from replay.machine import TABLES

    release = parse_release(text)
    oldest = TABLES[0].since
    if release is None:
        raise click.BadParameter(f"{text!r} is not a release number such as 2024.2.1")
    if release < oldest:
        raise click.BadParameter(f"{text!r} is older than {format_release(oldest)}, the oldest release replay knows")
    return text


distributed_version_option = click.option(
    "--distributed-version", default=None, metavar="VERSION", callback=checked_release,
    help="Release the trace came from, such as 2024.2.1 (bare logs and stories carry none).",
)  # fmt: skip


def common_options(function: F) -> F:
    """Options every command that reads a trace takes."""
    decorators = [
        click.option("--max-bytes", type=int, default=None, metavar="BYTES",
                     help=f"Most decompressed bytes to read (default {DEFAULT_LIMITS.max_bytes})."),
        click.option("--max-text-bytes", type=int, default=None, metavar="BYTES",
                     help=f"Most bytes of pasted text (default {DEFAULT_LIMITS.max_text_bytes})."),
        click.option("--max-depth", type=int, default=None, metavar="N",
                     help=f"Deepest nesting accepted (default {DEFAULT_LIMITS.max_depth})."),
        click.option("--debug", is_flag=True, help="Show a traceback on errors."),
    ]  # fmt: skip
    return _stacked(function, decorators)


def _stacked(function: F, decorators: Sequence[Callable[[Any], Any]]) -> F:
    """``function`` under ``decorators``, the first outermost (as if written above it in order)."""
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


#: Candidates named in a one-line error before summing up the rest.
MAX_CANDIDATES = 6

def listing(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_CANDIDATES])
    return shown + (f", … (+{len(names) - MAX_CANDIDATES})" if len(names) > MAX_CANDIDATES else "")


def known_keys(result: ReplayResult) -> set[Key]:
    """Every key an entry names (as the key or in its recommendations), or a finding does."""
    keys: set[Key] = {finding.key for finding in result.findings if finding.key is not None}
    for step in result.steps:
        keys.add(step.key)
        keys.update(step.transition.recommendations)
    return keys


def resolve_key(text: str, known: set[Key]) -> Key:
    """The key the user typed, or a one-line usage error naming close ones."""
    key = parse_user_key(text, known)
    if key in known:
        return key
    raise not_found("key", text, sorted(format_key(candidate) for candidate in known))


def not_found(noun: str, text: str, names: list[str], plural: str | None = None) -> UsageError:
    """``no key 'x' in the trace; close: …`` (or, with nothing close, some of the names there are)."""
    close = difflib.get_close_matches(text, names, n=MAX_CANDIDATES)
    hint = f"; close: {', '.join(close)}" if close else f"; {plural or noun + 's'} include {listing(names)}" if names else ""
    return UsageError(f"no {noun} {text!r} in the trace{hint}")


#: How ``-`` (standard input) is named in messages and reports.
STDIN_NAME = "<stdin>"


def read_input(app: App, path: Path, *, worker_logs: bool = False) -> Trace:
    """``open_trace`` of ``path``, where ``-`` is standard input.

    Standard input is copied to a temporary file first (formats are told apart by content,
    and a large log is read twice when streamed); the copy is bounded by ``--max-bytes``
    and removed when the command ends.
    """
    if str(path) != "-":
        return open_trace(path, app.limits, worker_logs=worker_logs)
    import shutil
    import tempfile

    directory = tempfile.mkdtemp(prefix="replay-stdin-")
    click.get_current_context().call_on_close(lambda: shutil.rmtree(directory, ignore_errors=True))
    copy = Path(directory) / "stdin"
    limit = app.limits.max_bytes
    with copy.open("wb") as target:
        copied = 0
        while chunk := sys.stdin.buffer.read(1 << 20):
            copied += len(chunk)
            if copied > limit:
                raise LimitExceededError(STDIN_NAME, f"more than {limit} bytes (--max-bytes)")
            target.write(chunk)
    try:
        trace = open_trace(copy, app.limits, worker_logs=worker_logs)
    except UnreadableInputError as error:
        raise type(error)(STDIN_NAME, error.reason, offset=error.offset) from None
    return replace(trace, metadata=trace.metadata.model_copy(update={"path": STDIN_NAME}))


def show(app: App, renderable: RenderableType, options: dict[str, Any], title: str) -> None:
    """Show ``renderable`` as the view options (width, export, pager) of a command ask."""
    app.show(renderable, options.get("width"), svg=options.get("svg"), html=options.get("html"),
             pager=options.get("pager"), title=title)  # fmt: skip


def app_of(context: click.Context, options: dict[str, Any]) -> App:
    """The App, with the common options applied."""
    app: App = context.ensure_object(App)
    changes = {
        name: options[name] for name in ("max_bytes", "max_text_bytes", "max_depth") if options.get(name) is not None
    }
    if changes:
        app.limits = replace(app.limits, **changes)
    return app
