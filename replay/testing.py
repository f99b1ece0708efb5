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

import re
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


def table_from(rows: Mapping[Key, Mapping[str, Any]], source: str = "dump") -> TaskGraph:
    """A task table whose keys may be any keys (tuples, numbers): ``{key: {"state": ..., field: value}}``."""
    return TaskGraph(source=source, tasks={key: TaskRecord(key=key, **fields) for key, fields in rows.items()})


def python_literal(value: Any) -> str:
    """``value`` (a key, a state, a map or tuple of them, None) as Python source, strings in double quotes."""
    if isinstance(value, str):
        text = repr(value)
        return f'"{value}"' if '"' not in value and "\\" not in text else text
    if isinstance(value, tuple):
        items = [python_literal(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(key)}: {python_literal(item)}" for key, item in value.items()) + "}"
    return repr(value)


#: The task table's fields a generated test states, in this order (the rest keep their defaults).
_TABLE_FIELDS = ("state", "dependencies", "dependents", "who_wants", "waiters", "waiting_on", "processing_on", "who_has",
                 "actor_on")  # fmt: skip
#: Fields stated even when empty: an actor that runs on no worker is not "not an actor".
_STATED_WHEN_EMPTY = frozenset({"actor_on"})


def _test_name(finding: Finding) -> str:
    words = f"{finding.rule} on {'unknown key' if finding.key is None else format_key(finding.key)}"
    return "test_" + "_".join(part for part in re.split(r"\W+", words.lower()) if part)


def slice_as_test(trace: Trace, finding: Finding, *, distributed_version: str | None = None, name: str | None = None) -> str:
    """The source of a pytest test that states ``trace`` (a slice) with :func:`trace_of` and checks
    that replaying it finds ``finding``, as :func:`finding_line` writes it.

    Like dask's ``assert_story``, the test reads like the bug report: the entries, the task table
    (when the trace has one), the counter and the workers, then the finding. The release is
    ``distributed_version``, else the trace's. It needs ``trace_of``, ``finding_lines`` and, with
    a task table, ``table_from`` from this module.
    """
    metadata = trace.metadata
    version = distributed_version or metadata.distributed_version
    lines = [f"def {name or _test_name(finding)}() -> None:"]
    if trace.notes:
        lines.append(f'    """{trace.notes[0][0].upper()}{trace.notes[0][1:]}."""'.replace("\\", "\\\\"))
    lines.append("    trace = trace_of(")
    for entry in trace.iter_transitions():
        fields = (entry.key, entry.start, entry.finish, dict(entry.recommendations), entry.stimulus_id)
        lines.append(f"        {python_literal(fields)},")
    graph = trace.graph
    if graph is not None:
        source = "" if graph.source == "dump" else f", source={python_literal(graph.source)}"
        lines.append("        graph=table_from({")
        for key, task in graph.tasks.items():
            values = {field: getattr(task, field) for field in _TABLE_FIELDS}
            stated = {field: value for field, value in values.items()
                      if value is not None and (value != () or field in _STATED_WHEN_EMPTY)}  # fmt: skip
            lines.append(f"            {python_literal(key)}: {python_literal(stated)},")
        lines.append(f"        }}{source}),")
    if metadata.transition_counter is not None:
        lines.append(f"        counter={metadata.transition_counter},")
    if metadata.worker_addresses:
        lines.append(f"        workers={python_literal(tuple(metadata.worker_addresses))},")
    lines.append("    )")
    lines.append(f"    assert {python_literal(finding_line(finding))} in finding_lines(trace, {python_literal(version)})")
    return "\n".join(lines) + "\n"
