"""One canonical form for task keys, whatever the input spelled.

The same tuple key arrives as ``['t', 0]`` (an entry after msgpack/yaml), ``"['t', 0]"``
(a map key in a dump), ``('t', 0)`` (inside a ``<TaskState ...>`` repr) and, before
distributed 2023.9, as the stringified ``"('t', 0)"``. All become the tuple ``('t', 0)``.
Ints and floats stay numbers; bytes become their repr, as dumps already spell them.
A string that merely looks like a number stays a string: ``'5'`` is ambiguous in the
stringified era, and guessing would merge two distinct keys.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

from replay.events import Key
from replay.ingest.literal import LiteralError, parse_literal

MAX_KEY_DEPTH = 16
#: A string starting with one of these may spell a tuple key (the empty string is among them).
_OPENERS = "(["
_TASKSTATE_REPR = re.compile(r"^<(?:TaskState|Task) (?P<key>.+) (?P<state>\S+)>$", re.DOTALL)


class KeyError_(ValueError):  # noqa: N801, N818 - trailing underscore: not the builtin KeyError
    """A value that cannot be a task key."""


def canonical_key(raw: Any, depth: int = 0) -> Key:
    """The canonical form of a key in any spelling, or :class:`KeyError_`."""
    kind = type(raw)
    if kind is str:
        if raw[:1] in "([" and raw[-1:] in ")]":
            return _key_from_text(raw)
        return raw  # type: ignore[no-any-return]
    if kind is int:
        return raw  # type: ignore[no-any-return]
    if kind is float:
        if math.isnan(raw):  # NaN equals nothing, itself included: it could never be looked up
            raise KeyError_("NaN cannot be a task key")
        if math.isinf(raw):  # no JSON document could name it
            raise KeyError_("an infinite float cannot be a task key")
        return raw  # type: ignore[no-any-return]
    if kind is tuple or kind is list:
        if depth < MAX_KEY_DEPTH:  # fast path: a flat key of ints and plain strings, as most are
            for part in raw:
                part_kind = type(part)
                if not (part_kind is int or (part_kind is str and part[:1] not in _OPENERS)):
                    break  # a float part is checked below, like any other
            else:
                return raw if kind is tuple else tuple(raw)
        if depth >= MAX_KEY_DEPTH:
            raise KeyError_(f"key nested deeper than {MAX_KEY_DEPTH} levels")
        return tuple(canonical_key(part, depth + 1) for part in raw)
    if kind is bytes:
        return repr(raw)
    raise KeyError_(f"a {kind.__name__} cannot be a task key")


#: The usual spelled key, ``['name', 0, 1]`` or ``('name', 0)``: read without the parser.
_SIMPLE_SPELLED_KEY = re.compile(r"([(\[])'([^'\\]*)'((?:, -?(?:0|[1-9][0-9]*))*)(,?)([)\]])")


@lru_cache(maxsize=65536)
def _key_from_text(text: str) -> Key:
    """``"('t', 0)"`` or ``"['t', 0]"`` as a tuple; any other string unchanged."""
    simple = _SIMPLE_SPELLED_KEY.fullmatch(text)
    if simple is not None:
        opener, name, numbers, comma, closer = simple.groups()
        tuple_shaped = (opener == "[" and closer == "]") or (opener == "(" and closer == ")" and (numbers or comma))
        if tuple_shaped and name[:1] not in _OPENERS:  # a name that spells a key itself is read as one
            return (name, *map(int, numbers.split(", ")[1:]))
    try:
        value = parse_literal(text, max_depth=MAX_KEY_DEPTH)
    except LiteralError:
        return text
    if isinstance(value, tuple | list):
        try:
            return canonical_key(value)
        except KeyError_:
            return text
    return text


def canonical_recommendations(raw: Any) -> dict[Key, str]:
    """A recommendations map with canonical keys and state names as strings."""
    if not isinstance(raw, dict):
        raise KeyError_(f"recommendations must be a map, not {type(raw).__name__}")
    result: dict[Key, str] = {}
    for key, value in raw.items():
        result[canonical_key(key)] = value if type(value) is str else state_name(value)
    return result


def state_name(value: Any) -> str:
    """A state name from a recommendation value (old worker logs used tuples like ``('memory', v)``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple | list) and value and isinstance(value[0], str):
        return value[0]
    raise KeyError_(f"{type(value).__name__} is not a state name")


@lru_cache(maxsize=65536)
def key_from_taskstate(text: str) -> tuple[Key, str] | None:
    """``(key, state)`` from ``<TaskState ('t', 0) memory>`` and its older spellings.

    Cached: a dump's task table names each task once per dependent and dependency.
    """
    match = _TASKSTATE_REPR.match(text)
    if match is None:
        return None
    key_text = match.group("key")
    try:
        value = parse_literal(key_text, max_depth=MAX_KEY_DEPTH)
        key = canonical_key(value)
    except (LiteralError, KeyError_):
        key = key_text
    return key, match.group("state")


def parse_user_key(text: str, known: set[Key] | None = None) -> Key:
    """A key typed on the command line: ``g``, ``5``, ``"('x', 0)"``, or JSON ``["x", 0]``."""
    if known is not None and text in known:
        return text
    candidates: list[Key] = []
    for parse in (parse_literal, json.loads):
        try:
            candidates.append(canonical_key(parse(text)))
        except (LiteralError, KeyError_, ValueError):
            continue
    for candidate in candidates:
        if known is None or candidate in known:
            return candidate
    return text
