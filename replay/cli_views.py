"""``replay story``, ``cascade``, ``timeline`` and ``stats``: the terminal views."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
