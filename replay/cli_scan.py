"""``replay scan``: triage many traces at once."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from replay.cli_common import App, app_of, common_options, distributed_version_option, show, view_options

#: The end of ``replay scan --help``.
SCAN_EXIT_CODES = (
    "Exit codes: 0 no trace has an error finding, 1 at least one has, 2 usage error (or no scheduler at "
    "ADDRESS), 3 nothing at all could be read. A trace that cannot be read is a row with the reason "
    "replay run would give, never the end of the scan."
)


@click.command(epilog=SCAN_EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document: every file, every group, a summary.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print Markdown, for a CI job summary.")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Local processes to replay in (default: one per core).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Replay on this Dask cluster instead (needs distributed; local files are sent, URLs "
                   "read where the worker runs).")
@distributed_version_option
@common_options
@view_options
@click.pass_context
def scan(context: click.Context, /, paths: tuple[str, ...], as_json: bool, as_markdown: bool, workers: int | None,
         scheduler: str | None, distributed_version: str | None, **options: Any) -> None:  # fmt: skip
    """Replay every trace under PATH... and group their findings by signature.

    PATH is a trace file, a directory (walked; hidden files skipped), a glob, or a URL
    (s3://, gs://, http(s)://, any fsspec protocol, when fsspec is installed); - reads
    standard input. Each trace is replayed as `replay run` replays it. Findings blamed on
    one recommendation make one problem; problems with the same rule, the same transition
    pattern around the culprit (keys and ids normalised as `replay diff` does) make one
    group, with its traces, their releases, the smallest trace that shows it and the
    `replay run` command to look at it.

    \b
    Examples:
      replay scan traces/
      replay scan 'artefacts/**/dump.msgpack.gz' --markdown >> "$GITHUB_STEP_SUMMARY"
      replay scan s3://bucket/ci-dumps/ --json --workers 4
      replay scan dumps/ --scheduler tcp://10.0.0.5:8786
    """
    from replay.scan import ScanRun, ScanSettings, expand, report, scan_sources

    if as_json and as_markdown:
        raise click.UsageError("--json and --markdown: choose one")
    if workers is not None and scheduler is not None:
        raise click.UsageError("--workers is for local processes; a cluster (--scheduler) has its own")
    app = app_of(context, options)
    sources = expand(paths)
    settings = ScanSettings.of(app.limits, distributed_version)
    with _progress(app, len(sources)) as advance:
        rows = scan_sources(sources, settings, ScanRun(workers=workers, scheduler=scheduler, on_done=advance))
    result = report(rows, distributed_version)
    if as_json:
        click.echo(json.dumps(result.to_json()))
    elif as_markdown:
        from replay.render.scan import markdown

        click.echo(markdown(result), nl=False)
    else:
        from replay.render.scan import ScanView

        show(app, ScanView(result), options, "replay scan")
    context.exit(result.exit_code)


def _progress(app: App, total: int) -> Any:
    """The progress bar on standard error when it is a terminal (and nothing when it is not)."""
    import contextlib

    if app.console is not None or not sys.stderr.isatty() or total < 2 or os.environ.get("REPLAY_NO_PROGRESS"):
        return contextlib.nullcontext(lambda _row: None)
    from rich.console import Console

    from replay.render.scan import scan_progress
    from replay.render.theme import THEME

    return scan_progress(total, Console(stderr=True, theme=THEME))


COMMANDS: list[click.Command] = [scan]
