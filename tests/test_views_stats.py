"""The core of ``replay stats``: stimulus kinds, task prefixes, state spans, cascades."""

from __future__ import annotations

import pytest

from replay.ingest import DEFAULT_LIMITS, open_trace
from replay.provenance import replay_trace
from replay.stats import NO_STIMULUS, cascades_of, key_prefix, run_stats, state_spans, stimulus_kind
from tests.conftest import TRACES


@pytest.mark.parametrize(
    ("stimulus_id", "kind"),
    [
        ("task-finished-1795674283.7865136", "task-finished"),
        ("update-graph-1795674283.7748024", "update-graph"),
        ("handle-worker-cleanup-1700000000", "handle-worker-cleanup"),
        ("client-releases-keys-1795674225.5860405", "client-releases-keys"),
        ("remove-worker-4f1c2a3b-9d8e-4c7b-a6f5-1234567890ab", "remove-worker"),
        ("remove_b2", "remove_b2"),
        ("compute-task-1795674283.1-1795674283.2", "compute-task"),
        (None, NO_STIMULUS),
    ],
)
def test_stimulus_kind(stimulus_id: str | None, kind: str) -> None:
    assert stimulus_kind(stimulus_id) == kind


@pytest.mark.parametrize(
    ("key", "prefix"),
    [
        ("inc-5f2e8d3c0a9b41f7a2d6c8e1b3f4a5d6", "inc"),
        ("sleep-0", "sleep"),
        ("finalize-hlg-5f2e8d3c0a9b41f7a2d6c8e1b3f4a5d6", "finalize-hlg"),
        (("lg-sum", 3, 155), "lg-sum"),
        ((("nested", 1), 2), "nested"),
        ("5f2e8d3c0a9b41f7a2d6c8e1b3f4a5d6", "data"),
        ("f", "f"),
        (7, "(number)"),
    ],
)
def test_key_prefix(key: object, prefix: str) -> None:
    assert key_prefix(key) == prefix  # type: ignore[arg-type]


def test_run_stats_on_the_seed() -> None:
    result = replay_trace(open_trace(TRACES / "2024.2.1/seed/dump.msgpack.gz", DEFAULT_LIMITS))
    stats = run_stats(result.steps, longest=3)
    assert stats.transitions == 21 and stats.keys == 4
    assert stats.edges[("released", "waiting")] == 7
    assert stats.edges[("processing", "erred")] == 2
    assert stats.stimulus_kinds["task-finished"] == 5 and stats.stimuli_per_kind["task-finished"] == 2
    assert dict(stats.keys_per_prefix) == {"f": 1, "g": 1, "ha": 1, "hb": 1}
    assert [(c.first, c.last, c.transitions) for c in stats.cascades] == [(0, 4, 5), (10, 14, 5), (16, 20, 5)]
    waiting = next(t for t in stats.state_times if t.state == "waiting")
    assert waiting.stays == 8 and waiting.median is not None and waiting.longest is not None
    assert 0 < waiting.median <= waiting.longest


def test_state_spans_close_at_the_next_entry_of_the_key() -> None:
    result = replay_trace(open_trace(TRACES / "2024.2.1/seed/dump.msgpack.gz", DEFAULT_LIMITS))
    spans = [span for span in state_spans(result.steps) if span.key == "g"]
    assert [(span.state, span.first, span.last) for span in spans] == [
        ("waiting", 2, 6), ("processing", 6, 7), ("memory", 7, 17), ("released", 17, 18), ("waiting", 18, None),
    ]  # fmt: skip
    assert len(cascades_of(result.steps)) == len({step.group for step in result.steps})
