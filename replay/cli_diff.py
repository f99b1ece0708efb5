"""``replay diff``: where two runs of the same scenario part ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from replay.cli_common import (
    EXIT_CLEAN,
    EXIT_CODES_HELP,
    EXIT_FINDINGS,
    app_of,
    checked_release,
    common_options,
    read_input,
    show,
    view_options,
)
from replay.diff import diff_traces, summary_line
from replay.render.diff import DiffView


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the diff as one JSON document (see the README).")
@click.option("--summary", "summary_only", is_flag=True, help="Print only the one-line summary.")
@click.option(
    "--strict",
    is_flag=True,
    help="Count a different scheduling order as a divergence even when every key's states agree.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Most side-by-side rows to show.",
)
@click.option(
    "--a-version",
    default=None,
    metavar="VERSION",
    callback=checked_release,
    help="Release A came from (bare logs carry none).",
)
@click.option(
    "--b-version",
    default=None,
    metavar="VERSION",
    callback=checked_release,
    help="Release B came from (bare logs carry none).",
)
@common_options
@view_options
@click.pass_context
def diff(
    context: click.Context,
    /,
    *,
    a: Path,
    b: Path,
    as_json: bool,
    summary_only: bool,
    strict: bool,
    limit: int,
    a_version: str | None,
    b_version: str | None,
    **options: Any,
) -> None:
    """Align runs A and B of one scenario and show where they part ways.

    Timestamps, numbers and uuids in stimulus ids, worker addresses and key tokens
    are normalised first. Exit 0 when the runs are equivalent, 1 when they diverge.

    \b
    Examples:
      replay diff traces/2024.2.1/seed/dump.msgpack.gz traces/2024.3.0/seed/dump.msgpack.gz
      replay diff buggy.msgpack fixed.msgpack --a-version 2024.2.1 --b-version 2024.3.0 --json
    """
    app = app_of(context, options)
    result = diff_traces(
        read_input(app, a),
        read_input(app, b),
        a_version=a_version,
        b_version=b_version,
        strict=strict,
    )
    if as_json:
        click.echo(json.dumps(result.to_json()))
    elif summary_only:
        click.echo(summary_line(result))
    else:
        show(app, DiffView(result, limit=limit), options, f"replay diff {a} {b}")
    context.exit(EXIT_CLEAN if result.equivalent else EXIT_FINDINGS)


COMMANDS: list[click.Command] = [diff]
