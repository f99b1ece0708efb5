"""``replay diff``: where two runs of the same scenario part ways."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
