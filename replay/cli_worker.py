"""``replay worker``: each worker's state machine, re-executed or replayed from its log."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
