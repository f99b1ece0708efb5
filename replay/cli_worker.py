"""``replay worker``: each worker's stimulus log re-executed through a real WorkerState."""

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
    common_options,
    not_found,
    read_input,
    show,
    view_options,
)
from replay.errors import ReplayError, UnreadableInputError, UsageError
from replay.worker.reexecute import (
    DEFAULT_TIMEOUT,
    ReexecutionError,
    WorkersResult,
    check_workers,
    choose,
)

#: Findings that mean a worker with stimuli was not re-executed.
NOT_REEXECUTED = frozenset({"reexecution-unavailable", "stimulus-log-incomplete", "reexecution-failed"})


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("dump", type=click.Path(path_type=Path))
@click.option("--worker", "worker", default=None, metavar="ADDR", help="Only this worker (its address or its name).")
@click.option(
    "--python",
    "python",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    metavar="PATH",
    help="Re-execute with this interpreter (an environment with distributed); with "
    "another release than the dump's, show where the two releases' logs part ways.",
)
@click.option(
    "--reexecute",
    "required",
    is_flag=True,
    help="Fail (exit 3) when a worker cannot be re-executed, instead of saying so.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Longest run of one worker in another interpreter.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document (see docs/worker.md).")
@common_options
@view_options
@click.pass_context
def worker(context: click.Context, /, dump: Path, worker: str | None, python: Path | None, required: bool,
           timeout: float, as_json: bool, **options: Any) -> None:  # fmt: skip
    """Re-execute each worker's stimulus log through a fresh WorkerState with validate on.

    Each event of a worker's stimulus log is rebuilt and fed to a WorkerState of the dump's
    own release (this process's distributed when it is that release, else --python); the
    first exception, the checks replay adds, and the first stimulus whose log entries differ
    from the recorded ones are reported. With --python of ANOTHER release, the recorded
    stimuli go through that release instead (a buggy dump through the fixed release shows
    what the fix changes). Exit 1 on error findings.

    \b
    Examples:
      replay worker traces/2022.8.1/wbug-6916/dump.msgpack.gz --python /venvs/d2022.8.1/bin/python
      replay worker dump.msgpack.gz --worker tcp://127.0.0.1:35471 --json
      replay worker buggy.msgpack.gz --python /venvs/fixed/bin/python
    """
    app = app_of(context, options)
    trace = read_input(app, dump, worker_logs=True)
    metadata = trace.metadata
    if not metadata.format.startswith("dump"):
        raise UnreadableInputError(metadata.path, f"{metadata.format} holds no worker: replay worker reads a cluster "
                                   "dump (Client.dump_cluster_state)")  # fmt: skip
    if worker is not None and not any(worker in (each.address, each.name) for each in trace.workers):
        names = [each.address for each in trace.workers] + [each.name for each in trace.workers if each.name]
        raise not_found("worker", worker, names)
    try:
        choice = choose(metadata.distributed_version, None if python is None else str(python), timeout)
    except ReexecutionError as error:
        raise UsageError(f"--python {python}: {error}") from None
    result = check_workers(trace, worker=worker, timeout=timeout, choice=choice)
    if required:
        refuse_unexecuted(result)
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        from replay.render.worker import WorkersView

        show(app, WorkersView(result), options, f"replay worker {dump}")
    context.exit(EXIT_FINDINGS if result.errors else EXIT_CLEAN)


def refuse_unexecuted(result: WorkersResult) -> None:
    """``--reexecute``: a worker that had stimuli and was not re-executed is an error (exit 3)."""
    for report in result.workers:
        reasons = [finding.message for finding in report.findings if finding.rule in NOT_REEXECUTED]
        if not report.reexecuted and reasons:
            raise ReplayError(f"{result.source['path']}: worker {report.address}: cannot re-execute: "
                              f"{reasons[0].removeprefix('not re-executed: ')}")  # fmt: skip


COMMANDS: list[click.Command] = [worker]
