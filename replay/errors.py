"""The few errors replay raises; the CLI maps each to an exit code."""

from __future__ import annotations


class ReplayError(Exception):
    """Base of every error replay reports to the user as one line."""

    exit_code = 3


class UnreadableInputError(ReplayError):
    """The input cannot be read: corrupt, truncated, hostile or of an unknown format."""

    def __init__(self, path: str, reason: str, *, offset: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.offset = offset
        where = f" (at {offset})" if offset is not None else ""
        super().__init__(f"{path}: {reason}{where}")


class LimitExceededError(UnreadableInputError):
    """The input exceeds a configured safety limit (size, nesting, text length)."""


class UsageError(ReplayError):
    """The command was called wrongly (unknown key, ambiguous stimulus prefix, ...)."""

    exit_code = 2


class OutputError(ReplayError):
    """A file replay was asked to write cannot be written (its directory is missing, ...)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}")
