"""``replay reconcile``: the scheduler's view of each key against each worker's."""

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
from replay.events import Trace
from replay.provenance import replay_trace
from replay.worker.reconcile import reconcile as reconcile_trace
from replay.worker.reconcile import workers_of


def resolve_worker(text: str, trace: Trace) -> str:
    """The address of the worker ``text`` names (its address or its name), or a one-line usage error."""
    named = workers_of(trace)
    if text in named:
        return text
    by_name = [address for address, name in named.items() if name == text]
    if len(by_name) == 1:
        return by_name[0]
    names = [*named, *(name for name in named.values() if name is not None)]
    raise not_found("worker", text, names)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("dump", type=click.Path(path_type=Path))
@click.option(
    "--worker", "worker", default=None, metavar="ADDR", help="Compare only this worker (its address or its name)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON document.")
@common_options
@view_options
@click.pass_context
def reconcile(context: click.Context, /, dump: Path, worker: str | None, as_json: bool, **options: Any) -> None:  # fmt: skip
    """Compare the scheduler's view of each key in DUMP with each worker's.

    DUMP is a cluster dump (msgpack or YAML); - reads standard input. Each mismatch
    between the scheduler's task table and a worker's (a task processing on a worker that
    will never report it, a replica the worker does not hold, data the scheduler does not
    know of, a task in memory with no holder, a worker missing from the dump, a task stuck
    on an idle worker) is a finding, with both sides' last entries and stimuli. A mismatch
    that a message still on its way when the dump was taken would explain is a warning.

    \b
    Examples:
      replay reconcile traces/2022.6.1/wbug-6673/dump.msgpack.gz
      replay reconcile traces/2022.8.0/wbug-6914/dump.yaml --worker a
      replay reconcile dump.msgpack.gz --json
    """
    app = app_of(context, options)
    with app.progress(f"reading {dump.name}") as describe:
        loaded = read_input(app, dump, worker_logs=True)
        describe(f"replaying {dump.name}")
        result = replay_trace(loaded)
    address = None if worker is None else resolve_worker(worker, loaded)
    outcome = reconcile_trace(loaded, result, worker=address)
    if as_json:
        click.echo(json.dumps(outcome.to_json()))
    else:
        from replay.render.reconcile import ReconcileReport

        show(app, ReconcileReport(outcome), options, f"replay reconcile {dump}")
    context.exit(EXIT_FINDINGS if outcome.errors else EXIT_CLEAN)


COMMANDS: list[click.Command] = [reconcile]
