"""Cut a trace down to the entries that reproduce one finding (``replay slice``).

**The same finding.** A slice keeps some of the trace's entries, in their order, and
drops the recommendations that name dropped keys; its entries are numbered from 0 again,
and each remembers its *origin*, its position in the trace. A finding of the slice is the
chosen finding of the trace when, entry numbers read through the origins, they have the
same rule, the same key, the same entry (``event``), the same culprit (its key, its state,
the entry that emitted it, and the state and emitting entry of what it overrode) and the
same missing recommendations (:func:`finding_identity`). Comparing origins rather than
raw numbers is what makes "entry 18 of the trace" and "entry 3 of the slice" the same
entry; the emitting entry is the same log entry, so its transition is the same too. The
message is not compared: it counts entries and chains that the slice shortens.

**How.** The trace is replayed once, with steps. Then:

1. the keys of the finding's cause chain are kept (its key, the culprit's key, every
   entry from the culprit back to the stimulus, what the culprit overrode, the missing
   recommendations' keys), with their dependencies and dependents (a dump's task table,
   and the keys their entries recommend or are recommended by); every other key's entries
   and the recommendations naming them are dropped, a dump's task table keeps the rows of
   the kept keys only (their references to dropped keys removed), and a dump's
   ``transition_counter`` keeps its difference to the log (what a ``counter-ahead`` needs).
   If that does not reproduce the finding, two hops of neighbours are kept, then every key;
2. delta debugging (Zeller's ddmin) shrinks the kept keys, then the kept stimuli (each
   run of consecutive entries with one stimulus id is one unit), over and over until
   neither shrinks; the test is a replay of the candidate slice;
3. the slice is replayed once more, and by the caller once more after it is encoded and
   read back (:func:`check_encoded`): a slice that does not reproduce is never written.

**Bounds.** ddmin stops after :data:`MAX_REPLAYS` candidate replays or
:data:`MAX_REPLAYED_ENTRIES` replayed entries, whichever comes first; what it has then
still reproduces the finding (a candidate is only taken when it does) but may not be
minimal, and the header says so (``search.minimal``). Candidates are cut from the first
step's entries, not from the whole trace: a 172,000-entry trace is replayed in full
once (with steps, to find the finding and its cause chain), and each candidate costs
what its few entries cost.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import IO, Any, TypeVar

import msgpack

from replay.errors import ReplayError, UsageError
from replay.events import Key, SchedulerTransition, TaskGraph, Trace
from replay.ingest import DEFAULT_LIMITS, Limits, detect_format, open_trace
from replay.ingest.limits import read_text_bytes
from replay.ingest.msgpack_reader import MsgpackCursor
from replay.ingest.native import header_document, write_trace
from replay.keys import format_key, key_to_json
from replay.machine import Step
from replay.provenance import Finding, ReplayResult, replay_trace

#: Most candidate slices ddmin replays.
MAX_REPLAYS = 2_000
#: Most entries ddmin replays in all (the sum of its candidates' lengths).
MAX_REPLAYED_ENTRIES = 5_000_000
#: The kinds :func:`encode_slice` writes, as ``replay convert --to`` names them.
KINDS = ("jsonl", "json", "msgpack")
#: The field of the native document that holds the slice's header.
HEADER_FIELD = "slice"
#: What "the same finding" means, as the header says it.
SAME_FINDING = (
    "same rule, key, entry and culprit (its key and state, the entry that emitted it, and the state and "
    "emitting entry of what it overrode) and the same missing recommendations, every entry compared by "
    "its position in the trace (entries lists it for each entry of the slice)"
)

Unit = TypeVar("Unit", bound=Hashable)


class NotReproducedError(ReplayError):
    """The slice, replayed, does not show the chosen finding: it is not written (exit 3)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}")


# ------------------------------------------------------------------------- the finding


FindingIdentity = tuple[Any, ...]


