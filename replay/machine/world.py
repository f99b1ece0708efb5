"""What the rules read: each key's state, the task graph, each key's last step.

The replay writes it, entry by entry; rules only read it. Forgotten keys are kept in a
bounded window (:data:`MAX_FORGOTTEN`), so the memory of a long stream follows the live
keys, not its length.
"""

from __future__ import annotations

from collections import OrderedDict

from replay.events import Key, TaskGraph
from replay.machine.graph import Graph
from replay.machine.steps import Step
from replay.machine.tables import TABLES, TransitionTable, table_for
from replay.releases import Release, format_release

#: States in which a task is wanted and not done: it needs its dependencies.
ACTIVE = frozenset({"waiting", "queued", "processing", "no-worker"})
#: States in which a task runs or is about to: every dependency must be in memory.
NEEDS_MEMORY = frozenset({"processing", "queued", "no-worker"})
#: Dependency states a task can never get past.
BAD_DEPENDENCY = frozenset({"erred", "forgotten"})
#: Every pair any release ever had: the check when the release is unknown, so that
#: assuming a release never turns a clean trace red.
ANY_RELEASE_PAIRS = frozenset().union(*(table.pairs for table in TABLES))
#: Forgotten keys remembered for continuity and dependency checks, oldest dropped first.
MAX_FORGOTTEN = 200_000


class World:
    """The replayed state of every key the log has shown so far."""

    __slots__ = ("forgotten", "graph", "last_step", "legal_pairs", "received", "release", "states", "table")

    def __init__(self, release: Release | None, task_graph: TaskGraph | None) -> None:
        self.release = release
        self.table: TransitionTable | None = table_for(release) if release is not None else None
        self.legal_pairs = self.table.pairs if self.table is not None else ANY_RELEASE_PAIRS
        self.graph = Graph.from_task_graph(task_graph)
        self.states: dict[Key, str] = {}
        #: each key's latest step (dropped once the key is forgotten)
        self.last_step: dict[Key, Step] = {}
        #: the entry that last recommended something to each key
        self.received: dict[Key, int] = {}
        #: insertion-ordered, evicted oldest first in O(1) (a plain dict's ``next(iter())`` after
        #: many deletions from its front scans the holes: quadratic on long traces)
        self.forgotten: OrderedDict[Key, None] = OrderedDict()

    @property
    def release_name(self) -> str:
        """The release as people write it, or what is checked when it is unknown."""
        return format_release(self.release) if self.release is not None else "any release"

    def moved_after(self, key: Key, index: int) -> bool:
        """Whether ``key`` took a step after entry ``index`` (or was forgotten since)."""
        step = self.last_step.get(key)
        return step is None or step.index > index

    def forget(self, key: Key) -> None:
        """A forgotten key keeps its state and edges (for the checks), not its last entry.

        Dropping the last step frees the entry it holds (the bulk of a key's memory): the
        replay of a long stream is then bounded by the live keys plus a window of
        :data:`MAX_FORGOTTEN` cheap forgotten ones, not by the trace.
        """
        self.last_step.pop(key, None)
        self.received.pop(key, None)
        forgotten = self.forgotten
        forgotten[key] = None
        if len(forgotten) > MAX_FORGOTTEN:
            oldest, _ = forgotten.popitem(last=False)
            if self.states.get(oldest) == "forgotten":
                del self.states[oldest]
                self.graph.drop(oldest)
