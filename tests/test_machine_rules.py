"""One small hand-made trace per rule, beside the real ones."""

from __future__ import annotations

from typing import Any

from replay.events import SchedulerTransition, TaskGraph, TaskRecord, Trace, TraceMetadata
from replay.machine import RULES, replay_trace


def _trace(*entries: tuple[Any, ...], graph: TaskGraph | None = None, fmt: str = "log-test", counter: int | None = None) -> Trace:
    transitions = tuple(
        SchedulerTransition(key, start, finish, recommendations, stimulus, float(position))
        for position, (key, start, finish, recommendations, stimulus) in enumerate(entries)
    )
    metadata = TraceMetadata(path="hand-made", format=fmt, transition_counter=counter)
    return Trace(metadata=metadata, transitions=transitions, graph=graph)


def _rules(trace: Trace, version: str | None = "2024.2.1") -> list[tuple[str, int | None, object]]:
    return [(f.rule, f.event, f.key) for f in replay_trace(trace, version).findings]


GRAPH = TaskGraph(
    source="hand-made",
    tasks={
        "a": TaskRecord(key="a", state="memory", dependents=("b",)),
        "b": TaskRecord(key="b", state="waiting", dependencies=("a",)),
    },
)


def test_every_rule_has_a_description() -> None:
    assert all(rule.description and rule.severity in {"error", "warning", "info"} for rule in RULES.values())


def test_waiting_on_an_erred_dependency() -> None:
    trace = _trace(
        ("a", "processing", "erred", {}, "s1"),
        ("b", "released", "waiting", {}, "s1"),
        graph=GRAPH,
    )
    assert ("dependency-erred-or-forgotten", 1, "b") in _rules(trace)


def test_transient_invalid_state_fixed_in_the_same_cascade_is_fine() -> None:
    trace = _trace(
        ("b", "released", "waiting", {}, "s1"),
        ("a", "processing", "erred", {"b": "erred"}, "s1"),
        ("b", "waiting", "released", {}, "s1"),
        ("b", "released", "erred", {}, "s1"),
        graph=GRAPH,
    )
    assert _rules(trace) == []


def test_processing_without_dependency_in_memory() -> None:
    trace = _trace(
        ("a", "memory", "released", {}, "s1"),
        ("b", "waiting", "processing", {}, "s1"),
        graph=GRAPH,
    )
    rules = _rules(trace)
    assert ("dependency-not-in-memory", 1, "b") in rules


def test_dependent_left_processing_reports_the_missing_recommendation() -> None:
    trace = _trace(
        ("b", "waiting", "processing", {}, "s0"),
        ("a", "memory", "released", {}, "s1"),
        graph=GRAPH,
    )
    findings = replay_trace(trace, "2024.2.1").findings
    finding = next(f for f in findings if f.rule == "dependency-not-in-memory")
    assert finding.event == 1
    assert [(m.key, m.state) for m in finding.missing] == [("b", "waiting")]


def test_forgotten_while_needed() -> None:
    trace = _trace(
        ("b", "released", "waiting", {}, "s0"),
        ("a", "released", "forgotten", {}, "s1"),
        graph=GRAPH,
    )
    assert ("dependency-forgotten-while-needed", 1, "a") in _rules(trace)


def test_continuity() -> None:
    trace = _trace(("x", "released", "waiting", {}, "s1"), ("x", "processing", "memory", {}, "s2"))
    assert _rules(trace) == [("continuity", 1, "x")]


def test_illegal_transition_for_the_release() -> None:
    trace = _trace(("x", "released", "processing", {}, "s1"))
    assert _rules(trace, "2024.2.1") == [("illegal-transition", 0, "x")]


def test_queued_is_illegal_before_queuing_existed() -> None:
    trace = _trace(("x", "waiting", "queued", {}, "s1"))
    assert _rules(trace, "2022.5.0") == [("illegal-transition", 0, "x")]
    assert _rules(trace, "2024.2.1") == []


def test_unknown_state_is_kept_and_reported() -> None:
    trace = _trace(("x", "released", "levitating", {}, "s1"))
    assert _rules(trace) == [("unknown-state", 0, "x")]


def test_recommendation_replacement_is_the_culprit_with_context() -> None:
    trace = _trace(
        ("a", "processing", "memory", {"b": "processing"}, "s1"),
        ("c", "processing", "memory", {"b": "released"}, "s1"),
        ("b", "waiting", "released", {}, "s1"),
        graph=GRAPH,
    )
    result = replay_trace(trace, "2024.2.1")
    step = result.steps[2]
    assert step.cause is not None and (step.cause.event, step.cause.state) == (1, "released")
    assert step.cause.replaced is not None and (step.cause.replaced.event, step.cause.replaced.state) == (0, "processing")


def test_unfinished_cascade_names_the_next_pop() -> None:
    # b is known as waiting, so b: processing was due and never logged
    trace = _trace(
        ("b", "released", "waiting", {}, "s0"),
        ("c", "released", "waiting", {}, "s0"),
        ("a", "processing", "memory", {"b": "processing", "c": "processing"}, "s1"),
        ("c", "waiting", "processing", {}, "s1"),
    )
    findings = replay_trace(trace, "2024.2.1").findings
    assert [(f.rule, f.event, f.key, f.culprit.event if f.culprit else None) for f in findings] == [
        ("unfinished-cascade", None, "b", 2)
    ]


def test_deadlock_chain() -> None:
    graph = TaskGraph(
        source="hand-made",
        tasks={
            "f": TaskRecord(key="f", state="erred", dependents=("g",)),
            "g": TaskRecord(key="g", state="waiting", dependencies=("f",), dependents=("h",)),
            "h": TaskRecord(key="h", state="waiting", dependencies=("g",)),
        },
    )
    trace = _trace(
        ("h", "released", "waiting", {}, "s0"),
        ("g", "released", "waiting", {}, "s0"),
        ("f", "processing", "erred", {}, "s1"),
        graph=graph,
    )
    messages = [f.message for f in replay_trace(trace, "2024.2.1").findings if f.rule == "deadlock"]
    assert "stuck for ever: h (waiting), which waits on g (waiting), which waits on f (erred)" in messages


def test_counter_ahead_of_a_complete_dump_log() -> None:
    trace = _trace(("x", "released", "waiting", {"x": "processing"}, "s1"), ("x", "waiting", "processing", {}, "s1"),
                   fmt="dump-msgpack", counter=3)  # fmt: skip
    assert ("counter-ahead", None, "x") in _rules(trace)


def test_counter_ahead_of_a_truncated_log_is_truncation() -> None:
    trace = _trace(("x", "waiting", "processing", {}, "s1"), fmt="dump-msgpack", counter=500)
    assert _rules(trace) == []


def test_graph_is_inferred_from_recommendations() -> None:
    trace = _trace(
        ("b", "released", "waiting", {}, "s0"),
        ("a", "processing", "memory", {"b": "processing"}, "s1"),
        ("b", "waiting", "processing", {}, "s1"),
        ("q", "released", "waiting", {"q": "queued"}, "s2"),
        ("q", "waiting", "queued", {}, "s2"),
        ("c", "processing", "memory", {"q": "processing"}, "s3"),
        ("q", "queued", "processing", {}, "s3"),
    )
    replayer = replay_trace(trace).replayer
    assert dict(replayer.graph.dependencies_of("b")) == {"a": 1}
    # a queued task recommended processing is a freed slot, not a dependent
    assert dict(replayer.graph.dependencies_of("q")) == {}
