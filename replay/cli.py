"""The ``replay`` command line: thin commands over the core, one place for exit codes.

Exit codes: 0 clean, 1 findings of severity error (for ``diff``: the runs diverge),
2 usage error, 3 unreadable or unsupported input.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click

from replay.cli_common import (
    EXIT_CLEAN,
    EXIT_CODES_HELP,
    EXIT_FINDINGS,
    EXIT_INPUT,
    EXIT_USAGE,
    App,
    app_of,
    checked_release,
    collector_paused,
    common_options,
    distributed_version_option,
    read_input,
    resolve_key,
    show,
    view_options,
)
from replay.errors import ReplayError
from replay.ingest import open_trace
from replay.ingest.native import write_trace
from replay.machine import RULES, TABLES, Rule
from replay.machine.rules import releases_text
from replay.provenance import ReplayResult, replay_trace

if TYPE_CHECKING:
    from replay.events import Trace
    from replay.worker.findings import WorkerFinding
from replay.summary import summarise


class LazyGroup(click.Group):
    """Commands of the view and diff modules, imported when named: ``run`` need not load them."""

    lazy: ClassVar[dict[str, str]] = {"story": "replay.cli_views", "cascade": "replay.cli_views", "timeline": "replay.cli_views",
            "stats": "replay.cli_views", "diff": "replay.cli_diff", "worker": "replay.cli_worker",
            "reconcile": "replay.cli_reconcile", "slice": "replay.cli_slice", "report": "replay.cli_slice",
            "tui": "replay.cli_tui", "scan": "replay.cli_scan"}  # fmt: skip

    def list_commands(self, context: click.Context) -> list[str]:
        return sorted({*super().list_commands(context), *self.lazy})

    def get_command(self, context: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            for command in importlib.import_module(self.lazy[name]).COMMANDS:
                self.add_command(command)
        return super().get_command(context, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="dask-replay")
def cli() -> None:
    """Replay Dask scheduler transition logs and name the recommendation that broke them."""


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("trace", type=click.Path(path_type=Path))
@common_options
@click.pass_context
def info(context: click.Context, /, trace: Path, **options: Any) -> None:
    """What TRACE is: format, release, counts, time span, graph.

    \b
    Example:
      replay info traces/2024.2.1/seed/dump.yaml
    """
    from replay.ingest import open_trace_counting_workers

    app = app_of(context, options)
    # Worker records are counted as they are read, never built: about what `run` costs to read.
    loaded, workers = open_trace_counting_workers(trace, app.limits)
    summary = summarise(loaded, workers)
    metadata = loaded.metadata
    span = summary.span_seconds
    graph = f"{len(loaded.graph.tasks)} tasks from the dump's task table" if loaded.graph else "none (inferred when replayed)"
    rows = [
        ("path", metadata.path),
        ("format", metadata.format),
        ("distributed", metadata.distributed_version or "unknown"),
        ("entry fields", str(metadata.entry_fields or "-")),
        ("entries", str(summary.entries)),
        ("keys", str(len(summary.keys))),
        ("stimuli", str(len(summary.stimuli))),
        ("workers", str(len(metadata.worker_addresses))),
        ("worker records", f"{summary.worker_records} ({summary.unrecognised_records} unrecognised)"),
        ("time span", "-" if span is None else f"{span:.3f} s"),
        ("transition counter", "-" if metadata.transition_counter is None else str(metadata.transition_counter)),
        ("graph", graph),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name:<{width}}  {value}")
    for note in loaded.notes:
        click.echo(f"{'note':<{width}}  {note}")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("trace", type=click.Path(path_type=Path))
@click.option("--to", "kind", type=click.Choice(["jsonl", "json", "msgpack"]), required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here (default: standard output).")
@common_options
@click.pass_context
def convert(context: click.Context, /, trace: Path, kind: str, output: Path | None, **options: Any) -> None:
    """Export TRACE in replay's normalised, lossless format (readable by every command).

    \b
    Example:
      replay convert traces/2024.2.1/seed/dump.msgpack.gz --to jsonl -o seed.jsonl
    """
    from replay.cli_common import writable_destination

    app = app_of(context, options)
    to_stdout = output is None or str(output) == "-"
    if to_stdout and kind == "msgpack" and sys.stdout.isatty():
        raise click.UsageError("msgpack is binary: use --output FILE or redirect standard output")
    if output is not None and not to_stdout:
        writable_destination(context, None, output)  # before reading: a missing directory is one line, exit 3
    loaded = open_trace(trace, app.limits, worker_logs=True)
    if output is None or to_stdout:
        write_trace(loaded, kind, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    # Written beside the destination, then renamed: a failure leaves no half file behind.
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as stream:
            count = write_trace(loaded, kind, stream, can_seek=True)
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(f"wrote {count} transitions to {output}", err=True)
    if kind == "json" and output.stat().st_size > app.limits.max_text_bytes:
        click.echo(f"note: {output} is larger than the text limit: reading it back takes --max-text-bytes "
                   f"{output.stat().st_size} (--to jsonl or msgpack are streamed)", err=True)  # fmt: skip


def result_json(result: ReplayResult) -> dict[str, Any]:
    """The documented ``replay run --json`` document (README, "What it finds")."""
    return {
        "source": result.source_json(),
        "findings": [finding.to_json() for finding in result.findings],
        "summary": {"errors": result.errors, "warnings": result.warnings},
    }


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("trace", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON document (see the README).")
@click.option("--key", "keys", multiple=True, help="Only findings about this key (repeatable).")
@click.option("--workers", "with_workers", is_flag=True,
              help="Also check each worker of a dump: the model replay of its log, and the scheduler's view "
                   "against it (replay reconcile); reads the workers' logs, which costs time on a large dump.")
@click.option("--follow", is_flag=True,
              help="TRACE is a live recording (replay.record): print each finding as soon as its cascade "
                   "settles; Ctrl-C stops with the summary (with --json: one finding a line, then the summary).")
@distributed_version_option
@common_options
@view_options
@click.pass_context
def run(context: click.Context, /, trace: Path, as_json: bool, keys: tuple[str, ...], with_workers: bool,
        follow: bool, distributed_version: str | None, **options: Any) -> None:  # fmt: skip
    """Replay TRACE and report every invalid state with the recommendation that caused it.

    TRACE is a cluster dump, a bare transition log, a story (also pasted from a CI log),
    replay's own export, or a recording directory (replay.record); - reads standard input.

    \b
    Examples:
      replay run traces/2024.2.1/seed/dump.msgpack.gz
      replay run transition_log.msgpack --distributed-version 2024.2.1 --json
      replay run dump.yaml --key "('x', 0)"
      replay run recording/ --follow
      replay run dump.msgpack.gz --workers
    """
    app = app_of(context, options)
    if follow:
        from replay.cli_follow import follow_recording

        context.exit(follow_recording(app, trace, as_json=as_json, keys=keys, distributed_version=distributed_version,
                                      options=options))  # fmt: skip
    loaded = read_input(app, trace, worker_logs=with_workers)
    result = replay_trace(loaded, distributed_version, keep_steps=not as_json or with_workers)
    worker_findings = machine_findings(loaded, result) if with_workers else None
    if keys:
        known = set(result.final_states) | {f.key for f in result.findings if f.key is not None}
        wanted = {resolve_key(text, known) for text in keys}
        result = result.only(f for f in result.findings if f.key in wanted)
        if worker_findings is not None:
            worker_findings = [f for f in worker_findings if f.key in wanted]
    if as_json:
        document = result_json(result)
        if worker_findings is not None:
            document["workers"] = [finding.to_json() for finding in worker_findings]
            document["summary"]["errors"] += sum(1 for f in worker_findings if f.severity == "error")
            document["summary"]["warnings"] += sum(1 for f in worker_findings if f.severity == "warning")
        click.echo(json.dumps(document))
    else:
        from rich.console import Group

        from replay.render.report import RunReport
        from replay.render.worker import MachineFindingsView

        report: Any = RunReport(result)
        if worker_findings is not None:
            names = {dump.address: dump.name for dump in loaded.workers}
            report = Group(report, MachineFindingsView(worker_findings, names))
        show(app, report, options, f"replay run {trace}")
    worker_errors = any(f.severity == "error" for f in worker_findings or ())
    context.exit(EXIT_FINDINGS if result.errors or worker_errors else EXIT_CLEAN)


def machine_findings(trace: Trace, result: ReplayResult) -> list[WorkerFinding]:
    """``run --workers``: each worker's model replay, and for a dump its reconciliation with the scheduler."""
    from replay.worker.model import model_findings
    from replay.worker.reconcile import reconcile

    findings = model_findings(trace)
    if trace.graph is not None and trace.graph.source == "dump" and trace.metadata.format.startswith("dump-"):
        findings.extend(reconcile(trace, result).findings)
    return findings


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def rules(as_json: bool) -> None:
    """List the rules replay checks: when, for which releases, and which scheduler assertion checks the same.

    \b
    Example:
      replay rules
      replay rules --json
    """
    catalogue = rule_catalogue()
    if as_json:
        click.echo(json.dumps([rule_json(rule, machine) for machine, rule in catalogue]))
        return
    width = shutil.get_terminal_size((100, 24)).columns
    width = max(40, width)
    wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="    ")
    for machine, rule in catalogue:
        head = f"{rule.name}  {rule.severity} · {machine} · {rule.releases} · checked {rule.when}"
        click.echo(textwrap.fill(head, width=width, subsequent_indent="    "))
        click.echo(wrap.fill(rule.description))
        for assertion in rule.assertions:
            where = releases_text(assertion.since, assertion.until)
            click.echo(wrap.fill(f"validate mode, {where}: {assertion.text()}"))