def finding_identity(finding: Finding, origins: Sequence[int] | None = None) -> FindingIdentity:
    """What must be equal for two findings to be the same one (see the module docstring).

    ``origins`` gives, for each entry of a slice, its position in the trace; None for
    the trace itself.
    """

    def origin(event: int | None) -> int | None:
        if event is None or origins is None:
            return event
        return origins[event] if 0 <= event < len(origins) else -1 - event

    culprit = finding.culprit
    blamed = None
    if culprit is not None:
        overrode = culprit.overrode
        blamed = (
            culprit.key,
            culprit.state,
            origin(culprit.event),
            None if overrode is None else (overrode.state, origin(overrode.event)),
        )
    missing = tuple((item.key, item.state) for item in finding.missing)
    return (finding.rule, finding.key, origin(finding.event), blamed, missing)


def choose_finding(result: ReplayResult, number: int | None = None, key: Key | None = None) -> int:
    """The position (in ``result.findings``, as ``replay run --json`` lists them) of the finding to slice.

    ``number`` itself; else the first error finding on ``key`` (or its first finding); else
    the first error finding. A usage error when there is none.
    """
    findings = result.findings
    if number is not None:
        if not 0 <= number < len(findings):
            count = len(findings)
            span = f"0 to {count - 1}" if count else "none"
            raise UsageError(f"no finding {number}: the replay found {count} (numbered {span}, as run --json lists them)")
        return number
    if key is not None:
        on_key = [position for position, finding in enumerate(findings) if finding.key == key]
        errors = [position for position in on_key if findings[position].severity == "error"]
        if not on_key:
            raise UsageError(f"no finding on key {format_key(key)!r}: replay run --key shows what there is")
        return (errors or on_key)[0]
    errors = [position for position, finding in enumerate(findings) if finding.severity == "error"]
    if not errors:
        if findings:
            raise UsageError(f"no error finding to slice (the replay found {len(findings)} other): pick one with --finding N")
        raise UsageError("no finding to slice: the replay found nothing")
    return errors[0]


# ------------------------------------------------------------------------- candidates


@dataclass(frozen=True, slots=True)
class _Source:
    """The trace being sliced, as far as cutting needs it."""

    trace: Trace
    #: the release the trace is replayed as, written into the slice (a bare log's option included)
    distributed_version: str | None
    #: how many entries the trace holds
    events: int


@dataclass(frozen=True, slots=True)
class _Pool:
    """The entries candidates are cut from, with each one's position in the trace and stimulus run."""

    entries: tuple[SchedulerTransition, ...]
    origins: tuple[int, ...]
    runs: tuple[int, ...]
    #: the task table's rows of the pool's keys (None: the trace has none)
    graph: TaskGraph | None


@dataclass(frozen=True, slots=True)
class _Cut:
    """One candidate slice: the trace, where each entry came from, what was dropped from kept entries."""

    trace: Trace
    origins: tuple[int, ...]
    dropped_recommendations: int


def _kept_graph(graph: TaskGraph | None, keys: frozenset[Key] | set[Key]) -> TaskGraph | None:
    """The rows of ``keys``, each row's references to other keys limited to ``keys``."""
    if graph is None:
        return None
    tasks = {}
    for key, task in graph.tasks.items():
        if key not in keys:
            continue
        changes: dict[str, Any] = {}
        for name in ("dependencies", "dependents", "waiters", "waiting_on"):
            value = getattr(task, name)
            if value is not None and any(other not in keys for other in value):
                changes[name] = tuple(other for other in value if other in keys)
        tasks[key] = task.model_copy(update=changes) if changes else task
    return TaskGraph.model_construct(source=graph.source, tasks=tasks)


def _cut(source: _Source, pool: _Pool, keys: frozenset[Key], runs: frozenset[int] | None) -> _Cut:
    """The pool's entries of ``keys`` in ``runs`` (None: every run), with what they recommend to ``keys`` only."""
    entries: list[SchedulerTransition] = []
    origins: list[int] = []
    dropped = 0
    for entry, origin, run in zip(pool.entries, pool.origins, pool.runs):
        if entry.key not in keys or (runs is not None and run not in runs):
            continue
        recommendations = entry.recommendations
        if any(other not in keys for other in recommendations):
            kept = {other: state for other, state in recommendations.items() if other in keys}
            dropped += len(recommendations) - len(kept)
            entries.append(entry._replace(recommendations=kept))
        else:
            entries.append(entry)
        origins.append(origin)
    metadata = source.trace.metadata
    counter = metadata.transition_counter
    if counter is not None:
        counter = max(0, counter - source.events + len(entries))
    sliced_metadata = metadata.model_copy(
        update={"transition_counter": counter, "distributed_version": source.distributed_version}
    )
    trace = Trace(metadata=sliced_metadata, transitions=tuple(entries), graph=_kept_graph(pool.graph, keys))
    return _Cut(trace, tuple(origins), dropped)


