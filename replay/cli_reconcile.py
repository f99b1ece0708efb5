"""``replay reconcile``: the scheduler's view of each key against each worker's."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
