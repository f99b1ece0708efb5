"""Parse Python literal text (reprs of stories, keys) without evaluating anything.

``ast.parse`` builds a syntax tree; this module walks it with a whitelist: constants,
tuples, lists, dicts, sets, negative numbers, and the three calls that real pasted
stories contain: ``Transition(...)`` (turned into a 6-tuple in field order),
``deque([...], maxlen=N)`` (turned into its list) and ``set()``. Anything else is
rejected with :class:`LiteralError`. Depth is checked on the text before parsing,
because CPython's parser itself recurses.
"""

from __future__ import annotations

import ast
import warnings
from typing import Any

from replay.events import SchedulerTransition
from replay.ingest.limits import DEFAULT_MAX_DEPTH

TRANSITION_FIELDS = SchedulerTransition._fields


class LiteralError(ValueError):
    """The text is not a literal replay accepts."""


def bracket_depth(text: str) -> int:
    """The deepest bracket nesting in ``text``, ignoring brackets inside quoted strings."""
    depth = deepest = 0
    quote = ""
    escaped = False
    for char in text:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def parse_literal(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The Python value spelled by ``text``, or :class:`LiteralError`."""
    if bracket_depth(text) > max_depth:
        raise LiteralError(f"nested deeper than {max_depth} levels")
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" in pasted text: not ours to print
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        raise LiteralError(f"not a literal: {type(error).__name__}") from None
    return literal_value(tree.body)


def literal_value(node: ast.AST) -> Any:
    """Convert one whitelisted syntax node to its value."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(literal_value(item) for item in node.elts)
    if isinstance(node, ast.List):
        return [literal_value(item) for item in node.elts]
    if isinstance(node, ast.Set):
        return {literal_value(item) for item in node.elts}
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise LiteralError("dict unpacking is not a literal")
        return {literal_value(key): literal_value(value) for key, value in zip(node.keys, node.values)}  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = literal_value(node.operand)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
        raise LiteralError("sign on a non-number")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _call_value(node.func.id, node)
    raise LiteralError(f"{type(node).__name__} is not allowed")


def _call_value(name: str, node: ast.Call) -> Any:
    if name == "Transition":
        values: dict[str, Any] = dict(zip(TRANSITION_FIELDS, (literal_value(a) for a in node.args)))
        for keyword in node.keywords:
            if keyword.arg not in TRANSITION_FIELDS:
                raise LiteralError(f"Transition has no field {keyword.arg!r}")
            values[keyword.arg] = literal_value(keyword.value)
        missing = [name for name in TRANSITION_FIELDS if name not in values]
        if missing:
            raise LiteralError(f"Transition lacks {', '.join(missing)}")
        return tuple(values[name] for name in TRANSITION_FIELDS)
    if name == "deque" and len(node.args) == 1:
        return list(literal_value(node.args[0]))
    if name == "set" and not node.args and not node.keywords:
        return set()
    raise LiteralError(f"call to {name} is not allowed")
