"""Where two runs of the same scenario part ways: normalise, align, explain.

Two captures of one scenario never match byte for byte: timestamps, the numeric or
uuid parts of stimulus ids, worker addresses and ports, and the tokens of keys differ.
:class:`Normaliser` maps each side onto names both sides share, then :func:`align`
pairs the two logs stimulus by stimulus and, inside each pair of stimuli, entry by
entry, with :class:`difflib.SequenceMatcher` on normalised signatures.

A difference in the alignment is not always a divergence: the order in which workers
finish tasks is scheduling nondeterminism. When every key went through the same
states on both sides, ends in the same state, and the replay finds the same problems,
the runs are **equivalent up to scheduling order** (``reordered``); only ``strict``
comparison calls that a divergence. The first divergence is the first aligned
difference that touches a key whose history or findings differ (as the entry's key or
as a key it recommends), so an early harmless reordering does not hide the real one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Literal

from replay.events import Key, SchedulerTransition, Trace
from replay.ingest.native import transition_document
from replay.keys import key_to_json
from replay.provenance import Finding, ReplayResult, replay_trace

Side = Literal["a", "b"]
RowKind = Literal["equal", "changed", "a-only", "b-only"]
Verdict = Literal["identical", "reordered", "truncated", "diverge"]

ADDRESS = re.compile(r"\b(?:tcp|tls|inproc|ucx|ws|wss)://(?:\[[0-9a-fA-F:.]+\]|[\w.\-]+)(?::\d+)?(?:/\w+)*")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\b[0-9a-f]{32}\b")
NUMBER = re.compile(r"\d+\.\d+(?:[eE][-+]?\d+)?|\d{6,}")
KEY_TOKEN = re.compile(
    r"^(?P<prefix>.+)-(?P<token>[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)

#: Signature of one entry after normalisation: key, start, finish, recommendations
#: (a frozenset: YAML dumps sort maps, so order must never count), stimulus.
EntrySignature = tuple[Key, str, str, frozenset[tuple[Key, str]], str]


# --------------------------------------------------------------------------- normalisation


def addresses_in(text: str) -> list[str]:
    return ADDRESS.findall(text)


def token_of(part: str) -> tuple[str, str] | None:
    """``(prefix, token)`` of ``inc-<32 hex>`` or ``inc-<uuid>``, else None."""
    match = KEY_TOKEN.match(part)
    return None if match is None else (match.group("prefix"), match.group("token"))


def _key_strings(key: Key) -> Iterable[str]:
    if isinstance(key, str):
        yield key
    elif isinstance(key, tuple):
        for part in key:
            yield from _key_strings(part)


@dataclass
class _Appearances:
    """What one side names that may differ between runs, in order of first appearance."""

    addresses: dict[str, None] = field(default_factory=dict)
    tokens: dict[str, dict[str, None]] = field(default_factory=dict)  # prefix -> tokens

    def scan_text(self, text: str) -> None:
        for address in addresses_in(text):
            self.addresses.setdefault(address, None)

    def scan_key(self, key: Key) -> None:
        for text in _key_strings(key):
            found = token_of(text)
            if found is not None:
                self.tokens.setdefault(found[0], {}).setdefault(found[1], None)
            if "://" in text:
                self.scan_text(text)


def scan(entries: Iterable[SchedulerTransition]) -> _Appearances:
    """Addresses and key tokens of one side, in order of first appearance."""
    seen = _Appearances()
    stimuli: set[str | None] = set()
    keys: set[Key] = set()
    for entry in entries:
        if entry.stimulus_id not in stimuli:
            stimuli.add(entry.stimulus_id)
            if entry.stimulus_id:
                seen.scan_text(entry.stimulus_id)
        for key in (entry.key, *entry.recommendations):
            if key not in keys:
                keys.add(key)
                seen.scan_key(key)
    return seen


class Normaliser:
    """Maps one side's stimulus ids and keys onto names shared by both sides.

    Addresses become ``<worker-N>``, numbered in order of first appearance on side A; an
    address seen on one side only takes the number of the address in the same rank among
    the other side's one-sided addresses. Key tokens seen on both sides are kept (same
    graph); a one-sided token becomes the token of the same rank and prefix on the other
    side, so ``inc-<token of run 2>`` reads as ``inc-<token of run 1>``.
    """

    def __init__(self, addresses: dict[str, str], tokens: dict[str, str]) -> None:
        self.addresses = addresses
        self.tokens = tokens
        self.stimulus = lru_cache(maxsize=None)(self._stimulus)
        self.key = lru_cache(maxsize=None)(self._key)

    @classmethod
    def pair(cls, a: Sequence[SchedulerTransition], b: Sequence[SchedulerTransition]) -> tuple[Normaliser, Normaliser]:
        """One normaliser per side, consistent with each other."""
        seen_a, seen_b = scan(a), scan(b)
        names = {address: f"<worker-{number}>" for number, address in enumerate(seen_a.addresses)}
        only_a = [address for address in seen_a.addresses if address not in seen_b.addresses]
        only_b = [address for address in seen_b.addresses if address not in seen_a.addresses]
        names_b = {address: names[address] for address in seen_b.addresses if address in names}
        for rank, address in enumerate(only_b):
            names_b[address] = names[only_a[rank]] if rank < len(only_a) else f"<worker-{len(names) + rank}>"
        tokens_b: dict[str, str] = {}
        for prefix, tokens in seen_b.tokens.items():
            theirs = seen_a.tokens.get(prefix, {})
            unmatched_a = [token for token in theirs if token not in tokens]
            unmatched_b = [token for token in tokens if token not in theirs]
            for rank, token in enumerate(unmatched_b):
                if rank < len(unmatched_a):
                    tokens_b[token] = unmatched_a[rank]
        return cls(names, {}), cls(names_b, tokens_b)

    @classmethod
    def single(cls, entries: Iterable[SchedulerTransition], keys: Iterable[Key] = ()) -> Normaliser:
        """One run's names on its own (``replay scan``): addresses become ``<worker-N>`` and key
        tokens ``<token-N>`` (per prefix), numbered in order of first appearance."""
        seen = scan(entries)
        for key in keys:
            seen.scan_key(key)
        addresses = {address: f"<worker-{number}>" for number, address in enumerate(seen.addresses)}
        tokens = {token: f"<token-{number}>" for named in seen.tokens.values() for number, token in enumerate(named)}
        return cls(addresses, tokens)

    def _stimulus(self, stimulus_id: str | None) -> str:
        """``task-finished-1795669430.36`` -> ``task-finished-*``; addresses renamed."""
        if stimulus_id is None:
            return "<none>"
        text = ADDRESS.sub(lambda match: self.addresses.get(match.group(0), "<worker-?>"), stimulus_id)
        text = UUID.sub("*", text)
        return NUMBER.sub("*", text)

    def _key(self, key: Key) -> Key:
        if isinstance(key, tuple):
            return tuple(self.key(part) for part in key)
        if not isinstance(key, str):
            return key
        if self.tokens:
            found = token_of(key)
            if found is not None and found[1] in self.tokens:
                key = f"{found[0]}-{self.tokens[found[1]]}"
        if "://" in key:
            key = ADDRESS.sub(lambda match: self.addresses.get(match.group(0), "<worker-?>"), key)
        return key

    def signature(self, entry: SchedulerTransition) -> EntrySignature:
        recommendations = frozenset((self.key(key), state) for key, state in entry.recommendations.items())
        return (
            self.key(entry.key),
            entry.start,
            entry.finish,
            recommendations,
            self.stimulus(entry.stimulus_id),
        )


# --------------------------------------------------------------------------- alignment


@dataclass(frozen=True, slots=True)
class Stimulus:
    """A run of consecutive entries under one stimulus id (``stop`` exclusive)."""

    normalised: str
    start: int
    stop: int


@dataclass(frozen=True, slots=True)
class AlignedRow:
    """One row of the alignment: an entry on each side, or on one side only."""

    kind: RowKind
    a: int | None
    b: int | None


def group_stimuli(entries: Sequence[SchedulerTransition], normaliser: Normaliser, first: int = 0) -> list[Stimulus]:
    """Consecutive entries from ``first`` on with the same stimulus id (an id may come back)."""
    groups: list[Stimulus] = []
    start = first
    for index in range(first + 1, len(entries) + 1):
        if index == len(entries) or entries[index].stimulus_id != entries[start].stimulus_id:
            groups.append(Stimulus(normaliser.stimulus(entries[start].stimulus_id), start, index))
            start = index
    return groups


def _opcodes(a: Sequence[Any], b: Sequence[Any]) -> Sequence[tuple[str, int, int, int, int]]:
    return SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def _align_entries(
    a_signatures: Sequence[EntrySignature],
    b_signatures: Sequence[EntrySignature],
    a_offset: int,
    b_offset: int,
    rows: list[AlignedRow],
) -> None:
    """Entries of two stimuli with the same normalised id."""
    for tag, i1, i2, j1, j2 in _opcodes(a_signatures, b_signatures):
        if tag == "equal":
            rows.extend(
                AlignedRow("equal", a_offset + i, b_offset + j)
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        paired = min(i2 - i1, j2 - j1)
        rows.extend(AlignedRow("changed", a_offset + i1 + n, b_offset + j1 + n) for n in range(paired))
        rows.extend(AlignedRow("a-only", a_offset + i, None) for i in range(i1 + paired, i2))
        rows.extend(AlignedRow("b-only", None, b_offset + j) for j in range(j1 + paired, j2))


def align(
    a_signatures: Sequence[EntrySignature],
    b_signatures: Sequence[EntrySignature],
    a_stimuli: Sequence[Stimulus],
    b_stimuli: Sequence[Stimulus],
) -> list[AlignedRow]:
    """Align stimulus by stimulus (whole content first, then by id), then entry by entry."""
    rows: list[AlignedRow] = []

    def content(signatures: Sequence[EntrySignature], stimulus: Stimulus) -> tuple[str, tuple[EntrySignature, ...]]:
        return stimulus.normalised, tuple(signatures[stimulus.start : stimulus.stop])

    a_content = [content(a_signatures, stimulus) for stimulus in a_stimuli]
    b_content = [content(b_signatures, stimulus) for stimulus in b_stimuli]
    for tag, i1, i2, j1, j2 in _opcodes(a_content, b_content):
        if tag == "equal":
            for a_stimulus, b_stimulus in zip(a_stimuli[i1:i2], b_stimuli[j1:j2], strict=True):
                rows.extend(
                    AlignedRow("equal", a_stimulus.start + n, b_stimulus.start + n)
                    for n in range(a_stimulus.stop - a_stimulus.start)
                )
            continue
        a_part, b_part = a_stimuli[i1:i2], b_stimuli[j1:j2]
        for sub_tag, k1, k2, l1, l2 in _opcodes([s.normalised for s in a_part], [s.normalised for s in b_part]):
            if sub_tag == "equal":
                for a_stimulus, b_stimulus in zip(a_part[k1:k2], b_part[l1:l2], strict=True):
                    _align_entries(
                        a_signatures[a_stimulus.start : a_stimulus.stop],
                        b_signatures[b_stimulus.start : b_stimulus.stop],
                        a_stimulus.start,
                        b_stimulus.start,
                        rows,
                    )
                continue
            for stimulus in a_part[k1:k2]:
                rows.extend(AlignedRow("a-only", index, None) for index in range(stimulus.start, stimulus.stop))
            for stimulus in b_part[l1:l2]:
                rows.extend(AlignedRow("b-only", None, index) for index in range(stimulus.start, stimulus.stop))
    return rows


# --------------------------------------------------------------------------- consequences


def state_paths(entries: Sequence[SchedulerTransition], normaliser: Normaliser) -> dict[Key, list[str]]:
    """Per normalised key, the states it went through (a start that breaks continuity is kept)."""
    paths: dict[Key, list[str]] = {}
    for entry in entries:
        key = normaliser.key(entry.key)
        path = paths.get(key)
        if path is None:
            paths[key] = [entry.start, entry.finish]
            continue
        if path[-1] != entry.start:
            path.append(entry.start)
        path.append(entry.finish)
    return paths


@dataclass(frozen=True, slots=True)
class KeyDifference:
    """A key whose state path or final state differs; ``common`` states are shared first."""

    key: Key
    a_path: tuple[str, ...]
    b_path: tuple[str, ...]
    common: int
    a_final: str | None
    b_final: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": key_to_json(self.key),
            "a_path": list(self.a_path),
            "b_path": list(self.b_path),
            "common": self.common,
            "a_final": self.a_final,
            "b_final": self.b_final,
        }


@dataclass(frozen=True, slots=True)
class Truncation:
    """One side is the other with its first ``dropped`` entries cut off."""

    side: Side
    dropped: int

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "dropped": self.dropped}


def _common_prefix(first: Sequence[Any], second: Sequence[Any]) -> int:
    count = 0
    for left, right in zip(first, second, strict=False):
        if left != right:
            break
        count += 1
    return count


def entry_json(entry: SchedulerTransition, event: int) -> dict[str, Any]:
    """ENTRY of the diff document: the export's transition object with its position first."""
    return {"event": event, **transition_document(entry)}