@dataclass(slots=True)
class _Search:
    """Replays candidates and says whether each reproduces the finding; counts its work."""

    source: _Source
    target: FindingIdentity
    pool: _Pool
    replays: int = 0
    replayed_entries: int = 0
    known: dict[tuple[frozenset[Key], frozenset[int] | None], bool] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        return self.replays >= MAX_REPLAYS or self.replayed_entries >= MAX_REPLAYED_ENTRIES

    def reproduces(self, keys: Iterable[Key], runs: Iterable[int] | None = None) -> bool:
        """Whether the candidate of ``keys`` and ``runs`` shows the finding (False once the budget is spent)."""
        wanted = (frozenset(keys), None if runs is None else frozenset(runs))
        answer = self.known.get(wanted)
        if answer is not None:
            return answer
        if self.exhausted:
            return False
        cut = _cut(self.source, self.pool, *wanted)
        self.replays += 1
        self.replayed_entries += len(cut.origins)
        answer = shows(cut.trace, self.target, cut.origins)
        self.known[wanted] = answer
        return answer


def shows(trace: Trace, target: FindingIdentity, origins: Sequence[int] | None) -> bool:
    """Whether replaying ``trace`` finds the finding ``target`` identifies."""
    result = replay_trace(trace, keep_steps=False)
    return any(finding_identity(finding, origins) == target for finding in result.findings)


def _split(units: Sequence[Unit], parts: int) -> list[list[Unit]]:
    """``units`` in ``parts`` consecutive chunks of nearly equal size."""
    chunks = []
    start = 0
    for part in range(parts):
        stop = start + (len(units) - start) // (parts - part)
        chunks.append(list(units[start:stop]))
        start = stop
    return [chunk for chunk in chunks if chunk]


def ddmin(units: Sequence[Unit], reproduces: Callable[[list[Unit]], bool]) -> list[Unit]:
    """Zeller's ddmin: a subsequence of ``units`` that still reproduces, from which no one
    unit can be removed (when ``reproduces`` answers honestly to the end).

    ``units`` must reproduce; the empty subsequence is tried first.
    """
    current = list(units)
    if reproduces([]):
        return []
    granularity = 2
    while len(current) >= 2:
        chunks = _split(current, granularity)
        reduced = False
        for chunk in chunks:
            if reproduces(chunk):
                current, granularity, reduced = chunk, 2, True
                break
        if not reduced and len(chunks) > 2:
            for position in range(len(chunks)):
                complement = [unit for index, chunk in enumerate(chunks) if index != position for unit in chunk]
                if reproduces(complement):
                    current, granularity, reduced = complement, max(granularity - 1, 2), True
                    break
        if not reduced:
            if granularity >= len(current):
                break
            granularity = min(len(current), granularity * 2)
    return current


def _shrink(search: _Search, keys: list[Key], runs: list[int]) -> tuple[list[Key], list[int]]:
    """ddmin over keys, then over the stimulus runs left with entries, until neither shrinks."""
    pool = search.pool
    while True:
        before = (len(keys), len(runs))
        keys = ddmin(keys, partial(_with_runs, search, runs))
        kept = set(keys)
        present = {run for entry, run in zip(pool.entries, pool.runs) if entry.key in kept}
        runs = ddmin([run for run in runs if run in present], partial(search.reproduces, keys))
        if (len(keys), len(runs)) == before or search.exhausted:
            return keys, runs


def _with_runs(search: _Search, runs: list[int], keys: list[Key]) -> bool:
    return search.reproduces(keys, runs)


