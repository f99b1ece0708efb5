"""``replay tui``: walk through a trace in the terminal."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
