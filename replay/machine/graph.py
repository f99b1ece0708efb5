"""The task graph as far as a trace reveals it, each edge with its evidence.

Edges come from a dump's task table (evidence ``None``) and from what an entry's own
recommendations imply about its neighbours (evidence: that entry's index). The
inference rules follow the scheduler's transition functions:

* finishing into memory recommends a *waiting* dependent ``processing`` and a
  no-longer-needed dependency ``released``;
* failing (``erred``) recommends dependents ``erred`` and releases dependencies;
* ``memory->released`` and ``erred->released`` recommend dependents ``waiting``;
* ``released->waiting`` recommends released dependencies ``waiting``;
* ``waiting->released`` and ``processing->released`` release dependencies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from replay.events import SCHEDULER_STATES, Key, TaskGraph

#: (start, finish) of a step, and a recommended state: which side of the edge the recommended key is.
_DEPENDENT = "dependent"
_DEPENDENCY = "dependency"


def _relation(start: str, finish: str, recommended: str) -> str | None:
    if finish == "memory":
        if recommended == "processing":
            return _DEPENDENT
        if recommended == "released":
            return _DEPENDENCY
        return None
    if finish == "erred":
        if recommended == "erred":
            return _DEPENDENT
        if recommended == "released":
            return _DEPENDENCY
        return None
    if finish == "released":
        if start in ("memory", "erred") and recommended == "waiting":
            return _DEPENDENT
        if start in ("waiting", "processing", "queued", "no-worker") and recommended == "released":
            return _DEPENDENCY
        return None
    if start == "released" and finish == "waiting" and recommended == "waiting":
        return _DEPENDENCY
    return None


#: ``RELATIONS[start, finish][recommended]``: _relation precomputed for every known state
#: (the replay asks once per recommendation).
RELATIONS: dict[tuple[str, str], dict[str, str]] = {
    (start, finish): relations
    for start in SCHEDULER_STATES
    for finish in SCHEDULER_STATES
    if (relations := {r: side for r in SCHEDULER_STATES if (side := _relation(start, finish, r)) is not None})
}


class Graph:
    """Dependencies and dependents of keys, with the entry that proves each edge."""

    __slots__ = ("dependencies", "dependents")

    def __init__(self) -> None:
        self.dependencies: dict[Key, dict[Key, int | None]] = {}
        self.dependents: dict[Key, dict[Key, int | None]] = {}

    @classmethod
    def from_task_graph(cls, task_graph: TaskGraph | None) -> Graph:
        graph = cls()
        if task_graph is not None:
            for task in task_graph.tasks.values():
                for dependency in task.dependencies:
                    graph.add(task.key, dependency, None)
                for dependent in task.dependents:
                    graph.add(dependent, task.key, None)
        return graph

    def add(self, dependent: Key, dependency: Key, evidence: int | None) -> None:
        """Record that ``dependent`` depends on ``dependency`` (first evidence wins)."""
        if dependent == dependency:
            return
        # get before setdefault: ``setdefault(key, {})`` would build a dict on every call
        dependencies = self.dependencies.get(dependent)
        if dependencies is None:
            dependencies = self.dependencies[dependent] = {}
        dependencies.setdefault(dependency, evidence)
        dependents = self.dependents.get(dependency)
        if dependents is None:
            dependents = self.dependents[dependency] = {}
        dependents.setdefault(dependent, evidence)

    def infer(
        self,
        index: int,
        key: Key,
        start: str,
        finish: str,
        own_recommendations: Iterable[tuple[Key, str]],
        states: Mapping[Key, str],
    ) -> None:
        """Add the edges that one step's own recommendations imply."""
        relations = RELATIONS.get((start, finish))
        if relations is None:
            return
        for other, recommended in own_recommendations:
            relation = relations.get(recommended)
            if relation is not None:
                self.add_inferred(index, key, other, recommended, relation, states)

    def add_inferred(
        self, index: int, key: Key, other: Key, recommended: str, relation: str, states: Mapping[Key, str]
    ) -> None:
        """The edge that ``key``'s step recommending ``other: recommended`` implies (``RELATIONS``)."""
        if relation == _DEPENDENT:
            # a queued task recommended processing is a freed slot, not a dependent
            if recommended != "processing" or states.get(other) == "waiting":
                self.add(other, key, index)
        else:
            self.add(key, other, index)

    def dependencies_of(self, key: Key) -> Mapping[Key, int | None]:
        return self.dependencies.get(key, {})

    def dependents_of(self, key: Key) -> Mapping[Key, int | None]:
        return self.dependents.get(key, {})

    def drop(self, key: Key) -> None:
        """Forget a key's edges (a forgotten key evicted to bound memory)."""
        for dependency in self.dependencies.pop(key, {}):
            self.dependents.get(dependency, {}).pop(key, None)
        for dependent in self.dependents.pop(key, {}):
            self.dependencies.get(dependent, {}).pop(key, None)