# ------------------------------------------------------------------------- the first step


def _cause_chain(steps: Mapping[int, Step], finding: Finding) -> dict[Key, str]:
    """The keys of every entry from the finding and its culprit back to the stimulus, with why."""
    reasons: dict[Key, str] = {}
    if finding.key is not None:
        reasons[finding.key] = "the finding's key"
    culprit = finding.culprit
    starts: list[int | None] = [finding.event]
    if culprit is not None:
        reasons.setdefault(culprit.key, "the culprit's key")
        starts.append(culprit.event)
        if culprit.overrode is not None:
            starts.append(culprit.overrode.event)
    for missing in finding.missing:
        reasons.setdefault(missing.key, "named by a missing recommendation")
    seen: set[int] = set()
    pending = [index for index in starts if index is not None]
    while pending:
        index = pending.pop()
        if index in seen:
            continue
        seen.add(index)
        step = steps.get(index)
        if step is None:
            continue
        reasons.setdefault(step.key, f"on the cause chain (entry {index})")
        for recommendation in (step.cause, step.override, step.cause.replaced if step.cause else None):
            if recommendation is not None and recommendation.event is not None:
                pending.append(recommendation.event)
    return reasons


def _neighbours(keys: Iterable[Key], entries: Sequence[SchedulerTransition], graph: TaskGraph | None) -> dict[Key, str]:
    """Keys next to ``keys``: their dependencies and dependents in the task table, the keys their
    entries recommend, and the keys whose entries recommend them; with why."""
    inside = set(keys)
    found: dict[Key, str] = {}
    if graph is not None:
        for key in inside:
            task = graph.tasks.get(key)
            if task is None:
                continue
            for dependency in task.dependencies:
                if dependency not in inside:
                    found.setdefault(dependency, f"a dependency of {format_key(key)}")
            for dependent in task.dependents:
                if dependent not in inside:
                    found.setdefault(dependent, f"a dependent of {format_key(key)}")
    for entry in entries:
        recommendations = entry.recommendations
        if not recommendations:
            continue
        if entry.key in inside:
            for other in recommendations:
                if other not in inside:
                    found.setdefault(other, f"recommended by an entry of {format_key(entry.key)}")
        elif entry.key not in found:
            for other in recommendations:
                if other in inside:
                    found[entry.key] = f"its entries recommend {format_key(other)}"
                    break
    return found


def _stimulus_runs(entries: Sequence[SchedulerTransition]) -> list[int]:
    """Each entry's run of consecutive entries with one stimulus id, numbered in log order."""
    runs = []
    run = -1
    previous: object = object()
    for entry in entries:
        if entry.stimulus_id != previous:
            run += 1
            previous = entry.stimulus_id
        runs.append(run)
    return runs


def _pool(entries: Sequence[SchedulerTransition], runs: Sequence[int], graph: TaskGraph | None, keys: set[Key]) -> _Pool:
    positions = [position for position, entry in enumerate(entries) if entry.key in keys]
    return _Pool(
        entries=tuple(entries[position] for position in positions),
        origins=tuple(positions),
        runs=tuple(runs[position] for position in positions),
        graph=_kept_graph(graph, keys),
    )


def _all_keys(entries: Iterable[SchedulerTransition], graph: TaskGraph | None) -> dict[Key, None]:
    keys: dict[Key, None] = {}
    for entry in entries:
        keys[entry.key] = None
        for other in entry.recommendations:
            keys[other] = None
    if graph is not None:
        keys.update(dict.fromkeys(graph.tasks))
    return keys


# ------------------------------------------------------------------------- the slice


@dataclass(frozen=True, slots=True)
class SliceSearch:
    """How the slice was found: which first step sufficed, and what ddmin did."""

    #: the first step that reproduced: "cause chain", "two hops" or "every key"
    start: str
    replays: int
    replayed_entries: int
    #: ddmin ran to its end (no one key or stimulus can be removed), within its cap
    minimal: bool


