"""Story text pasted from a terminal or a CI log.

Handles ``repr``/``pprint`` of a story, ``Transition(key=..., ...)`` reprs, the
``deque([...], maxlen=N)`` wrapper, the 2024.3 validation ``AssertionError`` tuple,
pytest ``E   `` prefixes, logging and ISO-timestamp prefixes and GitHub web-UI link
markup inside numbers. Nothing is evaluated: bracket groups are found with a small
scanner and each candidate entry is parsed on its own by :mod:`replay.ingest.literal`,
so one truncated line costs one entry, not the whole paste.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from replay.ingest.limits import DEFAULT_MAX_DEPTH
from replay.ingest.literal import LiteralError, parse_literal

_PREFIXES = (
    re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?\s"),  # GitHub Actions raw log
    re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - [\w.]+ - [A-Z]+ - "),  # logging
    re.compile(r"^E(?:\s{2,}|$)"),  # pytest failure lines
)
_LINK = re.compile(r"\[(\d+)\]\(https?://[^)\s]*\)")
_SPECIAL = re.compile(r"""[\[\](){}'",\\\n]""")
_IDENTIFIER_BEFORE = re.compile(r"([A-Za-z_]\w*)$")
#: How far back an identifier before a bracket is looked for (``Transition``, ``deque``).
_LOOKBACK = 64
_OPENER = re.compile(r"[\[({]")
_IN_GROUP = re.compile(r"""[\[\](){}'"\\\n]""")
#: No transition entry is shorter than this (``(1,'a','b',{},1)``): shorter groups are skipped unparsed.
MIN_ENTRY_CHARS = 12
#: Python's parser refuses 200 nested brackets: deeper text can never parse, whatever --max-depth says.
PARSER_MAX_DEPTH = 190
_OPEN = {"(": ")", "[": "]", "{": "}"}
MAX_ENTRY_CHARS = 1_000_000


def clean_text(text: str) -> str:
    """Remove CI-log and logging prefixes and web-UI link markup, line by line."""
    lines = []
    for line in text.splitlines():
        stripped = line.rstrip("\r")
        for prefix in _PREFIXES:
            stripped = prefix.sub("", stripped, count=1)
        lines.append(_LINK.sub(r"\1", stripped))
    return "\n".join(lines)


class TextLimitError(ValueError):
    """The text is hostile to scan (nested deeper than the limit); ``offset`` is where."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def _outside_strings(text: str, pattern: re.Pattern[str], start: int = 0) -> Iterator[tuple[int, str]]:
    """Positions and characters matched by ``pattern`` that are not inside a quoted string.

    ``pattern`` must match quotes, backslashes and newlines too: they drive the string
    state. Reprs never hold a raw newline inside a string, so one ends a cut-off string.
    """
    quote = ""
    skip_to = -1
    for match in pattern.finditer(text, start):
        where = match.start()
        if where < skip_to:
            continue
        char = match.group()
        if quote:
            if char == "\\":
                skip_to = where + 2
            elif char in (quote, "\n"):
                quote = ""
        elif char in "'\"":
            quote = char
        else:
            yield where, char


def _top_groups(text: str, max_depth: int) -> Iterator[tuple[int, int]]:
    """Spans of the bracket groups at depth 0, each with the identifier right before it.

    Outside a group only an opening bracket matters, so the scan jumps from one to the
    next (in C); quotes are tracked only inside brackets: prose around a paste (``don't``)
    has unbalanced apostrophes. Nesting deeper than ``max_depth`` is refused at once.
    """
    position = 0
    while True:
        opener = _OPENER.search(text, position)
        if opener is None:
            return
        begin = opener.start()
        before = _IDENTIFIER_BEFORE.search(text, max(0, begin - _LOOKBACK), begin)
        start = before.start() if before else begin
        depth = 0
        for where, char in _outside_strings(text, _IN_GROUP, begin):
            if char in _OPEN:
                depth += 1
                if depth > max_depth:
                    raise TextLimitError(f"text nested deeper than {max_depth} levels", where)
            elif char in ")]}":
                depth -= 1
                if depth == 0:
                    yield start, where + 1
                    position = where + 1
                    break
        else:
            return  # an unclosed group runs to the end (the line-by-line pass may recover it)


def _elements(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the elements of a group's inside, split at its depth-0 commas."""
    depth = 0
    start = 0
    for where, char in _outside_strings(text, _SPECIAL):
        if char in _OPEN:
            depth += 1
        elif char in ")]}":
            if depth > 0:
                depth -= 1
        elif char == "," and depth == 0:
            yield start, where
            start = where + 1
    yield start, len(text)


@dataclass
class TextEntries:
    """Raw entries found in a text, in order of appearance, and how many fragments failed."""

    entries: list[tuple[Any, ...]] = field(default_factory=list)
    skipped: int = 0
    max_depth: int = DEFAULT_MAX_DEPTH

    def add_group(self, text: str) -> None:
        stripped = text.strip()
        if len(stripped) < MIN_ENTRY_CHARS:
            return
        if len(stripped) <= MAX_ENTRY_CHARS:
            try:
                value = parse_literal(stripped, max_depth=self.max_depth)
            except LiteralError:
                pass
            else:
                self._add_value(value)
                return
        self._split(stripped)

    def _split(self, text: str) -> None:
        opening = text.find("(")
        bracket = text.find("[")
        if bracket != -1 and (opening == -1 or bracket < opening):
            opening = bracket
        if opening == -1 or text[-1:] not in ")]":
            if "Transition(" in text or text.startswith("("):
                self.skipped += 1
            return
        inner = text[opening + 1 : -1]
        parts = list(_elements(inner))
        if len(parts) <= 1 and text.startswith(("(", "Transition(")):
            self.skipped += 1  # a single entry that does not parse (a truncated line)
            return
        for begin, end in parts:
            self.add_group(inner[begin:end])

    def _add_value(self, value: Any) -> None:
        if looks_like_entry(value):
            self.entries.append(value)
        elif isinstance(value, list | tuple):
            for item in value:
                self._add_value(item)


def looks_like_entry(value: Any) -> bool:
    """A scheduler entry (5 or 6 fields) or a Client.story entry with its source first."""
    if not isinstance(value, tuple | list) or len(value) not in (5, 6, 7):
        return False
    body = value[1:] if len(value) == 7 else value
    if len(value) == 7 and value[0] != "scheduler":
        return False  # a worker 7-tuple, or a worker entry of a Client.story
    return isinstance(body[1], str) and isinstance(body[2], str) and isinstance(body[3], dict)


def _line_entry(line: str) -> str | None:
    """``(?:Transition)?\\(.*\\)`` of a line, found without a backtracking regex (linear time)."""
    opening = line.find("(")
    closing = line.rfind(")")
    if opening == -1 or closing < opening:
        return None
    if line[max(0, opening - 10) : opening] == "Transition":
        opening -= 10
    return line[opening : closing + 1]


def entries_from_text(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> TextEntries:
    """Every entry in a pasted text, in order of appearance.

    Bracket groups first; where a cut-off line unbalances them, one entry a line
    (``Transition(...)`` reprs and pprint of a deque hold one entry a line).
    """
    cleaned = clean_text(text)
    found = TextEntries(max_depth=max_depth)
    for begin, end in _top_groups(cleaned, min(max_depth, PARSER_MAX_DEPTH)):
        found.add_group(cleaned[begin:end])
    if found.skipped or not found.entries:
        by_line = TextEntries(max_depth=max_depth)
        for line in cleaned.splitlines():
            candidate = line.strip().removeprefix("deque(").lstrip("[")
            if len(candidate) > MAX_ENTRY_CHARS:
                continue  # no entry line is that long
            entry = _line_entry(candidate)
            if entry is not None:
                by_line.add_group(entry)
            elif candidate.startswith(("(", "Transition(")):
                by_line.skipped += 1
        if len(by_line.entries) > len(found.entries):
            return by_line
    return found
