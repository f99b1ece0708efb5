"""``replay slice`` and ``replay report``: cut a trace down to a finding, write the bug report."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from replay.cli_common import (
    EXIT_CODES_HELP,
    App,
    app_of,
    checked_release,
    common_options,
    distributed_version_option,
    known_keys,
    read_input,
    resolve_key,
    writable_destination,
)
from replay.errors import UsageError
from replay.events import Key, Trace
from replay.provenance import replay_trace
from replay.slice import KINDS, Slice, slice_trace, write_slice

#: The end of both commands' ``--help``.
SLICE_EXIT_CODES = (
    EXIT_CODES_HELP + " slice and report exit 0 once written, 2 when there is no such finding, and 3, "
    "writing nothing, when the slice does not reproduce the finding."
)


def finding_options(function: Any) -> Any:
    """``--finding N`` and ``--key KEY``: which finding (default: the first error finding)."""
    function = click.option("--key", "key_text", default=None, metavar="KEY",
                            help="The first error finding on KEY (else its first finding).")(function)  # fmt: skip
    return click.option("--finding", "number", type=click.IntRange(min=0), default=None, metavar="N",
                        help="The finding at position N of replay run --json's findings, from 0.")(function)  # fmt: skip


def sliced(
    app: App, trace: Path, number: int | None, key_text: str | None, distributed_version: str | None
) -> tuple[Slice, Trace]:
    """Read, replay and slice ``trace`` (with a progress bar on a terminal); the slice and the trace as read."""
    if number is not None and key_text is not None:
        raise UsageError("give --finding N or --key KEY, not both")
    with app.progress(f"reading {trace.name}") as describe:
        loaded = read_input(app, trace)
        loaded = replace(loaded, transitions=loaded.materialise())
        describe(f"replaying {trace.name}")
        result = replay_trace(loaded, distributed_version)
        key: Key | None = None
        if key_text is not None:
            key = resolve_key(key_text, known_keys(result))
        describe(f"slicing {trace.name}")
        return slice_trace(loaded, number=number, key=key, distributed_version=distributed_version, result=result), loaded


def kind_of(output: Path, kind: str | None) -> str:
    """The format to write: ``--to``, else the output's suffix (``.msgpack``, ``.json``), else JSON Lines."""
    if kind is not None:
        return kind
    suffix = output.suffix.lower()
    if suffix in (".msgpack", ".mpk"):
        return "msgpack"
    if suffix == ".json":
        return "json"
    return "jsonl"


@click.command("slice", epilog=SLICE_EXIT_CODES)
@click.argument("trace", type=click.Path(path_type=Path))
@finding_options
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, metavar="FILE",
              callback=writable_destination, help="Write the slice here (- for standard output).")  # fmt: skip
@click.option("--to", "kind", type=click.Choice(KINDS), default=None,
              help="Format of replay's own export (default: from FILE's suffix; .msgpack, .json, else jsonl).")
@distributed_version_option
@common_options
@click.pass_context
def slice_command(context: click.Context, /, trace: Path, number: int | None, key_text: str | None, output: Path,
                  kind: str | None, distributed_version: str | None, **options: Any) -> None:  # fmt: skip
    """Write the smallest sub-trace found that still reproduces one finding of TRACE.

    The finding is the first error finding, or the one --finding N or --key KEY names. The
    slice keeps the finding's cause chain and what the rules need, then shrinks by delta
    debugging over keys and stimuli, replaying each candidate (docs/slice.md). It is written
    in replay's own format, readable by every command, with a "slice" header field saying
    what was kept and why, and only after it was read back and replayed: the same finding
    (rule, key, entry, culprit) must come out.

    \b
    Examples:
      replay slice traces/2024.2.1/seed/dump.msgpack.gz -o seed-slice.jsonl
      replay slice transition_log.msgpack --distributed-version 2024.2.1 --finding 1 -o slice.msgpack
      replay slice dump.yaml --key "('x', 0)" -o slice.jsonl
    """
    app = app_of(context, options)
    chosen = kind_of(output, kind)
    to_stdout = str(output) == "-"
    if to_stdout and chosen == "msgpack" and sys.stdout.isatty():
        raise click.UsageError("msgpack is binary: use -o FILE or redirect standard output")
    result, _ = sliced(app, trace, number, key_text, distributed_version)
    if to_stdout:
        write_slice(result, chosen, sys.stdout.buffer, app.limits)
        sys.stdout.buffer.flush()
    else:
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb") as stream:
                write_slice(result, chosen, stream, app.limits)
            partial.replace(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    click.echo(f"{result.summary()}; wrote {'standard output' if to_stdout else output}", err=True)


@click.command(epilog=SLICE_EXIT_CODES)
@click.argument("trace", type=click.Path(path_type=Path))
@finding_options
@click.option("--fixed", type=click.Path(path_type=Path), default=None, metavar="TRACE2",
              help="A capture of the same scenario on a fixed release: the report shows replay diff against it.")
@click.option("--fixed-version", default=None, metavar="VERSION", callback=checked_release,
              help="Release TRACE2 came from (bare logs carry none).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              callback=writable_destination, help="Write the Markdown here (default: standard output).")  # fmt: skip
@distributed_version_option
@common_options
@click.pass_context
def report(context: click.Context, /, trace: Path, number: int | None, key_text: str | None, fixed: Path | None,
           fixed_version: str | None, output: Path | None, distributed_version: str | None, **options: Any) -> None:  # fmt: skip
    """Write a Markdown issue body for dask's tracker about one finding of TRACE.

    It holds the versions (from a dump), the finding in one sentence, the sliced story as a
    table, the cascade with the culprit marked, the diff against --fixed TRACE2 when given,
    and the commands that reproduce the analysis.

    \b
    Examples:
      replay report traces/2024.2.1/seed/dump.msgpack.gz --fixed traces/2024.3.0/seed/dump.msgpack.gz
      replay report transition_log.msgpack --distributed-version 2024.2.1 -o report.md
    """
    from replay.diff import diff_traces
    from replay.render.markdown import ReportInputs, issue_body
    from replay.slice import versions_of

    app = app_of(context, options)
    result, loaded = sliced(app, trace, number, key_text, distributed_version)
    difference = None
    if fixed is not None:
        difference = diff_traces(loaded, read_input(app, fixed), a_version=distributed_version, b_version=fixed_version)
    versions = versions_of(trace, app.limits) if str(trace) != "-" else None
    inputs = ReportInputs(
        trace_path=str(trace),
        sliced=result,
        versions=versions,
        distributed_version=distributed_version,
        fixed_path=None if fixed is None else str(fixed),
        fixed_version=fixed_version,
        diff=difference,
    )
    text = issue_body(inputs)
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{result.summary()}; wrote the report to {output}", err=True)


COMMANDS: list[click.Command] = [slice_command, report]