@dataclass(frozen=True, slots=True)
class Slice:
    """A sub-trace that reproduces one finding, and what was kept and why."""

    #: the slice, as written (no worker records; the release it was replayed as in its metadata)
    trace: Trace
    #: for each entry of the slice, its position in the trace
    origins: tuple[int, ...]
    #: the slice's own replay, with steps
    result: ReplayResult
    #: the finding, numbered as in the slice
    finding: Finding
    #: the finding, numbered as in the trace
    original: Finding
    #: its position among the trace's findings (``--finding N``)
    number: int
    #: the trace's metadata, and how many entries it held
    source: Trace
    events: int
    #: every kept key, with why it is kept
    keys: Mapping[Key, str]
    dropped_keys: int
    stimuli: int
    dropped_stimuli: int
    dropped_recommendations: int
    dropped_rows: int
    search: SliceSearch
    #: for each finding of the slice's replay, whether the trace has it too (else the cut made it)
    in_trace: tuple[bool, ...] = ()

    def other_findings(self) -> list[tuple[Finding, bool]]:
        """The slice's other findings, each with whether the trace has it too."""
        chosen = finding_identity(self.finding)
        return [
            (finding, also)
            for finding, also in zip(self.result.findings, self.in_trace)
            if finding_identity(finding) != chosen
        ]

    def header(self) -> dict[str, Any]:
        """The ``slice`` field of the written document: what was kept and why (docs/slice.md)."""
        metadata = self.source.metadata
        graph = self.source.graph
        counter = None
        if metadata.transition_counter is not None:
            counter = {"trace": metadata.transition_counter, "slice": self.trace.metadata.transition_counter}
        return {
            "source": {
                "path": metadata.path,
                "format": metadata.format,
                "distributed_version": self.trace.metadata.distributed_version,
                "events": self.events,
            },
            "finding": {
                "number": self.number,
                "in_trace": self.original.to_json(),
                "in_slice": self.finding.to_json(),
                "same_finding": SAME_FINDING,
            },
            "entries": list(self.origins),
            "keys": [{"key": key_to_json(key), "why": why} for key, why in self.keys.items()],
            "dropped": {
                "entries": self.events - len(self.origins),
                "keys": self.dropped_keys,
                "stimuli": self.dropped_stimuli,
                "recommendations": self.dropped_recommendations,
                "task_rows": self.dropped_rows if graph is not None else None,
                "worker_records": len(self.source.worker_records),
            },
            "other_findings": [
                {"in_trace": also, **finding.to_json()} for finding, also in self.other_findings()
            ],
            "transition_counter": counter,
            "search": {
                "start": self.search.start,
                "replays": self.search.replays,
                "replayed_entries": self.search.replayed_entries,
                "minimal": self.search.minimal,
                "max_replays": MAX_REPLAYS,
                "max_replayed_entries": MAX_REPLAYED_ENTRIES,
            },
        }

    def summary(self) -> str:
        """One line: how much was kept, and the finding it reproduces."""
        finding = self.finding
        where = "" if finding.event is None else f" at entry {finding.event} (entry {self.original.event} of the trace)"
        key = "" if finding.key is None else f" on {format_key(finding.key)}"
        return (
            f"slice of {len(self.origins)} of {self.events} entries, {len(self.keys)} key(s), "
            f"{self.stimuli} stimulus run(s); reproduces {finding.rule}{where}{key}"
        )


