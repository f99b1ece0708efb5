"""Keys in every spelling become one canonical key."""

from __future__ import annotations

import pytest

from replay.ingest.keys import KeyError_, canonical_key, key_from_taskstate, parse_user_key
from replay.keys import format_key, key_to_json


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("x", "x"),
        (5, 5),
        (1.5, 1.5),
        (["t", 0], ("t", 0)),
        (("t", 0), ("t", 0)),
        ("['t', 0]", ("t", 0)),
        ("('t', 0)", ("t", 0)),
        ([["a", 1], 2], (("a", 1), 2)),
        (b"x", "b'x'"),
        ("5", "5"),
        ("(not a tuple)", "(not a tuple)"),
        ("", ""),
    ],
)
def test_canonical_key(raw: object, expected: object) -> None:
    assert canonical_key(raw) == expected


@pytest.mark.parametrize("raw", [None, True, {"a": 1}, 1j])
def test_values_that_cannot_be_keys(raw: object) -> None:
    with pytest.raises(KeyError_):
        canonical_key(raw)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<TaskState 'f' erred>", ("f", "erred")),
        ("<TaskState ('t', 0) released>", (("t", 0), "released")),
        ('<TaskState "(\'t\', 0)" released>', (("t", 0), "released")),
        ("<TaskState 5 memory>", (5, "memory")),
        ("<Task 'x y' memory>", ("x y", "memory")),
        ("<TaskState 'x' resumed(flight->waiting)>", ("x", "resumed(flight->waiting)")),
    ],
)
def test_key_from_taskstate(text: str, expected: tuple[object, str]) -> None:
    assert key_from_taskstate(text) == expected


def test_display_and_json() -> None:
    assert format_key(("x", 0)) == "('x', 0)"
    assert format_key("g") == "g"
    assert key_to_json(("x", (1, 2))) == ["x", [1, 2]]


def test_user_typed_keys() -> None:
    known = {("x", 0), 5, "5b", "g"}
    assert parse_user_key("('x', 0)", known) == ("x", 0)
    assert parse_user_key('["x", 0]', known) == ("x", 0)
    assert parse_user_key("5", known) == 5
    assert parse_user_key("g", known) == "g"
