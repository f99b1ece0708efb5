"""distributed release numbers: parse and compare ``2024.2.1``-style versions."""

from __future__ import annotations

import re

Release = tuple[int, ...]

_NUMBER = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")

#: Keys stopped being stringified in this release (dask/distributed 22eb33a2c).
NATIVE_KEYS_SINCE: Release = (2023, 9, 0)


def parse_release(text: str | None) -> Release | None:
    """``(2024, 2, 1)`` from ``'2024.2.1'``, ``'2024.02.1'`` or ``'2024.2.1+12.gabc'``; else None."""
    if not text:
        return None
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    return tuple(int(part) for part in match.groups(default="0"))


def format_release(release: Release) -> str:
    """``'2024.2.1'``."""
    return ".".join(str(part) for part in release)