def slice_trace(
    trace: Trace,
    *,
    number: int | None = None,
    key: Key | None = None,
    distributed_version: str | None = None,
    result: ReplayResult | None = None,
) -> Slice:
    """The smallest sub-trace found that reproduces one finding of ``trace`` (module docstring).

    ``number`` and ``key`` choose the finding as :func:`choose_finding` does; ``result`` is
    the trace's replay with steps, when the caller has it already.
    """
    entries = trace.materialise()
    trace = replace(trace, transitions=entries)
    if result is None:
        result = replay_trace(trace, distributed_version)
    position = choose_finding(result, number, key)
    finding = result.findings[position]
    version = distributed_version or trace.metadata.distributed_version
    source = _Source(trace, version, len(entries))
    target = finding_identity(finding)
    runs = _stimulus_runs(entries)
    graph = trace.graph

    chain = _cause_chain({step.index: step for step in result.steps}, finding)
    reasons = {**chain, **_neighbours(chain, entries, graph)}
    search: _Search | None = None
    tried = 0
    for start in ("cause chain", "two hops", "every key"):
        if start == "two hops":
            reasons = {**reasons, **_neighbours(reasons, entries, graph)}
        elif start == "every key":
            reasons = {**reasons, **dict.fromkeys(_all_keys(entries, graph), "kept with every key")}
        search = _Search(source, target, _pool(entries, runs, graph, set(reasons)))
        if start == "every key" or search.reproduces(reasons, search.pool.runs):
            break
        tried += search.replays
    assert search is not None

    pool = search.pool
    kept_keys, kept_runs = _shrink(search, list(reasons), list(dict.fromkeys(pool.runs)))
    minimal = not search.exhausted

    cut = _cut(source, pool, frozenset(kept_keys), frozenset(kept_runs))
    sliced_result = replay_trace(cut.trace)
    found = [f for f in sliced_result.findings if finding_identity(f, cut.origins) == target]
    if not found:
        raise NotReproducedError(trace.metadata.path, f"the slice does not reproduce finding {position} ({finding.rule})")
    known = {finding_identity(f) for f in result.findings}
    total_runs = len(set(runs))
    graph_rows = len(graph.tasks) if graph is not None else 0
    kept_rows = len(cut.trace.graph.tasks) if cut.trace.graph is not None else 0
    notes = (f"a slice of {trace.metadata.path}: {len(cut.origins)} of {len(entries)} entries, reproducing "
             f"finding {position} ({finding.rule})",)  # fmt: skip
    return Slice(
        trace=replace(cut.trace, notes=notes),
        origins=cut.origins,
        result=sliced_result,
        finding=found[0],
        original=finding,
        number=position,
        source=replace(trace, transitions=()),
        events=len(entries),
        keys={key: reasons.get(key, "kept by the search") for key in kept_keys},
        dropped_keys=len(_all_keys(entries, graph)) - len(kept_keys),
        stimuli=len(kept_runs),
        dropped_stimuli=total_runs - len(kept_runs),
        dropped_recommendations=cut.dropped_recommendations,
        dropped_rows=graph_rows - kept_rows,
        search=SliceSearch(start, tried + search.replays, search.replayed_entries, minimal),
        in_trace=tuple(finding_identity(f, cut.origins) in known for f in sliced_result.findings),
    )


# ------------------------------------------------------------------------- writing


def _packed_header(trace: Trace, fields: int) -> bytes:
    """The start of what :func:`write_trace` packs: the map header and the header's fields."""
    packer = msgpack.Packer(use_bin_type=True)
    parts = [packer.pack_map_header(fields)]
    for name, value in header_document(trace).items():
        parts.append(packer.pack(name))
        parts.append(packer.pack(value))
    return b"".join(parts)


