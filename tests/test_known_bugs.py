"""Real traces of known dask scheduler bugs: replay names the culprit decided beforehand.

Each ``traces/<release>/<scenario>/expected.json`` was written from the release's source
and the raw log *before* replay was run on the trace. For a ``bug`` trace, each expected
finding must come out of every input form as a finding at the same entry, on the same
key, whose culprit is the same recommendation (emitting entry, key, state, and what it
replaced when an entry emitted that). Clean traces (the fixed releases) are checked in
test_machine_real. What a form cannot show is listed in :data:`GAPS` with the reason,
and checked to be still out of reach, so the list stays true.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from replay.ingest import open_trace
from replay.ingest.keys import canonical_key
from replay.provenance import Finding, ReplayResult, replay_trace
from tests.conftest import TRACES, forms_of

#: Forms without a task table: a bare log, pasted stories, a client story.
LOG_ONLY = ("transition_log.msgpack", "story.txt", "story_pprint.txt", "client_story.msgpack")
EVERY_FORM = (*LOG_ONLY, "dump.msgpack.gz", "dump.yaml")

_SAME_AS_VALIDATE_OFF = "as with validate off"
#: (trace directory, index of the expected finding) -> (the forms it is out of reach in, why).
GAPS: dict[tuple[str, int], tuple[tuple[str, ...], str]] = {
    ("2022.11.1/bug-7348", 0): (EVERY_FORM, "the stale task-finished that raised left no entry and nothing pending: "
                                            "a dump's counter shows a transition raised, not which"),
    ("2022.11.1/bug-7348", 1): (EVERY_FORM, "the worker's removal after the raise is ordinary transitions"),
    ("2022.11.1/bug-7348-validate", 0): (EVERY_FORM, _SAME_AS_VALIDATE_OFF),
    ("2022.11.1/bug-7348-validate", 1): (EVERY_FORM, _SAME_AS_VALIDATE_OFF),
    ("2024.6.0/bug-8703", 1): (EVERY_FORM, "the queue-slot pick when a worker joins is no recommendation, and raised"),
    ("2024.6.0/bug-8703", 2): (EVERY_FORM, "a second raise, in the cleanup, with nothing pending"),
    ("2024.6.0/bug-8703-validate", 1): (EVERY_FORM, _SAME_AS_VALIDATE_OFF),
    ("2022.12.0/bug-7402", 2): (LOG_ONLY, "the leaked task shows only in a dump's task table"),
    ("2022.12.0/bug-7402", 3): (LOG_ONLY, "the leaked task shows only in a dump's task table"),
    ("2022.12.0/bug-7402-validate", 2): (LOG_ONLY, _SAME_AS_VALIDATE_OFF),
    ("2022.12.0/bug-7402-validate", 3): (LOG_ONLY, _SAME_AS_VALIDATE_OFF),
    ("2025.4.1/bug-9068", 1): (LOG_ONLY, "the state the raise left behind shows only in a dump's task table"),
    ("2022.12.0/bug-7354-retry", 0): (LOG_ONLY, "y's dependency on x2 is in no recommendation: only a dump's table has it"),
    ("2022.12.0/bug-7354-retry", 1): (EVERY_FORM, "replay places a deadlock at the entry that left the key waiting (11), "
                                                  "the capture at the next one (12)"),
    ("2022.12.0/bug-7354-retry-validate", 0): (LOG_ONLY, "y's dependency on x2 is in no recommendation"),
    ("2026.8.0/bug-7354-retry", 0): (LOG_ONLY, "y's dependency on x2 is in no recommendation"),
    ("2026.8.0/bug-7354-retry", 1): (EVERY_FORM, "replay places a deadlock at the entry that left the key waiting"),
    ("2026.8.0/bug-7354-retry-validate", 0): (LOG_ONLY, "y's dependency on x2 is in no recommendation"),
    ("2025.4.1/bug-9067", 0): (LOG_ONLY, "the worker's removal left no entry: only a dump says where the actor runs"),
    ("2025.4.1/bug-9067-validate", 0): (LOG_ONLY, _SAME_AS_VALIDATE_OFF),
    ("2024.7.0/bug-8764", 0): (LOG_ONLY, "the task was created again without an entry: only a dump's table has it"),
    ("2024.7.0/bug-8764-validate", 0): (LOG_ONLY, _SAME_AS_VALIDATE_OFF),
}  # fmt: skip
#: Bug traces whose log-only forms hold no evidence at all, and why (every other form reports an error).
SILENT_LOGS = {
    "2022.11.1/bug-7348": "the raise left no entry; only a dump's counter shows it",
    "2022.11.1/bug-7348-validate": "the raise left no entry; only a dump's counter shows it",
    "2022.12.0/bug-7354-retry": "without y's dependency on x2, y waiting on the running x1 is normal",
    "2026.8.0/bug-7354-retry": "without y's dependency on x2, y waiting on the running x1 is normal",
    "2025.4.1/bug-9067": "the worker's removal left no entry, and the log does not say which task is an actor",
    "2025.4.1/bug-9067-validate": "the worker's removal left no entry, and the log does not say which task is an actor",
    "2024.7.0/bug-8764": "the forgotten task was created again without an entry",
    "2024.7.0/bug-8764-validate": "the forgotten task was created again without an entry",
}


def _bug_traces() -> list[tuple[str, dict[str, Any]]]:
    traces = []
    for expected in sorted(TRACES.glob("*/*/expected.json")):
        document = json.loads(expected.read_text())
        if document["verdict"] == "bug" and document.get("side", "scheduler") == "scheduler":
            traces.append((str(expected.parent.relative_to(TRACES)), document))
    return traces


BUG_TRACES = _bug_traces()
CASES = [
    (directory, index, path.name)
    for directory, document in BUG_TRACES
    for index in range(len(document["findings"]))
    for path in forms_of(TRACES / directory)
]


def _matches(finding: Finding, expected: dict[str, Any]) -> bool:
    culprit, wanted = finding.culprit, expected["culprit"]
    if finding.event != expected["event"] or finding.key != canonical_key(expected["key"]):
        return False
    if wanted is None or culprit is None:  # a state no recommendation made: none may be named
        return wanted is None and culprit is None
    if (culprit.event, culprit.key, culprit.state) != (wanted["event"], canonical_key(wanted["key"]), wanted["state"]):
        return False
    overrode = expected.get("overrode")
    if overrode is None or overrode["event"] is None:
        return True  # what a stimulus's own recommendation said is never logged
    return culprit.overrode is not None and (culprit.overrode.event, culprit.overrode.state) == (
        overrode["event"], overrode["state"])  # fmt: skip


_RESULTS: dict[Path, ReplayResult] = {}


def _replayed(path: Path, release: str) -> ReplayResult:
    if path not in _RESULTS:
        _RESULTS[path] = replay_trace(open_trace(path), release)
    return _RESULTS[path]


def test_every_bug_trace_decided_its_culprits_before_replay() -> None:
    assert len(BUG_TRACES) >= 10
    for _, document in BUG_TRACES:
        assert document["decided_before_replay"] is True
        assert document["findings"]


@pytest.mark.parametrize(("directory", "index", "form"), CASES, ids=str)
def test_replay_names_the_expected_culprit(directory: str, index: int, form: str) -> None:
    document = dict(BUG_TRACES)[directory]
    expected = document["findings"][index]
    # a bare log or a story does not say its release: tell it, as a user would with --distributed-version
    result = _replayed(TRACES / directory / form, document["release"])
    found = any(_matches(finding, expected) for finding in result.findings)
    gap = GAPS.get((directory, index))
    if gap is not None and form in gap[0]:
        assert not found, f"now found, remove it from GAPS: {gap[1]}"
    else:
        assert found, [f"{f.rule}@{f.event} {f.key!r} <- {f.culprit}" for f in result.findings]


@pytest.mark.parametrize(
    ("directory", "form"),
    [(directory, path.name) for directory, _ in BUG_TRACES for path in forms_of(TRACES / directory)],
    ids=str,
)
def test_a_bug_trace_is_never_clean(directory: str, form: str) -> None:
    result = _replayed(TRACES / directory / form, dict(BUG_TRACES)[directory]["release"])
    silent = directory in SILENT_LOGS and form in LOG_ONLY
    assert (result.errors == 0) == silent, SILENT_LOGS.get(directory)
