"""``replay scan``: triage many traces at once."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
