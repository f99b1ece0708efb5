"""The worker's transition table for each release range, as data, and how its log is written.

Each module holds one range: ``SINCE`` (its first release) and ``PAIRS``, the
``(start, requested)`` pairs of ``Worker._transitions_table`` (2021.10.0 - 2022.6.0) or
``WorkerState._TRANSITIONS_TABLE`` (2022.6.1 on), read tag by tag from dask/distributed.
Worker logs before 2021.10.0 have other shapes and no such table: they are out of scope.

How a logged transition reads, by release (facts of ``_transition``, not of the table):

* an entry is ``(key, start, requested, finish, recommendations, stimulus_id, timestamp)``
  from 2021.11.2 (03647c7d9, #5525); before, ``(key, start, finish, recommendations,
  stimulus_id, timestamp)``, without the requested state;
* ``finish`` is where the task went, which may differ from ``requested``
  (``executing->released`` finishes ``cancelled``);
* a pair not in the table and without ``released`` is a *two-step*: the worker first
  runs ``start->released`` (logged), then from 2022.05.1 (70e5c9081, #6248) pops its own
  recommendations for the task and applies each (logged), then runs the requested step
  (logged; before 2022.05.1 it ran only the first step's own recommendation for the task,
  or the request); last it logs an *outer* entry ``(key, start, requested, final state,
  merged recommendations)`` that is not a transition of its own;
* ``transition_counter`` counts every call that logs an entry, outer ones included, from
  2022.05.1 (d0fbba647, #6318), and is raised before the transition runs: a transition
  that raised counts and is never logged. Before, only table steps counted.
"""

from __future__ import annotations

from replay.machine.tables import TransitionTable, build_tables, table_of
from replay.releases import Release
from replay.worker.tables import (
    r2021_10_0,
    r2022_02_0,
    r2022_04_1,
    r2022_05_1,
    r2022_06_0,
    r2022_07_0,
    r2022_07_1,
    r2022_08_1,
    r2022_09_0,
    r2023_01_1,
)

Pair = tuple[str, str]

#: The first release whose worker log the model reads (the first worker transition table).
MODELLED_SINCE: Release = (2021, 10, 0)
#: Entries carry the requested state (7 fields) from this release (03647c7d9, #5525).
REQUESTED_LOGGED_SINCE: Release = (2021, 11, 2)
#: A two-step pops and applies the first step's own recommendations for the task (70e5c9081, #6248).
OWN_RECOMMENDATIONS_POPPED_SINCE: Release = (2022, 5, 1)
#: ``transition_counter`` counts every logged call, outer entries included (d0fbba647, #6318).
EVERY_CALL_COUNTED_SINCE: Release = (2022, 5, 1)
#: The log's length is ``distributed.admin.low-level-log-length`` (default 1000) from here
#: (ccb2012c7, #8173); before, the log held 100,000 entries and the stimulus log 10,000.
LOG_LENGTH_CONFIGURED_SINCE: Release = (2023, 9, 3)
DEFAULT_CONFIGURED_LOG_LENGTH = 1000
OLD_LOG_LENGTH = 100_000


TABLES = build_tables((
    r2021_10_0, r2022_02_0, r2022_04_1, r2022_05_1, r2022_06_0, r2022_07_0, r2022_07_1, r2022_08_1,
    r2022_09_0, r2023_01_1,
))  # fmt: skip
NEWEST = TABLES[-1]
#: Every pair of any release: what a log of an unknown release is checked against.
ANY_RELEASE_PAIRS: frozenset[Pair] = frozenset().union(*(table.pairs for table in TABLES))
#: Every task state of the worker in the releases modelled.
WORKER_STATES: frozenset[str] = frozenset(state for pair in ANY_RELEASE_PAIRS for state in pair)


def table_for(release: Release | None) -> TransitionTable | None:
    """The table of ``release``; None for an unknown release or one before :data:`MODELLED_SINCE`."""
    if release is None or release < MODELLED_SINCE:
        return None
    return table_of(TABLES, release)


def log_length_of(release: Release | None, configured: int | None) -> int | None:
    """How many entries the worker's log holds at most (None: unknown)."""
    if configured is not None:
        return configured
    if release is None:
        return None
    return DEFAULT_CONFIGURED_LOG_LENGTH if release >= LOG_LENGTH_CONFIGURED_SINCE else OLD_LOG_LENGTH