# --------------------------------------------------------------------------- the diff


@dataclass(frozen=True, slots=True)
class TraceDiff:
    """Everything a comparison of two runs found."""

    a: ReplayResult
    b: ReplayResult
    a_entries: tuple[SchedulerTransition, ...]
    b_entries: tuple[SchedulerTransition, ...]
    a_stimuli: tuple[str, ...]  # normalised stimulus id of every entry
    b_stimuli: tuple[str, ...]
    strict: bool
    rows: tuple[AlignedRow, ...] = ()
    verdict: Verdict = "identical"
    first_divergence: AlignedRow | None = None
    keys: tuple[KeyDifference, ...] = ()
    a_only_findings: tuple[Finding, ...] = ()
    b_only_findings: tuple[Finding, ...] = ()
    truncation: Truncation | None = None

    @property
    def equivalent(self) -> bool:
        return self.verdict in ("identical", "truncated") or (self.verdict == "reordered" and not self.strict)

    def counts(self) -> Counter[str]:
        """How many aligned rows of each kind."""
        return Counter(row.kind for row in self.rows)

    def stimulus_of(self, row: AlignedRow) -> str:
        return self.a_stimuli[row.a] if row.a is not None else self.b_stimuli[row.b]  # type: ignore[index]

    def entry(self, side: Side, index: int | None) -> SchedulerTransition | None:
        if index is None:
            return None
        return (self.a_entries if side == "a" else self.b_entries)[index]

    def to_json(self) -> dict[str, Any]:
        """The ``replay diff --json`` document (documented in the README)."""
        first = None
        if self.first_divergence is not None:
            row = self.first_divergence
            a_entry, b_entry = self.entry("a", row.a), self.entry("b", row.b)
            first = {
                "a_event": row.a,
                "b_event": row.b,
                "stimulus": self.stimulus_of(row),
                "a": None if a_entry is None or row.a is None else entry_json(a_entry, row.a),
                "b": None if b_entry is None or row.b is None else entry_json(b_entry, row.b),
            }
        counts = self.counts()
        return {
            "first_divergence": first,
            "verdict": self.verdict,
            "equivalent": self.equivalent,
            "truncation": None if self.truncation is None else self.truncation.to_json(),
            "keys": [difference.to_json() for difference in self.keys],
            "findings": {
                "a_only": [finding.to_json() for finding in self.a_only_findings],
                "b_only": [finding.to_json() for finding in self.b_only_findings],
            },
            "sources": {side: result.source_json() for side, result in (("a", self.a), ("b", self.b))},
            "summary": {
                "equal": counts["equal"],
                "changed": counts["changed"],
                "a_only": counts["a-only"],
                "b_only": counts["b-only"],
                "keys": len(self.keys),
            },
        }


