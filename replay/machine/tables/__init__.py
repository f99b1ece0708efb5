"""The scheduler's transition table for each release range, as data.

Each module holds one range: ``SINCE`` (first release) and ``PAIRS``. The same data
drives the legality check and the ``replay table`` view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Protocol

from replay.machine.tables import r2021_01, r2021_06, r2021_08, r2022_09, r2022_11, r2024_08, r2025_05
from replay.releases import Release, format_release

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class TransitionTable:
    """The pairs of one release range, and what that range is called."""

    since: Release
    until: Release | None
    pairs: frozenset[Pair]
    notes: str

    @property
    def label(self) -> str:
        end = f" - before {format_release(self.until)}" if self.until else " and later"
        return f"{format_release(self.since)}{end}"


class TableModule(Protocol):
    """A module of one release range: its first release and its pairs; its docstring's first line names it."""

    @property
    def SINCE(self) -> Release: ...  # noqa: N802 - the module's constant

    @property
    def PAIRS(self) -> AbstractSet[Pair]: ...  # noqa: N802 - the module's constant


def build_tables(modules: Sequence[TableModule]) -> tuple[TransitionTable, ...]:
    """The tables of consecutive release ranges, each ending where the next one starts."""
    tables = []
    for position, module in enumerate(modules):
        until = modules[position + 1].SINCE if position + 1 < len(modules) else None
        notes = _plain_first_line(getattr(module, "__doc__", None))
        tables.append(TransitionTable(module.SINCE, until, frozenset(module.PAIRS), notes))
    return tuple(tables)


def table_of(tables: Sequence[TransitionTable], release: Release) -> TransitionTable:
    """The table whose range holds ``release`` (the first one for an older release)."""
    chosen = tables[0]
    for table in tables:
        if release >= table.since:
            chosen = table
    return chosen


def _plain_first_line(docstring: str | None) -> str:
    """A module docstring's first line as plain words: without its release range or RST markup."""
    line = docstring.strip().splitlines()[0] if docstring and docstring.strip() else ""
    if line[:1].isdigit() and ": " in line:
        line = line.split(": ", 1)[1]  # the range is the table's label already
    return re.sub(r"``(.*?)``", r"\1", line)


TABLES = build_tables((r2021_01, r2021_06, r2021_08, r2022_09, r2022_11, r2024_08, r2025_05))
NEWEST = TABLES[-1]


def table_for(release: Release | None) -> TransitionTable:
    """The table of ``release``; the newest when the release is unknown."""
    return NEWEST if release is None else table_of(TABLES, release)
