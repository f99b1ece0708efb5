"""One small hand-made trace per rule, beside the real ones."""

from __future__ import annotations

from replay.machine import RULES, Replayer
from replay.provenance import replay_trace
from replay.testing import finding_lines, graph_of, table_of, trace_of

#: b depends on a
GRAPH = graph_of(b=["a"])


def test_every_rule_has_a_description_and_releases() -> None:
    assert all(rule.description and rule.severity in {"error", "warning", "info"} for rule in RULES.values())
    assert RULES["waiting-on-erred"].releases == "2022.12.0 and later"
    assert RULES["deadlock"].releases == "every release"


def test_waiting_on_an_erred_dependency_breaks_the_release_assertion() -> None:
    trace = trace_of(("a", "processing", "erred", {}, "s1"), ("b", "released", "waiting", {}, "s1"), graph=GRAPH)
    assert finding_lines(trace, "2024.2.1") == [
        "waiting-on-erred@1 b <- the stimulus b: waiting",
        "dependency-erred-or-forgotten@1 b <- the stimulus b: waiting",
        "deadlock@1 b <- the stimulus b: waiting",
    ]
    message = replay_trace(trace, "2024.2.1").findings[0].message
    assert message == (
        "b went released->waiting while its dependency a is erred; with validate on, 2024.2.1 raises here "
        "(_transition_released_waiting: assert dts.state not in {'forgotten', 'erred'})"
    )


def test_waiting_on_erred_is_no_precondition_before_2022_12_nor_for_an_unknown_release() -> None:
    # 2022.11.1 sent such a task to waiting on purpose and recommended it erred next
    trace = trace_of(
        ("a", "processing", "erred", {}, "s1"),
        ("b", "released", "waiting", {"b": "erred"}, "s1"),
        ("b", "waiting", "released", {}, "s1"),
        ("b", "released", "erred", {}, "s1"),
        graph=GRAPH,
    )
    assert finding_lines(trace, "2022.11.1") == []
    assert finding_lines(trace, None) == []
    assert finding_lines(trace, "2022.12.0") == ["waiting-on-erred@1 b <- the stimulus b: waiting"]


def test_transient_invalid_state_of_the_key_fixed_in_the_same_cascade_is_fine() -> None:
    trace = trace_of(
        ("b", "released", "waiting", {}, "s1"),
        ("a", "processing", "erred", {"b": "erred"}, "s1"),
        ("b", "waiting", "released", {}, "s1"),
        ("b", "released", "erred", {}, "s1"),
        graph=GRAPH,
    )
    assert finding_lines(trace, "2024.2.1") == []


def test_a_dependency_moved_on_later_in_the_cascade_does_not_excuse_the_key() -> None:
    # b goes waiting under an erred a; a is then released and recomputed, b never moves
    trace = trace_of(
        ("a", "processing", "erred", {}, "s0"),
        ("b", "released", "waiting", {}, "s1"),
        ("a", "erred", "released", {"a": "waiting"}, "s1"),
        ("a", "released", "waiting", {}, "s1"),
        graph=GRAPH,
    )
    assert finding_lines(trace, "2022.5.0") == ["dependency-erred-or-forgotten@1 b <- the stimulus b: waiting"]


def test_started_before_its_dependency_was_in_memory() -> None:
    trace = trace_of(("a", "memory", "released", {}, "s1"), ("b", "waiting", "processing", {}, "s1"), graph=GRAPH)
    assert finding_lines(trace, "2024.2.1") == ["started-without-dependencies@1 b <- the stimulus b: processing"]
    message = replay_trace(trace, "2022.8.0").findings[0].message
    assert message.endswith(
        "with validate on, 2022.8.0 raises here (transition_waiting_processing: "
        "assert all(dts.who_has for dts in ts.dependencies))"
    )


def test_memory_straight_from_waiting_without_dependencies() -> None:
    trace = trace_of(("a", "memory", "released", {}, "s0"), ("b", "waiting", "memory", {}, "s1"), graph=GRAPH)
    assert finding_lines(trace, "2022.10.2") == ["memory-without-dependencies@1 b <- the stimulus b: memory"]
    assert "no validate-mode assertion of 2022.10.2 checks this" in replay_trace(trace, "2022.10.2").findings[0].message


