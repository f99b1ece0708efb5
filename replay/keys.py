"""How a canonical task key (and a stimulus id) is shown to people and written as JSON.

The bottom layer: every other layer (ingest, the machine, provenance, diff, the views)
shows keys the same way, so these live below all of them.
"""

from __future__ import annotations

from typing import Any

from replay.events import Key


def format_key(key: Key) -> str:
    """How a key is shown and typed: strings bare, anything else as its repr."""
    return key if isinstance(key, str) else repr(key)


def key_to_json(key: Key) -> Any:
    """A key as JSON: string, number, or array for a tuple."""
    if isinstance(key, tuple):
        return [key_to_json(part) for part in key]
    return key


#: How the missing stimulus id of a log before 2022.4.2 is shown (and typed, to select it).
NO_STIMULUS = "(no stimulus id)"


def stimulus_name(stimulus_id: str | None) -> str:
    """A stimulus id as shown: itself, or :data:`NO_STIMULUS`."""
    return NO_STIMULUS if stimulus_id is None else stimulus_id
