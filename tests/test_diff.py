"""``replay.diff``: normalisation, alignment, first divergence and consequences on real runs."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import msgpack
import pytest

from replay.diff import Normaliser, diff_results, diff_traces, summary_line
from replay.events import SchedulerTransition, Trace, TraceMetadata
from replay.ingest import open_trace
from replay.provenance import replay_trace
from tests.conftest import FORMS, TRACES, forms_of

BUGGY = TRACES / "2024.2.1/seed"
FIXED = TRACES / "2024.3.0/seed"
MAPREDUCE = TRACES / "2026.8.0/mapreduce"
MAPREDUCE_AGAIN = TRACES / "2026.8.0/mapreduce-2"


def entry(
    key: str,
    start: str,
    finish: str,
    stimulus: str,
    recommendations: dict[str, str] | None = None,
    timestamp: float = 0.0,
) -> SchedulerTransition:
    return SchedulerTransition(key, start, finish, recommendations or {}, stimulus, timestamp)


def trace_of(entries: list[SchedulerTransition], name: str = "synthetic") -> Trace:
    return Trace(TraceMetadata(path=name, format="log-msgpack"), tuple(entries))


# --------------------------------------------------------------------------- the seed pair


@pytest.mark.parametrize(
    ("form_a", "form_b"),
    [(form, form) for form in FORMS]
    + [
        ("dump.msgpack.gz", "transition_log.msgpack"),
        ("story.txt", "dump.yaml"),
        ("client_story.msgpack", "story_pprint.txt"),
    ],
)
def test_seed_pair_first_divergence(form_a: str, form_b: str) -> None:
    diff = diff_traces(open_trace(BUGGY / form_a), open_trace(FIXED / form_b))
    document = diff.to_json()
    first = document["first_divergence"]
    assert (first["a_event"], first["b_event"], first["stimulus"]) == (16, 16, "remove_b2")
    assert {name: first["a"][name] for name in ("key", "start", "finish", "recommendations")} == {
        "key": "f",
        "start": "processing",
        "finish": "erred",
        "recommendations": [["g", "erred"]],
    }
    assert {name: first["b"][name] for name in ("key", "start", "finish", "recommendations")} == {
        "key": "f",
        "start": "processing",
        "finish": "erred",
        "recommendations": [],
    }
    assert first["a"]["stimulus_id"] == "remove_b2"
    assert document["verdict"] == "diverge" and not document["equivalent"]


def test_seed_pair_consequences() -> None:
    diff = diff_traces(open_trace(BUGGY / "dump.msgpack.gz"), open_trace(FIXED / "dump.msgpack.gz"))
    paths = {difference.key: difference for difference in diff.keys}
    assert list(paths) == ["f", "g", "hb", "ha"]
    g, ha = paths["g"], paths["ha"]
    # g: memory → released → waiting (buggy, stuck) vs memory → released → forgotten (fixed)
    assert g.a_path[g.common - 2 :] == ("memory", "released", "waiting")
    assert g.b_path[g.common - 2 :] == ("memory", "released", "forgotten")
    assert (g.a_final, g.b_final) == ("waiting", "forgotten")
    assert ha.a_path[ha.common - 1 :] == ("processing", "released", "waiting")
    assert ha.b_path[ha.common - 1 :] == ("processing", "memory", "forgotten")
    only_buggy = [(finding.rule, finding.key) for finding in diff.a_only_findings]
    assert ("deadlock", "g") in only_buggy and ("deadlock", "ha") in only_buggy
    assert ("dependency-erred-or-forgotten", "g") in only_buggy
    assert diff.b_only_findings == ()
    assert diff.counts() == {"equal": 16, "changed": 1, "a-only": 4, "b-only": 8}
    assert summary_line(diff).startswith("diverge at A[16] / B[16], stimulus remove_b2; 4 keys differ")


def test_seed_pair_reversed_points_at_the_same_entries() -> None:
    diff = diff_traces(open_trace(FIXED / "dump.yaml"), open_trace(BUGGY / "dump.yaml"))
    first = diff.to_json()["first_divergence"]
    assert (first["a_event"], first["b_event"], first["b"]["recommendations"]) == (16, 16, [["g", "erred"]])
    assert {finding.rule for finding in diff.b_only_findings} >= {"deadlock"}


# --------------------------------------------------------------------------- equivalence


@pytest.mark.parametrize("run", [BUGGY, FIXED, MAPREDUCE, TRACES / "2026.8.0/worker-lost"], ids=lambda p: p.name)
def test_same_run_in_every_other_form_is_identical(run: Path) -> None:
    forms = forms_of(run)
    reference = open_trace(forms[0])
    # a bare log does not say its release: tell it, so that both sides check the same rules
    release = json.loads((run / "meta.json").read_text())["distributed_version"]
    for form in forms[1:]:
        diff = diff_traces(reference, open_trace(form), a_version=release, b_version=release)
        assert diff.verdict == "identical", (form.name, summary_line(diff))
        assert diff.equivalent and diff.to_json()["first_divergence"] is None
        assert diff.counts()["equal"] == len(reference.materialise())


def test_two_captures_of_mapreduce_are_equivalent_up_to_scheduling_order() -> None:
    """Workers finish tasks in another order; every key still has the same states."""
    diff = diff_traces(open_trace(MAPREDUCE / "dump.msgpack.gz"), open_trace(MAPREDUCE_AGAIN / "dump.yaml"))
    assert diff.verdict == "reordered" and diff.equivalent
    assert diff.keys == () and diff.a_only_findings == () and diff.b_only_findings == ()
    assert diff.to_json()["first_divergence"] is None
    counts = diff.counts()
    assert counts["equal"] > 150 and counts["a-only"] == counts["b-only"] > 0
    strict = diff_traces(
        open_trace(MAPREDUCE / "dump.msgpack.gz"), open_trace(MAPREDUCE_AGAIN / "dump.yaml"), strict=True
    )
    assert not strict.equivalent and strict.first_divergence is not None
    # the first place the order differs: run 2 received the graph of ('reduce', 0, 2) earlier
    assert strict.entry("b", strict.first_divergence.b) == strict.b_entries[56]
    assert strict.b_entries[56].key == ("reduce", 0, 2)


# --------------------------------------------------------------------------- truncation


def truncated_copy(source: Path, keep: int, tmp_path: Path) -> Path:
    """The last ``keep`` entries of a bare log, as a msgpack list (what a bounded deque leaves)."""
    entries = msgpack.unpackb(source.read_bytes(), use_list=False, strict_map_key=False)
    path = tmp_path / f"last-{keep}.msgpack"
    path.write_bytes(msgpack.packb(list(entries[-keep:])))
    return path


@pytest.mark.parametrize(("run", "keep"), [(BUGGY, 9), (MAPREDUCE, 100), (FIXED, 1)])
def test_front_truncated_copy_reports_truncation(run: Path, keep: int, tmp_path: Path) -> None:
    full = open_trace(run / "dump.msgpack.gz")
    cut = open_trace(truncated_copy(run / "transition_log.msgpack", keep, tmp_path))
    total = len(full.materialise())
    diff = diff_traces(full, cut)
    assert diff.verdict == "truncated" and diff.equivalent
    assert diff.to_json()["truncation"] == {"side": "b", "dropped": total - keep}
    assert diff.to_json()["first_divergence"] is None
    assert summary_line(diff) == (
        f"truncated: B is A without its first {total - keep} entries; the {keep} entries they share are identical"
    )
    reverse = diff_traces(cut, full)
    assert reverse.truncation is not None and reverse.truncation.side == "a"


# --------------------------------------------------------------------------- normalisation


def test_stimulus_ids_lose_timestamps_uuids_and_addresses() -> None:
    a = [
        entry("x", "released", "waiting", "remove-worker-tcp://10.0.0.1:4000-1795669430.36"),
        entry("x", "waiting", "processing", "retry-3f2b8c1e-9a0d-4c55-8f1e-0123456789ab"),
        entry("x", "processing", "memory", "task-finished-1795669430.36"),
        entry("y", "released", "waiting", "remove-worker-tcp://10.0.0.2:4001"),
    ]
    b = [
        entry("x", "released", "waiting", "remove-worker-tcp://10.0.0.9:5123-1795669571.42"),
        entry("x", "waiting", "processing", "retry-aaaaaaaa-9a0d-4c55-8f1e-ffffffffffff"),
        entry("x", "processing", "memory", "task-finished-1795669571.42"),
        entry("y", "released", "waiting", "remove-worker-tcp://10.0.0.7:6000"),
    ]
    normalise_a, normalise_b = Normaliser.pair(a, b)
    assert [normalise_a.stimulus(e.stimulus_id) for e in a] == [
        "remove-worker-<worker-0>-*",
        "retry-*",
        "task-finished-*",
        "remove-worker-<worker-1>",
    ]
    assert [normalise_b.stimulus(e.stimulus_id) for e in b] == [normalise_a.stimulus(e.stimulus_id) for e in a]
    assert normalise_a.stimulus("remove_b1") != normalise_a.stimulus("remove_b2")
    assert diff_traces(trace_of(a), trace_of(b)).verdict == "identical"


def test_shared_addresses_keep_their_names_and_new_ones_pair_in_order() -> None:
    a = [entry("x", "released", "waiting", "w-tcp://h:1"), entry("y", "released", "waiting", "w-tcp://h:2")]
    b = [entry("x", "released", "waiting", "w-tcp://h:3"), entry("y", "released", "waiting", "w-tcp://h:1")]
    normalise_a, normalise_b = Normaliser.pair(a, b)
    assert normalise_a.stimulus("w-tcp://h:1") == normalise_b.stimulus("w-tcp://h:1") == "w-<worker-0>"
    assert normalise_b.stimulus("w-tcp://h:3") == normalise_a.stimulus("w-tcp://h:2") == "w-<worker-1>"


def test_key_tokens_are_renamed_where_the_graph_is_the_same() -> None:
    token_a, token_b = "0" * 31 + "a", "f" * 32
    shared = "1234567890abcdef" * 2
    a = [
        entry(f"inc-{token_a}", "released", "waiting", "s", {f"inc-{token_a}": "processing"}),
        entry(f"sum-{shared}", "released", "waiting", "s"),
    ]
    b = [
        entry(f"inc-{token_b}", "released", "waiting", "s", {f"inc-{token_b}": "processing"}),
        entry(f"sum-{shared}", "released", "waiting", "s"),
    ]
    tuple_a = [entry(("x-" + token_a, 0), "released", "waiting", "s")]  # type: ignore[arg-type]
    tuple_b = [entry(("x-" + token_b, 0), "released", "waiting", "s")]  # type: ignore[arg-type]
    assert diff_traces(trace_of(a), trace_of(b)).verdict == "identical"
    assert diff_traces(trace_of(tuple_a), trace_of(tuple_b)).verdict == "identical"
    renamed = diff_traces(trace_of(a), trace_of([*b, entry(f"inc-{token_b}", "waiting", "processing", "t")]))
    assert renamed.verdict == "diverge"
    assert [difference.key for difference in renamed.keys] == [f"inc-{token_a}"]


def test_recommendation_order_never_counts() -> None:
    a = [entry("x", "memory", "released", "s", {"y": "waiting", "z": "waiting"})]
    b = [entry("x", "memory", "released", "s", {"z": "waiting", "y": "waiting"})]
    assert diff_traces(trace_of(a), trace_of(b)).verdict == "identical"


# --------------------------------------------------------------------------- alignment


def cascade(stimulus: str, key: str) -> list[SchedulerTransition]:
    return [
        entry(key, "released", "waiting", stimulus, {key: "processing"}),
        entry(key, "waiting", "processing", stimulus),
    ]


def test_one_extra_cascade_does_not_shift_everything_after_it() -> None:
    a = [item for number in range(30) for item in cascade(f"update-graph-{1795669430 + number}.5", f"k{number}")]
    extra = [
        entry("k3", "processing", "memory", "task-finished-1795669431.0", {"k4": "waiting"}),
        entry("k4", "processing", "waiting", "task-finished-1795669431.0"),
    ]
    b = a[:8] + extra + a[8:]
    diff = diff_traces(trace_of(a), trace_of(b))
    assert diff.counts() == {"equal": 60, "b-only": 2}
    assert [row.b for row in diff.rows if row.kind == "b-only"] == [8, 9]
    assert diff.first_divergence is not None and diff.first_divergence.b == 8
    assert diff.to_json()["first_divergence"]["a"] is None
    assert diff.to_json()["first_divergence"]["stimulus"] == "task-finished-*"


def test_extra_entry_inside_a_stimulus_is_one_sided() -> None:
    a = [*cascade("s", "x"), *cascade("s", "y"), *cascade("t", "z")]
    b = [*cascade("s", "x"), entry("w", "released", "waiting", "s"), *cascade("s", "y"), *cascade("t", "z")]
    diff = diff_traces(trace_of(a), trace_of(b))
    assert [(row.kind, row.a, row.b) for row in diff.rows if row.kind != "equal"] == [("b-only", None, 2)]
    assert [difference.key for difference in diff.keys] == ["w"]


def test_diff_of_two_thousand_entry_traces_is_fast() -> None:
    trace = open_trace(TRACES / "2026.8.0/large-graph/transition_log.msgpack")
    entries = trace.materialise()
    a = replace(trace, transitions=entries[:1000])
    shuffled = list(entries[:1000])
    for position in range(0, 990, 40):  # swap neighbouring blocks: scheduling-order noise
        shuffled[position : position + 10], shuffled[position + 10 : position + 20] = (
            shuffled[position + 10 : position + 20],
            shuffled[position : position + 10],
        )
    for position in range(5, 1000, 97):  # and some real differences
        old = shuffled[position]
        shuffled[position] = old._replace(finish="erred", recommendations={"other": "erred"})
    variants = [tuple(a.transitions), tuple(shuffled), entries[1000:2000]]
    results = [replay_trace(replace(trace, transitions=variant), keep_steps=False) for variant in variants]
    for other, other_entries in zip(results[1:], variants[1:]):
        started = time.process_time()
        diff = diff_results(results[0], variants[0], other, other_entries)
        used = time.process_time() - started
        assert diff.verdict == "diverge"
        # CPU time, not wall-clock, with a wide margin: a quadratic alignment of 1,000
        # entries takes tens of seconds, the linear one a few hundredths.
        assert used < 5, used


def test_truncated_buggy_run_against_full_fixed_run_still_finds_the_divergence(tmp_path: Path) -> None:
    """A bounded log starts later: the missing start is truncation, the real split is still remove_b2."""
    cut = open_trace(truncated_copy(BUGGY / "transition_log.msgpack", 12, tmp_path))
    diff = diff_traces(open_trace(FIXED / "dump.msgpack.gz"), cut)
    assert diff.verdict == "diverge"
    assert diff.to_json()["truncation"] == {"side": "b", "dropped": 9}
    first = diff.to_json()["first_divergence"]
    assert (first["a_event"], first["b_event"], first["stimulus"]) == (16, 7, "remove_b2")
    assert first["b"]["recommendations"] == [["g", "erred"]]
    assert {finding.rule for finding in diff.b_only_findings} >= {"deadlock"}
    assert diff.a_only_findings == ()
    assert not any(row.a is not None and row.a < 9 for row in diff.rows)