def test_a_forgotten_dependency_submitted_again_is_not_forgotten() -> None:
    # a was forgotten, then submitted again with b: made afresh without an entry, so b's own
    # recommendation a: waiting says it is released
    trace = trace_of(
        ("a", "memory", "forgotten", {}, "s0"),
        ("b", "released", "waiting", {"a": "waiting"}, "s1"),
        ("a", "released", "waiting", {"a": "processing"}, "s1"),
        ("a", "waiting", "processing", {}, "s1"),
        graph=GRAPH,
    )
    assert finding_lines(trace, "2024.2.1") == []


def test_dependent_left_processing_reports_the_missing_recommendation() -> None:
    trace = trace_of(("b", "waiting", "processing", {}, "s0"), ("a", "memory", "released", {}, "s1"), graph=GRAPH)
    assert finding_lines(trace, "2024.2.1") == [
        "dependency-not-in-memory@1 b <- the stimulus b: processing missing b: waiting"
    ]


def test_forgotten_while_needed() -> None:
    trace = trace_of(("b", "released", "waiting", {}, "s0"), ("a", "released", "forgotten", {}, "s1"), graph=GRAPH)
    assert finding_lines(trace, "2024.2.1") == [
        "dependency-forgotten-while-needed@1 a <- the stimulus a: forgotten",
        "deadlock@0 b <- the stimulus b: waiting",
    ]


def test_a_run_for_nobody_names_what_started_it() -> None:
    trace = trace_of(
        ("x", "waiting", "queued", {}, "s0"),
        ("y", "processing", "released", {"x": "processing"}, "release"),
        ("x", "queued", "processing", {}, "release"),
        ("x", "processing", "memory", {"x": "released"}, "task-finished"),
        ("x", "memory", "released", {}, "task-finished"),
    )
    assert finding_lines(trace, "2022.12.0") == ["unwanted-run@2 x <- [1] x: processing"]


def test_the_first_emitter_of_a_repeated_recommendation_stays_the_cause() -> None:
    trace = trace_of(
        ("a", "processing", "memory", {"b": "processing"}, "s1"),
        ("c", "processing", "memory", {"b": "processing"}, "s1"),
        ("b", "waiting", "processing", {}, "s1"),
    )
    step = replay_trace(trace, "2024.2.1").steps[2]
    assert step.cause is not None and step.cause.event == 0


def test_continuity() -> None:
    trace = trace_of(("x", "released", "waiting", {}, "s1"), ("x", "processing", "memory", {}, "s2"))
    assert finding_lines(trace, "2024.2.1") == ["continuity@1 x <- the stimulus x: waiting"]


def test_a_detour_whose_first_half_left_the_key_where_it_was() -> None:
    # 2025.4.1 losing an actor's worker: memory->released declines for an actor a client wants and
    # recommends it erred; memory->erred is no table edge then, so it goes through released, whose
    # first half declines again, and the second half is logged from released
    trace = trace_of(
        ("c", "released", "waiting", {"c": "processing"}, "s1"),
        ("c", "waiting", "processing", {}, "s1"),
        ("c", "processing", "memory", {}, "s2"),
        ("c", "memory", "memory", {"c": "erred"}, "s3"),
        ("c", "memory", "memory", {"c": "erred"}, "s3"),
        ("c", "released", "erred", {"c": "erred"}, "s3"),
    )  # fmt: skip
    for release in ("2025.4.1", None):
        result = replay_trace(trace, release)
        assert finding_lines(result) == []
        assert [(s.index, s.role, s.requested) for s in result.steps[3:]] == [
            (3, "no-op", None), (4, "detour-inner", "erred"), (5, "detour-outer", "erred"),
        ]  # fmt: skip
        assert result.steps[5].cause is not None and result.steps[5].cause.event == 3


def test_a_declined_transition_with_no_second_half_is_a_no_op() -> None:
    trace = trace_of(
        ("y", "released", "waiting", {}, "s1"),
        ("a", "released", "waiting", {"a": "processing"}, "s1"),
        ("a", "waiting", "processing", {}, "s1"),
        ("a", "processing", "memory", {"y": "processing"}, "s2"),
        ("y", "waiting", "waiting", {"y": "queued"}, "s2"),
        ("y", "waiting", "queued", {}, "s2"),
    )  # fmt: skip
    result = replay_trace(trace, "2024.2.1")
    assert finding_lines(result) == []
    assert [(s.index, s.role, s.requested) for s in result.steps[3:]] == [
        (3, "step", None), (4, "no-op", "processing"), (5, "step", "queued"),
    ]  # fmt: skip
    assert result.steps[5].cause is not None and result.steps[5].cause.event == 4