def encode_slice(sliced: Slice, kind: str) -> bytes:
    """The slice in replay's own format (``kind`` as ``replay convert --to``), with its header.

    :func:`write_trace` writes the document; the header goes in as one more top-level
    field, ``slice``, right after ``graph`` (every reader of the format skips fields it
    does not know).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    buffer = io.BytesIO()
    write_trace(sliced.trace, kind, buffer)
    written = buffer.getvalue()
    header = sliced.header()
    if kind == "jsonl":
        first, newline, rest = written.partition(b"\n")
        document = json.loads(first)
        document[HEADER_FIELD] = header
        return json.dumps(document, separators=(",", ":")).encode() + newline + rest
    if kind == "json":
        anchor = b'\n"worker_records": ['
        head, found, rest = written.partition(anchor)
        if not found:
            raise ValueError("write_trace's JSON has no worker_records field")
        inserted = b'\n"' + HEADER_FIELD.encode() + b'": ' + json.dumps(header).encode() + b","
        return head + inserted + found + rest
    fields = len(header_document(sliced.trace)) + 2
    expected = _packed_header(sliced.trace, fields)
    if not written.startswith(expected):
        raise ValueError("write_trace's msgpack does not start with its header")
    packer = msgpack.Packer(use_bin_type=True)
    start = _packed_header(sliced.trace, fields + 1)
    return start + packer.pack(HEADER_FIELD) + packer.pack(header) + written[len(expected) :]


def check_encoded(sliced: Slice, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ReplayResult:
    """Read ``data`` back as every command would and replay it: the finding must be there.

    Raises :class:`NotReproducedError` when it is not (the slice is then not written).
    """
    with tempfile.TemporaryDirectory(prefix="replay-slice-") as directory:
        path = Path(directory) / "slice"
        path.write_bytes(data)
        trace = open_trace(path, limits)
        trace = replace(trace, transitions=trace.materialise())
        result = replay_trace(trace)
    target = finding_identity(sliced.original)
    if not any(finding_identity(finding, sliced.origins) == target for finding in result.findings):
        raise NotReproducedError(
            sliced.source.metadata.path,
            f"the slice, written and read back, does not reproduce finding {sliced.number} ({sliced.original.rule})",
        )
    return result


def write_slice(sliced: Slice, kind: str, stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> int:
    """Encode, check (:func:`check_encoded`) and write the slice; returns its number of entries."""
    data = encode_slice(sliced, kind)
    check_encoded(sliced, data, limits)
    stream.write(data)
    return len(sliced.origins)


def read_slice_header(path: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any] | None:
    """The ``slice`` field of a document :func:`encode_slice` wrote (None when there is none)."""
    kind = detect_format(path, limits)
    if kind == "msgpack":
        cursor = MsgpackCursor(path, limits)
        try:
            count = cursor.map_header_if_map()
            for _ in range(count or 0):
                if cursor.value() == HEADER_FIELD:
                    value = _as_json(cursor.value())
                    return value if isinstance(value, dict) else None
                cursor.skip()
        finally:
            cursor.close()
        return None
    text = read_text_bytes(path, limits, "text")
    if kind == "jsonl":
        text = text.split(b"\n", 1)[0]
    try:
        document = json.loads(text)
    except ValueError:
        return None
    value = document.get(HEADER_FIELD) if isinstance(document, dict) else None
    return value if isinstance(value, dict) else None


def _as_json(value: Any) -> Any:
    """A decoded msgpack value as JSON would decode it: arrays as lists."""
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    if isinstance(value, dict):
        return {name: _as_json(item) for name, item in value.items()}
    return value


# ------------------------------------------------------------------------- versions


def versions_of(path: Path, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any] | None:
    """A cluster dump's ``versions`` block (None for any other input, or one without it)."""
    kind = detect_format(path, limits)
    document: Any = None
    if kind == "msgpack":
        cursor = MsgpackCursor(path, limits)
        try:
            for _ in range(cursor.map_header_if_map() or 0):
                if cursor.value() == "versions":
                    document = {"versions": cursor.value()}
                    break
                cursor.skip()
        finally:
            cursor.close()
    elif kind == "yaml":
        from replay.ingest.yaml_reader import load_yaml

        document = load_yaml(path, limits)
    elif kind == "json":
        try:
            document = json.loads(read_text_bytes(path, limits, "JSON"))
        except ValueError:
            return None
    versions = document.get("versions") if isinstance(document, dict) else None
    return versions if isinstance(versions, dict) else None


def package_versions(versions: Mapping[str, Any]) -> list[tuple[str, str | None, list[str]]]:
    """``(package, the scheduler's version, the workers' versions where they differ)`` of a versions block."""
    scheduler = versions.get("scheduler")
    scheduler_packages = scheduler.get("packages", {}) if isinstance(scheduler, dict) else {}
    workers = versions.get("workers")
    worker_packages = [
        state.get("packages", {}) for state in (workers.values() if isinstance(workers, dict) else ())
        if isinstance(state, dict)
    ]  # fmt: skip
    names = list(dict.fromkeys([*scheduler_packages, *(name for packages in worker_packages for name in packages)]))
    rows = []
    for name in names:
        own = scheduler_packages.get(name)
        others = sorted({str(packages.get(name)) for packages in worker_packages if packages.get(name) != own})
        rows.append((name, None if own is None else str(own), others))
    return rows
