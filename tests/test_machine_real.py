"""The replay on real committed traces: exact findings on the seed bug, silence on clean runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replay.ingest import open_trace
from replay.provenance import replay_trace
from tests.conftest import TRACES, forms_of, trace_files

BUGGY = TRACES / "2024.2.1/seed"
BUGGY_VALIDATE = TRACES / "2024.2.1/seed-validate"


def _summary(path: Path, version: str | None = "2024.2.1") -> list[tuple[object, ...]]:
    """Each finding as (rule, severity, event, key, culprit, overrode); bare forms told their release."""
    result = replay_trace(open_trace(path), version)
    rows = []
    for finding in result.findings:
        culprit = finding.culprit
        rows.append(
            (
                finding.rule,
                finding.severity,
                finding.event,
                finding.key,
                None if culprit is None else (culprit.event, culprit.key, culprit.state),
                None if culprit is None or culprit.overrode is None else (culprit.overrode.event, culprit.overrode.state),
            )
        )
    return rows


@pytest.mark.parametrize("path", forms_of(BUGGY), ids=lambda p: p.name)
def test_seed_bug_validate_off(path: Path) -> None:
    assert _summary(path) == [
        ("detour-override", "warning", 17, "g", (17, "g", "waiting"), (16, "erred")),
        ("waiting-on-erred", "error", 18, "g", (17, "g", "waiting"), (16, "erred")),
        ("dependency-erred-or-forgotten", "error", 18, "g", (17, "g", "waiting"), (16, "erred")),
        ("deadlock", "error", 18, "g", (17, "g", "waiting"), (16, "erred")),
        ("deadlock", "error", 20, "ha", (17, "ha", "waiting"), None),
    ]


@pytest.mark.parametrize("path", forms_of(BUGGY_VALIDATE), ids=lambda p: p.name)
def test_seed_bug_validate_on(path: Path) -> None:
    rows = _summary(path)
    assert rows[:3] == [
        ("detour-override", "warning", 17, "g", (17, "g", "waiting"), (16, "erred")),
        ("unfinished-cascade", "error", 17, "g", (17, "g", "waiting"), (16, "erred")),
        # what the raising step would have done: the assertion of 2024.2.1 that raised
        ("waiting-on-erred", "error", None, "g", (17, "g", "waiting"), (16, "erred")),
    ]
    # ha was left processing (since entry 7) on a released g by the aborted cascade
    assert rows[3] == ("dependency-not-in-memory", "error", 17, "ha", (7, "ha", "processing"), None)
    if path.name.startswith("dump"):
        # transition_counter 19 vs 18 entries: the transition that raised was applying g: waiting
        assert rows[4] == ("counter-ahead", "error", 17, "g", (17, "g", "waiting"), (16, "erred"))
    else:
        assert len(rows) == 4


def test_the_culprit_message_names_the_override() -> None:
    result = replay_trace(open_trace(BUGGY / "dump.msgpack.gz"))
    invalid = next(f for f in result.findings if f.rule == "dependency-erred-or-forgotten")
    assert invalid.stimulus_id == "remove_b2"
    assert invalid.message == "g is waiting while its dependency f is erred"
    deadlock = [f.message for f in result.findings if f.rule == "deadlock"]
    assert deadlock == [
        "stuck for ever: g (waiting), which waits on f (erred)",
        "stuck for ever: ha (waiting), which waits on g (waiting), which waits on f (erred)",
    ]


def _verdict(path: Path) -> str:
    """The scheduler's verdict on a trace: a worker-side bug leaves the scheduler's log clean."""
    expected = path.parent / "expected.json"
    if not expected.exists():
        return "clean"
    document = json.loads(expected.read_text())
    return "clean" if document.get("side") == "worker" else str(document["verdict"])


CLEAN = [path for path in trace_files() if _verdict(path) == "clean"]


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: str(p.relative_to(TRACES)))
def test_clean_traces_report_no_error(path: Path) -> None:
    result = replay_trace(open_trace(path))
    assert [f for f in result.findings if f.severity != "info"] == []
    assert result.events > 0


@pytest.mark.parametrize("version", [None, "2022.11.0", "2024.2.1", "2026.8.0"])
def test_assumed_release_never_turns_a_clean_bare_log_red(version: str | None) -> None:
    trace = open_trace(TRACES / "2026.8.0/worker-lost/transition_log.msgpack")
    result = replay_trace(trace, version)
    assert result.errors == 0, [f.message for f in result.findings]


def test_a_release_without_queuing_rejects_queued() -> None:
    trace = open_trace(TRACES / "2026.8.0/worker-lost/transition_log.msgpack")
    result = replay_trace(trace, "2021.12.0")
    assert {f.rule for f in result.findings} == {"illegal-transition"}


def test_truncated_log_starts_mid_history_without_alarm() -> None:
    result = replay_trace(open_trace(TRACES / "2026.8.0/truncated/dump.msgpack.gz"))
    assert result.events == 1000
    first = result.steps[0].transition
    assert first.start != "released" or result.steps[0].cause is None
    assert result.findings == ()


def test_detour_steps_and_causes_on_the_seed() -> None:
    steps = replay_trace(open_trace(BUGGY / "transition_log.msgpack")).steps
    assert [(s.index, s.role, s.requested) for s in steps[16:21]] == [
        (16, "step", None),
        (17, "detour-inner", "erred"),
        (18, "detour-outer", "waiting"),
        (19, "detour-inner", "waiting"),
        (20, "detour-outer", "waiting"),
    ]
    assert steps[17].cause is not None and steps[17].cause.event == 16
    assert steps[18].override is not None and steps[18].override.event == 17
    # the queue mirror pops g: waiting after ha's detour without an entry
    assert steps[20].silent == [] and all(s.silent == [] for s in steps[:16])


def test_a_bare_log_without_its_release_assumes_no_release_assertion() -> None:
    rules = [row[0] for row in _summary(BUGGY / "transition_log.msgpack", None)]
    assert "waiting-on-erred" not in rules
    assert "dependency-erred-or-forgotten" in rules