def test_illegal_transition_for_the_release() -> None:
    trace = trace_of(("x", "released", "processing", {}, "s1"))
    assert finding_lines(trace, "2024.2.1") == ["illegal-transition@0 x <- the stimulus x: processing"]


def test_queued_is_illegal_before_queuing_existed() -> None:
    trace = trace_of(("x", "waiting", "queued", {}, "s1"))
    assert finding_lines(trace, "2022.5.0") == ["illegal-transition@0 x <- the stimulus x: queued"]
    assert finding_lines(trace, "2024.2.1") == []


def test_unknown_state_is_kept_and_reported() -> None:
    trace = trace_of(("x", "released", "levitating", {}, "s1"))
    assert finding_lines(trace, "2024.2.1") == ["unknown-state@0 x"]


def test_recommendation_replacement_is_the_culprit_with_context() -> None:
    trace = trace_of(
        ("a", "processing", "memory", {"b": "processing"}, "s1"),
        ("c", "processing", "memory", {"b": "released"}, "s1"),
        ("b", "waiting", "released", {}, "s1"),
        graph=GRAPH,
    )
    step = replay_trace(trace, "2024.2.1").steps[2]
    assert step.cause is not None and (step.cause.event, step.cause.state) == (1, "released")
    assert step.cause.replaced is not None and (step.cause.replaced.event, step.cause.replaced.state) == (0, "processing")


def test_unfinished_cascade_names_the_next_pop() -> None:
    # b is known as waiting, so b: processing was due and never logged
    trace = trace_of(
        ("b", "released", "waiting", {}, "s0"),
        ("c", "released", "waiting", {}, "s0"),
        ("a", "processing", "memory", {"b": "processing", "c": "processing"}, "s1"),
        ("c", "waiting", "processing", {}, "s1"),
    )
    assert finding_lines(trace, "2024.2.1") == ["unfinished-cascade@? b <- [2] b: processing"]


def test_a_pending_recommendation_for_a_key_a_complete_log_never_showed() -> None:
    # every key starts from released: the log is complete, so the unseen z was released
    trace = trace_of(("y", "released", "waiting", {"z": "waiting"}, "s1"))
    assert finding_lines(trace, "2025.4.1") == ["unfinished-cascade@? z <- [0] z: waiting"]
    truncated = trace_of(("y", "processing", "memory", {"z": "waiting"}, "s1"))
    assert finding_lines(truncated, "2025.4.1") == []


def test_deadlock_chain() -> None:
    trace = trace_of(
        ("h", "released", "waiting", {}, "s0"),
        ("g", "released", "waiting", {}, "s0"),
        ("f", "processing", "erred", {}, "s1"),
        graph=graph_of(g=["f"], h=["g"]),
    )
    messages = [f.message for f in replay_trace(trace, "2024.2.1").findings if f.rule == "deadlock"]
    assert "stuck for ever: h (waiting), which waits on g (waiting), which waits on f (erred)" in messages


def test_counter_ahead_names_the_recommendation_that_raised() -> None:
    trace = trace_of(
        ("x", "released", "waiting", {"x": "processing", "y": "waiting"}, "s1"),
        ("x", "waiting", "processing", {}, "s1"),
        format_name="dump-msgpack", counter=3,
    )  # fmt: skip
    assert finding_lines(trace, "2025.4.1") == [
        "unfinished-cascade@? y <- [0] y: waiting",
        "counter-ahead@? y <- [0] y: waiting",
    ]


def test_counter_ahead_with_nothing_pending_says_the_culprit_is_unknown() -> None:
    trace = trace_of(("x", "released", "waiting", {"x": "processing"}, "s1"), ("x", "waiting", "processing", {}, "s1"),
                     format_name="dump-msgpack", counter=3)  # fmt: skip
    findings = replay_trace(trace, "2024.2.1").findings
    assert [(f.rule, f.key, f.stimulus_id, f.culprit) for f in findings] == [("counter-ahead", None, None, None)]
    assert findings[0].message.endswith("which one raised is unknown")