def _finding_differences(
    a: ReplayResult, b: ReplayResult, a_normaliser: Normaliser, b_normaliser: Normaliser
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """Findings on one side only, compared by rule and normalised key (with multiplicity)."""
    a_counts = Counter((f.rule, a_normaliser.key(f.key)) for f in a.findings)
    b_counts = Counter((f.rule, b_normaliser.key(f.key)) for f in b.findings)

    def one_sided(
        findings: Iterable[Finding], normaliser: Normaliser, other: Counter[tuple[str, Key]]
    ) -> tuple[Finding, ...]:
        remaining = Counter(other)
        kept = []
        for finding in findings:
            identity = (finding.rule, normaliser.key(finding.key))
            if remaining[identity] > 0:
                remaining[identity] -= 1
            else:
                kept.append(finding)
        return tuple(kept)

    return one_sided(a.findings, a_normaliser, b_counts), one_sided(b.findings, b_normaliser, a_counts)


@dataclass(frozen=True, slots=True)
class _Side:
    """One run as the comparison sees it."""

    result: ReplayResult
    entries: tuple[SchedulerTransition, ...]
    normaliser: Normaliser
    signatures: list[EntrySignature]


def _key_differences(a: _Side, b: _Side, a_start: int, b_start: int) -> list[KeyDifference]:
    """Keys whose state path or final state differs, in order of first appearance (A first).

    Paths start at ``a_start``/``b_start`` (past what a truncated side lacks); keys seen only
    before then are not compared.
    """
    a_paths = state_paths(a.entries[a_start:], a.normaliser)
    b_paths = state_paths(b.entries[b_start:], b.normaliser)
    a_finals = {a.normaliser.key(key): state for key, state in a.result.final_states.items()}
    b_finals = {b.normaliser.key(key): state for key, state in b.result.final_states.items()}
    universe = {**a_paths, **b_paths} if a_start or b_start else {**a_paths, **b_paths, **a_finals, **b_finals}
    differences = []
    for key in universe:
        a_path, b_path = a_paths.get(key, []), b_paths.get(key, [])
        a_final, b_final = a_finals.get(key), b_finals.get(key)
        if a_path != b_path or a_final != b_final:
            common = _common_prefix(a_path, b_path)
            differences.append(KeyDifference(key, tuple(a_path), tuple(b_path), common, a_final, b_final))
    return differences


def _suffix_truncation(
    a_signatures: Sequence[EntrySignature], b_signatures: Sequence[EntrySignature]
) -> Truncation | None:
    """The side that is the other with leading entries cut off, if one is."""
    dropped = abs(len(a_signatures) - len(b_signatures))
    if len(b_signatures) < len(a_signatures) and b_signatures == a_signatures[dropped:]:
        return Truncation("b", dropped)
    if len(a_signatures) < len(b_signatures) and a_signatures == b_signatures[dropped:]:
        return Truncation("a", dropped)
    return None


def _side(result: ReplayResult, entries: tuple[SchedulerTransition, ...], normaliser: Normaliser) -> _Side:
    return _Side(result, entries, normaliser, [normaliser.signature(entry) for entry in entries])


#: Most leading entries of a truncated side compared with the other side.
TRUNCATION_WINDOW = 8
#: Fewest leading entries that must match for a side to count as starting later.
TRUNCATION_EVIDENCE = 4


def _leading_truncation(
    a_signatures: Sequence[EntrySignature], b_signatures: Sequence[EntrySignature]
) -> Truncation | None:
    """A side whose first entries appear only later in the other side: its log starts later.

    Bounded logs (1,000 entries since 2023.9) keep only the end of a run, so two runs of
    one scenario may start at different points; what the other side has before that point
    is not a divergence. The cut side's first entries (at least ``TRUNCATION_EVIDENCE``,
    or all of them) must match the other side from some later position; the longest such
    match wins, the earliest among equals.
    """
    if not a_signatures or not b_signatures or a_signatures[0] == b_signatures[0]:
        return None
    best: tuple[int, Truncation] | None = None
    for side, full, cut in (("b", a_signatures, b_signatures), ("a", b_signatures, a_signatures)):
        window = cut[:TRUNCATION_WINDOW]
        needed = min(TRUNCATION_EVIDENCE, len(cut))
        for start in range(1, len(full)):
            if full[start] != window[0]:
                continue
            matched = _common_prefix(full[start : start + len(window)], window)
            if matched >= needed and (best is None or matched > best[0]):
                best = (matched, Truncation(side, start))  # type: ignore[arg-type]
    return None if best is None else best[1]


def diff_results(
    a: ReplayResult,
    a_entries: tuple[SchedulerTransition, ...],
    b: ReplayResult,
    b_entries: tuple[SchedulerTransition, ...],
    *,
    strict: bool = False,
) -> TraceDiff:
    """Compare two replayed runs, each with the entries it replayed (see the module docstring)."""
    a_normaliser, b_normaliser = Normaliser.pair(a_entries, b_entries)
    side_a, side_b = _side(a, a_entries, a_normaliser), _side(b, b_entries, b_normaliser)
    base = TraceDiff(
        a,
        b,
        side_a.entries,
        side_b.entries,
        a_stimuli=tuple(signature[4] for signature in side_a.signatures),
        b_stimuli=tuple(signature[4] for signature in side_b.signatures),
        strict=strict,
    )
    truncation = _suffix_truncation(side_a.signatures, side_b.signatures)
    if truncation is not None:
        shared = min(len(side_a.entries), len(side_b.entries))
        offset_a, offset_b = (truncation.dropped, 0) if truncation.side == "b" else (0, truncation.dropped)
        rows = [AlignedRow("equal", offset_a + n, offset_b + n) for n in range(shared)]
        return replace(base, rows=tuple(rows), verdict="truncated", truncation=truncation)

    truncation = _leading_truncation(side_a.signatures, side_b.signatures)
    a_start = truncation.dropped if truncation is not None and truncation.side == "b" else 0
    b_start = truncation.dropped if truncation is not None and truncation.side == "a" else 0
    rows = align(
        side_a.signatures,
        side_b.signatures,
        group_stimuli(side_a.entries, a_normaliser, a_start),
        group_stimuli(side_b.entries, b_normaliser, b_start),
    )
    a_only, b_only = _finding_differences(a, b, a_normaliser, b_normaliser)
    a_only = tuple(f for f in a_only if f.event is None or f.event >= a_start)
    b_only = tuple(f for f in b_only if f.event is None or f.event >= b_start)
    keys = _key_differences(side_a, side_b, a_start, b_start)
    different = [row for row in rows if row.kind != "equal"]
    consequences = bool(keys or a_only or b_only)
    verdict: Verdict = "diverge" if consequences else ("reordered" if different else "identical")
    if verdict == "identical" and truncation is not None:
        verdict = "truncated"
    first = None
    if verdict == "diverge" or (verdict == "reordered" and strict):
        concerned = {difference.key for difference in keys}
        concerned |= {a_normaliser.key(finding.key) for finding in a_only}
        concerned |= {b_normaliser.key(finding.key) for finding in b_only}
        touching = (row for row in different if _touches(row, concerned, side_a, side_b))
        first = next(touching, different[0] if different else None)
    return replace(
        base,
        rows=tuple(rows),
        verdict=verdict,
        first_divergence=first,
        keys=tuple(keys),
        a_only_findings=a_only,
        b_only_findings=b_only,
        truncation=truncation,
    )


def _touches(row: AlignedRow, keys: set[Key], a: _Side, b: _Side) -> bool:
    """Whether an aligned row is about one of ``keys``, or recommends one."""
    for index, side in ((row.a, a), (row.b, b)):
        if index is None:
            continue
        signature = side.signatures[index]
        if signature[0] in keys or any(key in keys for key, _ in signature[3]):
            return True
    return False


def diff_traces(
    a: Trace,
    b: Trace,
    *,
    a_version: str | None = None,
    b_version: str | None = None,
    strict: bool = False,
) -> TraceDiff:
    """Replay both traces and compare them."""
    # The comparison holds every entry anyway: read a streamed trace once, not once per pass.
    a_entries, b_entries = a.materialise(), b.materialise()
    return diff_results(
        replay_trace(replace(a, transitions=a_entries), a_version, keep_steps=False),
        a_entries,
        replay_trace(replace(b, transitions=b_entries), b_version, keep_steps=False),
        b_entries,
        strict=strict,
    )


def truncation_note(truncation: Truncation) -> str:
    """``B is A without its first 12 entries``."""
    cut, full = ("B", "A") if truncation.side == "b" else ("A", "B")
    return f"{cut} is {full} without its first {truncation.dropped} entries"


def summary_line(diff: TraceDiff) -> str:
    """One line: the verdict, where the runs part, and how much differs."""
    counts = diff.counts()
    if diff.verdict == "truncated" and diff.truncation is not None:
        return f"truncated: {truncation_note(diff.truncation)}; the {counts['equal']} entries they share are identical"
    sizes = (
        f"{counts['equal']} equal, {counts['changed']} changed, "
        f"{counts['a-only']} only in A, {counts['b-only']} only in B"
    )
    if diff.truncation is not None:
        sizes += f"; {truncation_note(diff.truncation)}"
    if diff.verdict == "identical":
        return f"identical after normalisation: {counts['equal']} entries"
    if diff.verdict == "reordered" and not diff.strict:
        return f"equivalent up to scheduling order: every key has the same states and findings ({sizes})"
    first = diff.first_divergence
    where = "?"
    if first is not None:
        a_event = "-" if first.a is None else first.a
        b_event = "-" if first.b is None else first.b
        where = f"A[{a_event}] / B[{b_event}], stimulus {diff.stimulus_of(first)}"
    return (
        f"diverge at {where}; {len(diff.keys)} keys differ; "
        f"findings only in A: {len(diff.a_only_findings)}, only in B: {len(diff.b_only_findings)} "
        f"({sizes})"
    )
