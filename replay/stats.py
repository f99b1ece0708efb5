"""Counts and spans of a replayed run: what ``replay stats`` and ``replay timeline`` show.

Pure core: steps in, plain records out (no rich, no click).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from replay.events import Key
from replay.keys import NO_STIMULUS
from replay.machine.steps import Step

#: A trailing timestamp (``-1795674283.7748``), counter or uuid/hex token of a stimulus id.
_STIMULUS_SUFFIX = re.compile(
    r"[-_](?:\d+(?:\.\d+)?|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})$"
)
_HEX_WORD = re.compile(r"^[a-f]+$")
_TOKEN = re.compile(r"^[a-f0-9]{32}$")


def stimulus_kind(stimulus_id: str | None) -> str:
    """A stimulus id without its timestamp or uuid suffix: ``task-finished-17956.2`` -> ``task-finished``."""
    if stimulus_id is None:
        return NO_STIMULUS
    kind = stimulus_id
    while True:
        stripped = _STIMULUS_SUFFIX.sub("", kind)
        if stripped == kind or not stripped:
            return kind
        kind = stripped


def key_prefix(key: Key) -> str:
    """The task group of a key, as dask's ``key_split`` names it.

    ``inc-<token>`` -> ``inc``, ``('x', 0)`` -> ``x``, ``sleep-0`` -> ``sleep``,
    ``finalize-hlg`` -> ``finalize-hlg``; numbers group as ``(number)``.
    """
    while isinstance(key, tuple):
        if not key:
            return "()"
        key = key[0]
    if not isinstance(key, str):
        return "(number)"
    words = key.split("-")
    first = words[0]
    if not first:
        return key
    result = first if first[0].isalpha() else first.split(",")[0].strip("_'()\"") or first
    for word in words[1:]:
        if word.isalpha() and not (len(word) == 8 and _HEX_WORD.match(word)):
            result += "-" + word
        else:
            break
    if _TOKEN.match(result):
        return "data"
    if result.startswith("<"):
        inner = result.strip("<>").split()
        result = inner[0].split(".")[-1] if inner else result
    return result


@dataclass(frozen=True, slots=True)
class Span:
    """A key in one state from entry ``first`` until entry ``last`` (exclusive), and for how long."""

    key: Key
    state: str
    first: int
    last: int | None
    seconds: float | None


def state_spans(steps: Iterable[Step]) -> list[Span]:
    """Every stay of every key in a state, in log order of leaving it (open stays last)."""
    entered: dict[Key, tuple[str, int, float | None]] = {}
    spans: list[Span] = []
    for step in steps:
        transition = step.transition
        key = transition.key
        previous = entered.get(key)
        if previous is not None:
            state, first, since = previous
            timestamp = transition.timestamp
            seconds = None if since is None or timestamp is None else timestamp - since
            spans.append(Span(key, state, first, step.index, seconds))
        entered[key] = (transition.finish, step.index, transition.timestamp)
    spans.extend(Span(key, state, first, None, None) for key, (state, first, _) in entered.items())
    return spans


@dataclass(frozen=True, slots=True)
class StateTime:
    """How long keys stayed in one state (closed stays with timestamps only)."""

    state: str
    stays: int
    median: float | None
    longest: float | None


@dataclass(frozen=True, slots=True)
class Cascade:
    """One run of the transition engine: a stimulus group of consecutive entries."""

    group: int
    stimulus_id: str | None
    first: int
    last: int
    transitions: int
    seconds: float | None


@dataclass(slots=True)
class RunStats:
    """What ``replay stats`` reports."""

    transitions: int = 0
    keys: int = 0
    edges: Counter[tuple[str, str]] = field(default_factory=Counter)
    stimulus_kinds: Counter[str] = field(default_factory=Counter)
    stimuli_per_kind: Counter[str] = field(default_factory=Counter)
    prefixes: Counter[str] = field(default_factory=Counter)
    keys_per_prefix: Counter[str] = field(default_factory=Counter)
    state_times: list[StateTime] = field(default_factory=list)
    cascades: list[Cascade] = field(default_factory=list)
    span_seconds: float | None = None


def cascades_of(steps: Sequence[Step]) -> list[Cascade]:
    """Every cascade (stimulus group) in log order."""
    result: list[Cascade] = []
    start = 0
    for position in range(1, len(steps) + 1):
        if position == len(steps) or steps[position].group != steps[start].group:
            first, last = steps[start], steps[position - 1]
            begun, ended = first.transition.timestamp, last.transition.timestamp
            seconds = None if begun is None or ended is None else ended - begun
            result.append(Cascade(first.group, first.stimulus_id, first.index, last.index,
                                  position - start, seconds))  # fmt: skip
            start = position
    return result


def run_stats(steps: Sequence[Step], longest: int = 10) -> RunStats:
    """Counts per edge, stimulus kind and task prefix; time per state; the ``longest`` cascades."""
    stats = RunStats(transitions=len(steps))
    # each stimulus id's kind and each key's prefix, worked out when first seen
    kind_of: dict[str | None, str] = {}
    prefix_of: dict[Key, str] = {}
    first_time = last_time = None
    for step in steps:
        transition = step.transition
        stats.edges[(transition.start, transition.finish)] += 1
        kind = kind_of.get(transition.stimulus_id)
        if kind is None:
            kind = kind_of[transition.stimulus_id] = stimulus_kind(transition.stimulus_id)
            stats.stimuli_per_kind[kind] += 1
        stats.stimulus_kinds[kind] += 1
        prefix = prefix_of.get(transition.key)
        if prefix is None:
            prefix = prefix_of[transition.key] = key_prefix(transition.key)
            stats.keys_per_prefix[prefix] += 1
        stats.prefixes[prefix] += 1
        if transition.timestamp is not None:
            first_time = transition.timestamp if first_time is None else first_time
            last_time = transition.timestamp
    stats.keys = len(prefix_of)
    if first_time is not None and last_time is not None:
        stats.span_seconds = last_time - first_time
    durations: dict[str, list[float]] = {}
    stays: Counter[str] = Counter()
    for span in state_spans(steps):
        stays[span.state] += 1
        if span.seconds is not None:
            durations.setdefault(span.state, []).append(span.seconds)
    stats.state_times = [
        StateTime(state, count, statistics.median(durations[state]) if state in durations else None,
                  max(durations[state]) if state in durations else None)
        for state, count in stays.most_common()
    ]  # fmt: skip
    cascades = cascades_of(steps)
    cascades.sort(key=lambda cascade: (-cascade.transitions, cascade.first))
    stats.cascades = cascades[:longest]
    return stats