def test_counter_ahead_of_a_truncated_log_is_truncation() -> None:
    trace = trace_of(("x", "waiting", "processing", {}, "s1"), format_name="dump-msgpack", counter=500)
    assert finding_lines(trace, "2024.2.1") == []


def test_the_task_table_of_a_dump_is_checked_like_validate_task_state() -> None:
    table = table_of(
        leak={"state": "released", "who_wants": (), "waiters": (), "dependents": ()},
        kept={"state": "memory", "who_wants": ("Client-1",), "waiters": (), "who_has": ("tcp://w1",)},
        lost={"state": "processing", "who_wants": ("Client-1",), "waiters": (), "processing_on": "tcp://gone",
              "who_has": ()},
        orphan={"state": "memory", "who_wants": (), "waiters": (), "who_has": ("tcp://w1",)},
        stale={"state": "waiting", "who_wants": ("Client-1",), "waiting_on": ("kept",), "who_has": ()},
    )  # fmt: skip
    trace = trace_of(("leak", "memory", "released", {}, "s1"), graph=table, workers=["tcp://w1"])
    assert finding_lines(trace, "2024.2.1") == [
        "leaked-task@0 leak <- the stimulus leak: released",
        "unknown-worker@? lost",
        "leaked-task@? orphan",
        "waiting-on-available@? stale",
    ]



def test_a_task_created_again_without_a_transition_is_named_with_who_waits_for_it() -> None:
    table = table_of(x={"state": "released", "who_wants": ("Client-1",), "waiters": (), "dependents": ()})
    trace = trace_of(("x", "memory", "forgotten", {}, "client-releases-keys"), graph=table)
    findings = replay_trace(trace, "2024.7.0").findings
    assert [(f.rule, f.event, f.culprit, f.message) for f in findings] == [(
        "dump-final-state", None, None,
        "the dump's task table has x released, the log leaves it forgotten: the task was created again without "
        "a transition, and Client-1 wants it: nothing will ever recommend it waiting",
    )]  # fmt: skip


def test_an_actor_must_run_on_exactly_one_of_its_holders() -> None:
    held = {"who_wants": ("Client-1",), "waiters": ()}
    table = table_of(
        home={"state": "memory", "who_has": ("tcp://a", "tcp://b"), "actor_on": ("tcp://b",), **held},
        lost={"state": "memory", "who_has": ("tcp://a",), "actor_on": (), **held},
        twice={"state": "memory", "who_has": ("tcp://a", "tcp://b"), "actor_on": ("tcp://a", "tcp://b"), **held},
        starting={"state": "processing", "processing_on": "tcp://a", "actor_on": ("tcp://a",), **held},
        elsewhere={"state": "processing", "processing_on": "tcp://a", "actor_on": (), **held},
        plain={"state": "memory", "who_has": ("tcp://a",), **held},
    )  # fmt: skip
    trace = trace_of(("plain", "processing", "memory", {}, "s1"), graph=table, workers=["tcp://a", "tcp://b"])
    findings = [f for f in replay_trace(trace, "2025.4.1").findings if f.rule == "actor-lost"]
    assert [(f.key, f.message) for f in findings] == [
        ("lost", "lost is an actor in memory, held by tcp://a; its actor runs on no worker"),
        ("twice", "twice is an actor in memory, held by tcp://a, tcp://b; its actor runs on tcp://a, tcp://b"),
        ("elsewhere", "elsewhere is an actor processing on tcp://a, whose actors do not list it"),
    ]

def test_graph_is_inferred_from_recommendations() -> None:
    trace = trace_of(
        ("b", "released", "waiting", {}, "s0"),
        ("a", "processing", "memory", {"b": "processing"}, "s1"),
        ("b", "waiting", "processing", {}, "s1"),
        ("q", "released", "waiting", {"q": "queued"}, "s2"),
        ("q", "waiting", "queued", {}, "s2"),
        ("c", "processing", "memory", {"q": "processing"}, "s3"),
        ("q", "queued", "processing", {}, "s3"),
    )
    replayer = Replayer(None).run(trace.iter_transitions())
    assert dict(replayer.world.graph.dependencies_of("b")) == {"a": 1}
    # a queued task recommended processing is a freed slot, not a dependent
    assert dict(replayer.world.graph.dependencies_of("q")) == {}
