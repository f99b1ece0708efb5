"""Helpers to state a trace and its findings in a few readable lines, for tests.

Like dask's ``assert_story``: a hand-made trace is a list of entries, and what replay
finds is a list of one-line findings, so a rule's test reads like the bug report it
comes from::

    trace = trace_of(
        ("f", "processing", "erred", {}, "remove_b2"),
        ("g", "released", "waiting", {}, "remove_b2"),
        graph=graph_of(g=["f"]),
    )
    assert finding_lines(trace, "2024.2.1") == [
        "waiting-on-erred@1 g <- the stimulus g: waiting",
        "dependency-erred-or-forgotten@1 g <- the stimulus g: waiting",
    ]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from replay.events import Key, SchedulerTransition, TaskGraph, TaskRecord, Trace, TraceMetadata
from replay.keys import format_key
from replay.provenance import Finding, ReplayResult, replay_trace


def trace_of(
    *entries: tuple[Any, ...],
    graph: TaskGraph | None = None,
    counter: int | None = None,
    path: str = "hand-made",
    format_name: str = "log-test",
    workers: Sequence[str] = (),
) -> Trace:
    """A trace of ``(key, start, finish, recommendations, stimulus_id)`` entries, in log order."""
    transitions = tuple(
        SchedulerTransition(key, start, finish, recommendations, stimulus_id, float(position))
        for position, (key, start, finish, recommendations, stimulus_id) in enumerate(entries)
    )
    metadata = TraceMetadata(
        path=path, format=format_name, transition_counter=counter, worker_addresses=tuple(workers)
    )
    return Trace(metadata=metadata, transitions=transitions, graph=graph)


def graph_of(source: str = "hand-made", **dependencies: Iterable[Key]) -> TaskGraph:
    """A task graph from ``key=[its dependencies]`` (every task's state left ``unknown``)."""
    tasks: dict[Key, dict[str, Any]] = {}
    for key, needs in dependencies.items():
        tasks.setdefault(key, {"dependencies": [], "dependents": []})["dependencies"].extend(needs)
        for dependency in needs:
            tasks.setdefault(dependency, {"dependencies": [], "dependents": []})["dependents"].append(key)
    return TaskGraph(
        source=source,
        tasks={
            key: TaskRecord(key=key, state="unknown", dependencies=tuple(fields["dependencies"]),
                            dependents=tuple(fields["dependents"]))
            for key, fields in tasks.items()
        },
    )  # fmt: skip


def table_of(**rows: Mapping[str, Any]) -> TaskGraph:
    """A dump's task table (source ``dump``) from ``key={"state": ..., field: value, ...}``."""
    return TaskGraph(source="dump", tasks={key: TaskRecord(key=key, **fields) for key, fields in rows.items()})


def finding_line(finding: Finding) -> str:
    """``rule@event key <- [emitter] key: state (over [event] state) missing key: state``."""
    where = "?" if finding.event is None else str(finding.event)
    key = "?" if finding.key is None else format_key(finding.key)
    line = f"{finding.rule}@{where} {key}"
    culprit = finding.culprit
    if culprit is not None:
        emitter = "the stimulus" if culprit.event is None else f"[{culprit.event}]"
        line += f" <- {emitter} {format_key(culprit.key)}: {culprit.state}"
        if culprit.overrode is not None:
            over = "the stimulus" if culprit.overrode.event is None else f"[{culprit.overrode.event}]"
            line += f" (over {over} {culprit.overrode.state})"
    for missing in finding.missing:
        line += f" missing {format_key(missing.key)}: {missing.state}"
    return line


def finding_lines(trace_or_result: Trace | ReplayResult, distributed_version: str | None = None) -> list[str]:
    """Every finding of a replay as one line each (see :func:`finding_line`)."""
    result = (
        trace_or_result
        if isinstance(trace_or_result, ReplayResult)
        else replay_trace(trace_or_result, distributed_version)
    )
    return [finding_line(finding) for finding in result.findings]
