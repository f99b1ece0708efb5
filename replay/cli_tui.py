"""``replay tui``: walk through a trace in the terminal.

textual is an optional extra: this module imports it only inside the command, so
``replay --help`` and every other command run without it.
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from replay.cli_common import (
    EXIT_CODES_HELP,
    app_of,
    common_options,
    distributed_version_option,
    read_input,
    writable_destination,
)
from replay.errors import ReplayError, UsageError
from replay.keys import format_key, stimulus_name

#: What ``replay tui`` says, in one line, when textual is missing.
INSTALL_HINT = "replay tui needs textual: pip install 'dask-replay[tui]'"
#: The screen a headless run (``--keys``, ``--screenshot``) draws on.
DEFAULT_SIZE = (80, 24)


class MissingExtraError(ReplayError):
    """An optional extra a command needs is not installed (exit 3, one line)."""


def parse_size(context: click.Context | None, parameter: click.Parameter | None, text: str) -> tuple[int, int]:
    """``80x24`` -> ``(80, 24)``."""
    match = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not COLUMNSxROWS, such as 80x24")
    columns, rows = int(match[1]), int(match[2])
    if columns < 40 or rows < 10:
        raise click.BadParameter(f"{text!r} is too small: at least 40x10")
    return columns, rows


@contextmanager
def collector_running() -> Iterator[None]:
    """The garbage collector on while the screens run (the CLI pauses it to read and replay).

    What reading and replaying built is frozen first, so the collector never walks it.
    """
    paused = not gc.isenabled()
    if paused:
        gc.freeze()
        gc.enable()
    try:
        yield
    finally:
        if paused:
            gc.disable()


@click.command(epilog=EXIT_CODES_HELP + " tui exits 3 when textual is not installed.")
@click.argument("trace", type=click.Path(path_type=Path))
@click.option("--keys", "script", default=None, metavar="KEYS",
              help="Press these keys headless, then exit (one key a character; <enter>, <escape>, <tab>, <up>, "
                   "<down>, <lt> …).")
@click.option("--screenshot", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE.svg",
              callback=writable_destination, help="Headless: save the final screen as an SVG picture, then exit.")
@click.option("--size", default="80x24", show_default=True, callback=parse_size, metavar="COLUMNSxROWS",
              help="Screen size of a headless run (--keys, --screenshot).")
@distributed_version_option
@common_options
@click.pass_context
def tui(context: click.Context, /, trace: Path, script: str | None, screenshot: Path | None, size: tuple[int, int],
        distributed_version: str | None, **options: Any) -> None:  # fmt: skip
    """Walk through TRACE: every entry with its cause, findings, and every key's state at each step.

    Opens at the first error finding (else the first warning, else the first entry).
    Press ? for every key: j/k entries, n/N findings, c the cause, b back, g go to, / search.

    \b
    Examples:
      replay tui traces/2024.2.1/seed/dump.msgpack.gz
      replay tui traces/2024.2.1/seed/dump.msgpack.gz --keys c --screenshot cause.svg
    """
    try:
        from replay.tui.app import ReplayTui, parse_keys, play
    except ImportError as error:
        if (error.name or "").split(".")[0] != "textual":
            raise
        raise MissingExtraError(INSTALL_HINT) from None
    from replay.provenance import replay_trace
    from replay.render.theme import THEME
    from replay.tui.session import Session
    from replay.tui.text import Palette

    headless = script is not None or screenshot is not None
    try:
        keys = parse_keys(script or "")
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--keys") from None
    if not headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("replay tui needs a terminal (or --keys / --screenshot to run without one)")
    app = app_of(context, options)
    with app.progress(f"reading {trace.name}") as describe:
        loaded = read_input(app, trace)
        describe(f"replaying {trace.name}")
        result = replay_trace(loaded, distributed_version)
        describe("indexing")
        session = Session(result, loaded.graph)
    tui_app = ReplayTui(session, Palette(THEME.styles), screenshot=screenshot)
    with collector_running():
        if headless:
            play(tui_app, keys, size)
        else:
            tui_app.run()
    if tui_app.return_code:
        raise ReplayError("replay tui stopped on an unexpected error (shown above)")
    if headless:
        position = tui_app.position
        if position is not None:
            transition = session.steps[position].transition
            click.echo(f"entry {position}  {format_key(transition.key)} {transition.start} → {transition.finish}  "
                       f"{stimulus_name(transition.stimulus_id)}")  # fmt: skip


COMMANDS: list[click.Command] = [tui]
