"""Pasted story text as it arrives from CI logs: wrappers and prefixes are stripped, nothing evaluated."""

from __future__ import annotations

from pathlib import Path

from replay.ingest import open_trace
from replay.ingest.text import clean_text, entries_from_text
from tests.conftest import TRACES

SEED = TRACES / "2024.2.1/seed"


def _reference() -> tuple[object, ...]:
    return open_trace(SEED / "transition_log.msgpack").materialise()


def test_pytest_and_logging_prefixes(tmp_path: Path) -> None:
    story = (SEED / "story_pprint.txt").read_text().splitlines()
    wrapped = ["2024-03-08 19:16:33,123 - distributed.scheduler - ERROR - Error transitioning 'g' from 'released' to 'waiting'",
               "Traceback (most recent call last):", "  don't parse this line"]  # fmt: skip
    wrapped += [f"E       {line}" for line in story]
    path = tmp_path / "ci.log"
    path.write_text("\n".join(wrapped))
    assert open_trace(path).materialise() == _reference()


def test_assertion_payload_with_deque_and_taskstate_strings(tmp_path: Path) -> None:
    deque_repr = (SEED / "story.txt").read_text().strip()
    assert deque_repr.startswith("deque([Transition(")
    text = f'AssertionError: ("<TaskState \'g\' waiting>", "<TaskState \'f\' erred>", {deque_repr})'
    path = tmp_path / "assertion.txt"
    path.write_text(text)
    assert open_trace(path).materialise() == _reference()


def test_web_ui_link_markup_inside_numbers() -> None:
    cleaned = clean_text("('x', 'released', 'waiting', {}, 'update-graph-1', 1650556513.[2027](https://github.com/dask/distributed/runs/6))")
    assert "1650556513.2027" in cleaned
    found = entries_from_text(cleaned)
    assert found.entries == [("x", "released", "waiting", {}, "update-graph-1", 1650556513.2027)]


def test_truncated_line_costs_one_entry() -> None:
    text = "[('a', 'released', 'waiting', {}, 's', 1.0),\n ('b', 'released', 'wai…\n ('c', 'released', 'waiting', {}, 's', 2.0)]"
    found = entries_from_text(text)
    assert [entry[0] for entry in found.entries] == ["a", "c"]
    assert found.skipped == 1


def test_calls_other_than_the_whitelist_are_not_evaluated() -> None:
    text = "[('a', 'released', 'waiting', {}, 's', 1.0), __import__('os').system('echo pwned')]"
    found = entries_from_text(text)
    assert [entry[0] for entry in found.entries] == ["a"]
