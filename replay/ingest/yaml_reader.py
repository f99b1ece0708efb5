"""YAML cluster dumps, loaded safely.

Only the safe loader is used (never ``yaml.load`` with a full loader). The one python
tag real dumps carry, ``!!python/tuple`` (2021.11.2), is read as a plain sequence;
any other python tag is refused. Aliases could expand exponentially ("billion
laughs"), so a document that has any is composed by a loader that counts what every
alias expands to and stops past a budget.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from replay.errors import LimitExceededError, UnreadableInputError
from replay.ingest.limits import Limits, read_text_bytes

_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ANCHOR_OR_ALIAS = re.compile(rb"(?:^|[\s\[{,:-])[&*][^\s,\[\]{}]+", re.MULTILINE)
MAX_ALIAS_EXPANSION = 1_000_000
_TUPLE_TAG = "tag:yaml.org,2002:python/tuple"


def _construct_tuple(loader: yaml.SafeLoader, node: yaml.Node) -> list[Any]:
    assert isinstance(node, yaml.SequenceNode)
    return loader.construct_sequence(node, deep=True)


class _FastLoader(_FAST_LOADER):  # type: ignore[misc, valid-type]
    """The C safe loader (when built) plus the harmless tuple tag."""


class _BoundedLoader(yaml.SafeLoader):
    """The pure-Python safe loader, counting what aliases expand to."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.expanded = 0
        self.sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
            if anchor in self.anchors:
                self.expanded += self._size(self.anchors[anchor])
                if self.expanded > MAX_ALIAS_EXPANSION:
                    raise LimitExceededError("", "YAML aliases expand to more than a million nodes")
        return super().compose_node(parent, index)  # type: ignore[arg-type]

    def _size(self, node: yaml.Node) -> int:
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._size(key) + self._size(value) for key, value in node.value)
        self.sizes[id(node)] = size
        return size


for _loader in (_FastLoader, _BoundedLoader):
    _loader.add_constructor(_TUPLE_TAG, _construct_tuple)


def load_yaml(path: Path, limits: Limits) -> Any:
    """The document of a YAML dump, loaded safely within ``limits``."""
    data = read_text_bytes(path, limits, "YAML")  # YAML is text, and its objects cost ~20x its bytes
    loader = (_BoundedLoader if _ANCHOR_OR_ALIAS.search(data) else _FastLoader)(data)
    try:
        return loader.get_single_data()
    except LimitExceededError as error:
        raise LimitExceededError(str(path), error.reason) from None
    except yaml.constructor.ConstructorError as error:
        tag = getattr(error, "problem", "") or ""
        found = re.search(r"tag:yaml.org,2002:python/[^\s'\"]+|![^\s'\"]+", str(tag))
        what = found.group().replace("tag:yaml.org,2002:", "!!") if found else "an unsupported tag"
        raise UnreadableInputError(str(path), f"YAML with {what}: replay never constructs python objects") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise UnreadableInputError(str(path), f"invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise LimitExceededError(str(path), "YAML nested too deeply") from None
    finally:
        loader.dispose()