def rule_catalogue() -> list[tuple[str, Rule]]:
    """Every rule with the machine it is about: the scheduler's replay, each worker's, the cluster's."""
    from replay.worker import model, reconcile, reexecute

    return [
        *(("scheduler", rule) for rule in RULES.values()),
        *(("worker", rule) for rule in (*model.RULES, *reexecute.RULES)),
        *(("cluster", rule) for rule in reconcile.RULES),
    ]


def rule_json(rule: Rule, machine: str) -> dict[str, Any]:
    """One rule of the catalogue as JSON."""
    return {
        "name": rule.name,
        "machine": machine,
        "severity": rule.severity,
        "description": rule.description,
        "checked": rule.when,
        "releases": rule.releases,
        "assertions": [
            {"releases": releases_text(a.since, a.until), "where": a.where, "code": a.code,
             "at_cascade_end": a.at_cascade_end}
            for a in rule.assertions
        ],
    }  # fmt: skip


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--distributed-version", default=None, metavar="VERSION", callback=checked_release,
              help="Show only the table of this release.")  # fmt: skip
def table(distributed_version: str | None) -> None:
    """Show the scheduler's transition table of each release range.

    \b
    Example:
      replay table --distributed-version 2024.2.1
    """
    from replay.machine import table_for
    from replay.releases import parse_release

    chosen = [table_for(parse_release(distributed_version))] if distributed_version else list(TABLES)
    width = max(40, shutil.get_terminal_size((100, 24)).columns)
    for entry in chosen:
        head = f"{entry.label}: {len(entry.pairs)} pairs — {entry.notes}"
        click.echo(textwrap.fill(head, width=width, subsequent_indent="    "))
        starts: dict[str, list[str]] = {}
        for start, finish in sorted(entry.pairs):
            starts.setdefault(start, []).append(finish)
        for start, finishes in starts.items():
            click.echo(f"  {start:<10} -> {', '.join(finishes)}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the group and maps every error to its exit code and one line."""
    code = _exit_code(argv)
    if argv is None:  # the console script: this process ends here
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, OSError):
            code = EXIT_USAGE if code == EXIT_CLEAN else code
        # Skip the interpreter's teardown: freeing a large trace's records one by one
        # takes a tenth of a second, and nothing is left to write.
        os._exit(code)
    sys.exit(code)


def _exit_code(argv: list[str] | None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:]) or bool(os.environ.get("REPLAY_DEBUG"))
    try:
        with collector_paused():
            code = cli.main(args=argv, prog_name="replay", standalone_mode=False)
    except ReplayError as error:
        _report(f"replay: error: {error}", debug)
        return error.exit_code
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as error:
        error.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("replay: aborted", err=True)
        return EXIT_USAGE
    except (BrokenPipeError, KeyboardInterrupt):
        return EXIT_USAGE
    except MemoryError:
        click.echo("replay: error: out of memory reading the input (lower the limits)", err=True)
        return EXIT_INPUT
    except Exception as error:  # noqa: BLE001 - the promise is one line, never a traceback
        _report(f"replay: error: unexpected {type(error).__name__}: {error} (rerun with --debug)", debug)
        return EXIT_INPUT
    return code if isinstance(code, int) else EXIT_CLEAN


def _report(line: str, debug: bool) -> None:
    """The one error line on standard error; with --debug, the traceback before it."""
    if debug:
        import traceback

        traceback.print_exc()
    click.echo(line, err=True)


__all__ = ["App", "cli", "main"]
