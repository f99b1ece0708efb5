"""``replay slice`` and ``replay report``: cut a trace down to a finding, write the bug report."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
