"""Entries kept as they are (the fast path) read exactly as the careful path reads them.

``scheduler_transitions`` keeps entries already in their exact form and repairs spelled
keys in one loop; everything else is made a row and validated by pydantic. Both must
give the same records (same key types: ``True`` is refused, never taken for ``1``) and
the same error for the same entry.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from replay.errors import UnreadableInputError
from replay.ingest.records import BATCH_SIZE, scheduler_entry_row, scheduler_transitions, validate_rows

PATH = "entries.msgpack"

_key_parts = st.one_of(
    st.sampled_from(["x", "y-1", "(", "[a", "('z', 1)", ""]),
    st.integers(-2, 3),
    st.sampled_from([0.0, 1.0, 2.5, float("nan")]),
    st.booleans(),
)
_keys = st.one_of(
    _key_parts,
    st.tuples(st.sampled_from(["x", "y"]), _key_parts),
    st.tuples(st.sampled_from(["x", "y"]), _key_parts, _key_parts),
    st.tuples(st.just("x"), st.tuples(st.just("a"), st.integers(0, 2))),
    st.sampled_from(["['x', 0]", "('x', 1)", "('x',)", "('x')", "['x', 0)", "['[y', 2]", "('x', 01)"]),
)
_states = st.sampled_from(["released", "waiting", "processing", "memory", "zz"])
_entries = st.tuples(
    _keys,
    _states,
    st.one_of(_states, st.integers(0, 1)),
    st.dictionaries(_keys, st.one_of(_states, st.tuples(st.just("memory"), st.integers(0, 1))), max_size=3),
    st.one_of(st.none(), st.just("stim")),
    st.one_of(st.none(), st.just(1.5), st.just(2)),
)


def careful(entries: list[Any]) -> list[Any] | str:
    """Every entry the slow way, one at a time: the records, or the first error."""
    records = []
    try:
        for index, raw in enumerate(entries):
            records.extend(validate_rows([scheduler_entry_row(raw, index, PATH)], index, PATH))
    except UnreadableInputError as error:
        return str(error)
    return records


def fast(entries: list[Any]) -> list[Any] | str:
    try:
        return list(scheduler_transitions(entries, PATH))
    except UnreadableInputError as error:
        return str(error)


@settings(max_examples=400, deadline=None)
@given(st.lists(_entries, max_size=12))
def test_fast_path_reads_as_the_careful_path(entries: list[Any]) -> None:
    assert repr(fast(entries)) == repr(careful(entries))


def test_a_bool_key_is_refused_after_its_int_twin() -> None:
    twin = ("x", 2, 5)  # neither part equal to 0 or 1: remembered as canonical
    entries = [(("x", 2, 5), "released", "waiting", {}, "s", 1.0), (("x", 2, True), "released", "waiting", {}, "s", 1.0)]
    assert fast(entries[:1])[0].key == twin  # type: ignore[index]
    assert fast(entries) == careful(entries)
    assert "bool cannot be a task key" in str(fast(entries))
    twin_of_true = [((("x", 1), "released", "waiting", {}, "s", 1.0))] * 2 + [(("x", True), "released", "waiting", {}, "s", 1.0)]
    assert "bool cannot be a task key" in str(fast(twin_of_true))
    in_recommendations = [(("x", 1), "released", "waiting", {("y", 0): "waiting"}, "s", 1.0)] * 2 + [
        (("x", 1), "waiting", "processing", {("y", False): "waiting"}, "s", 1.0)
    ]
    assert fast(in_recommendations) == careful(in_recommendations)
    assert "entry 2: a bool cannot be a task key" in str(fast(in_recommendations))


def test_an_invalid_entry_past_the_first_batch_is_named() -> None:
    good = ("x", "released", "waiting", {"y": "waiting"}, "s", 1.0)
    entries = [good] * (BATCH_SIZE + 5) + [(None, "released", "waiting", {}, "s", 1.0)]
    assert fast(entries) == f"{PATH}: entry {BATCH_SIZE + 5}: a NoneType cannot be a task key"


def test_spelled_keys_are_repaired_in_the_fast_loop() -> None:
    entries = [(("x", 3), "released", "waiting", {"['x', 2]": "waiting", "('y', 0)": "waiting"}, "s", 1.0)]
    (record,) = fast(entries)
    assert record.recommendations == {("x", 2): "waiting", ("y", 0): "waiting"}
