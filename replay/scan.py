"""Triage many traces at once: replay each, group the findings by signature.

``replay scan PATH...`` takes files, directories (walked), globs and URLs. Each trace is
replayed exactly as ``replay run --json`` replays it; a trace that cannot be read becomes
a row carrying the reason ``replay run`` would exit 3 with, never the end of the scan.

**Problems and signatures.** One bug shows as several findings in one trace (the seed
bug: a warning, the broken precondition, the invalid state and two deadlocks), all blamed
on one recommendation. The findings of a trace are first put together by their *anchor*:
the entry that emitted their culprit recommendation (or, when the stimulus itself asked,
the finding's own entry). Each such problem is named by its *primary* finding (errors
first; among them the rules that hold in every release, which every form of a trace is
checked against whether or not it says its release; then the earliest entry; then the
catalogue's order) and signed with

* the primary finding's rule,
* the transition pattern around the culprit: the entry whose recommendation it replaced,
  the entry that emitted it, and the entry where the finding was made (each as ``key
  start→finish`` with the recommendation), in log order, without their positions,
* the stimulus of the culprit's entry,

with keys and ids normalised as :class:`replay.diff.Normaliser` does (addresses become
``<worker-N>``, key tokens ``<token-N>``, in order of first appearance; the numbers and
uuids of stimulus ids ``*``). Problems with one signature, across traces, are one group:
its count of traces, the releases they came from (``None``: a trace that does not say),
the smallest trace that shows it and the ``replay run`` command to look at it.

**Running.** :func:`scan_sources` replays in local processes (every core by default) or,
given a scheduler address, on a Dask cluster through ``distributed``'s futures (local files
are read here and sent; a URL is read where the worker runs). The result does not depend
on how it ran: files come back in the order given, groups in a fixed order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import glob as globbing
import itertools
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replay.diff import Normaliser
from replay.errors import LimitExceededError, ReplayError, UnreadableInputError, UsageError
from replay.events import Key, SchedulerTransition, Trace
from replay.ingest import open_trace
from replay.ingest.limits import Limits, size_text
from replay.ingest.recording import is_recording
from replay.keys import format_key
from replay.machine import RULES
from replay.provenance import Finding, ReplayResult, replay_trace
from replay.releases import parse_release

__all__ = [
    "FileScan", "Group", "Problem", "ScanReport", "ScanRun", "ScanSettings", "Source", "cores", "expand",
    "group_problems", "replay_command", "report", "scan_data", "scan_source", "scan_sources",
]  # fmt: skip

#: How a source that is a URL starts: a scheme and ``://`` (``s3://``, ``gs://``, ``https://``, ``file://``).
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
#: The name standard input is shown as (as ``replay run -`` shows it).
STDIN_NAME = "<stdin>"


def is_url(path: str) -> bool:
    return URL.match(path) is not None


def optional(module: str) -> Any:
    """An optional dependency (fsspec, distributed), imported when used; ImportError when absent."""
    import importlib

    return importlib.import_module(module)


# --------------------------------------------------------------------------- what to scan


@dataclass(frozen=True)
class Source:
    """One trace to scan: ``path`` as given (or as a directory walk or a glob spelled it).

    ``size`` (bytes, when known) orders the work, largest first; ``problem`` is a reason
    known before reading (a glob that matched nothing, a listing that failed).
    """

    path: str
    size: int | None = None
    problem: str | None = None

    @property
    def url(self) -> bool:
        return is_url(self.path)


def expand(arguments: Iterable[str]) -> list[Source]:
    """Files, directories (walked, hidden entries skipped), globs and URLs, in the order given.

    A directory's files and a glob's matches come sorted; a path named twice is scanned
    once. A URL is listed through fsspec when it is installed (a directory or a glob of an
    object store); without fsspec it stays one source, which then reads as unreadable.
    """
    found: dict[str, Source] = {}
    for argument in arguments:
        for source in _expand_one(argument):
            found.setdefault(source.path, source)
    return list(found.values())


def _expand_one(argument: str) -> Iterator[Source]:
    if argument == "-":
        yield Source("-")
    elif is_url(argument):
        yield from _expand_url(argument)
    elif globbing.has_magic(argument):
        matches = sorted(globbing.glob(argument, recursive=True))  # noqa: PTH207 - the pattern as typed, absolute or not
        if not matches:
            yield Source(argument, problem="no file matches the pattern")
        for match in matches:
            yield from _expand_local(match)
    else:
        yield from _expand_local(argument)


def _expand_local(path: str) -> Iterator[Source]:
    if not Path(path).is_dir() or is_recording(Path(path)):  # a recording directory is one trace
        yield Source(path, _size(path))
        return
    for directory, subdirectories, files in os.walk(path):
        recordings = sorted(name for name in subdirectories if is_recording(Path(directory) / name))
        for name in recordings:
            full = os.path.join(directory, name)  # noqa: PTH118 - the path as given, not normalised
            yield Source(full, _size(full))
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith(".") and name not in recordings)
        for name in sorted(files):
            if not name.startswith("."):
                full = os.path.join(directory, name)  # noqa: PTH118 - the path as given, not normalised
                yield Source(full, _size(full))


def _size(path: str) -> int | None:
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


def _expand_url(url: str) -> Iterator[Source]:
    plain_web = url.lower().startswith(("http://", "https://")) and not globbing.has_magic(url.split("://", 1)[1])
    try:
        fsspec = optional("fsspec")
    except ImportError:
        plain_web = True
    if plain_web:  # one file: read when scanned (where fsspec or its backend is missing, the row says so)
        yield Source(url)
        return
    try:
        filesystem, _, _ = fsspec.get_fs_token_paths(url)
        if globbing.has_magic(url.split("://", 1)[1]):
            paths = sorted(filesystem.glob(url))
            if not paths:
                yield Source(url, problem="no file matches the pattern")
            for path in paths:
                if filesystem.isdir(path):
                    yield from _url_directory(filesystem, path)
                else:
                    yield Source(filesystem.unstrip_protocol(path), _url_size(filesystem, path))
        elif filesystem.isdir(url):
            yield from _url_directory(filesystem, url, url)
        else:
            yield Source(url)
    except Exception as error:  # noqa: BLE001 - a listing that fails is one row, not the end of the scan
        yield Source(url, problem=f"cannot list: {_error_text(error)}")


def _url_directory(filesystem: Any, path: str, given: str | None = None) -> Iterator[Source]:
    """Every file under a URL directory, sorted; spelled from ``given`` (the URL as typed) when there is one."""
    details = filesystem.find(path, detail=True)
    base = filesystem._strip_protocol(given).rstrip("/") + "/" if given is not None else None
    for name in sorted(details):
        relative = name[len(base):] if base is not None and name.startswith(base) else None
        if any(part.startswith(".") for part in (relative or name.rsplit("/", 1)[-1]).split("/")):
            continue
        size = details[name].get("size")
        spelled = given.rstrip("/") + "/" + relative if given is not None and relative is not None else filesystem.unstrip_protocol(name)
        yield Source(spelled, size if isinstance(size, int) else None)


def _url_size(filesystem: Any, path: str) -> int | None:
    with contextlib.suppress(Exception):
        size = filesystem.size(path)
        return size if isinstance(size, int) else None
    return None


# --------------------------------------------------------------------------- one trace


@dataclass(frozen=True)
class ScanSettings:
    """What every trace of a scan is read and replayed with (plain values: sent to other processes)."""

    max_bytes: int
    max_text_bytes: int
    max_depth: int
    max_container_length: int
    distributed_version: str | None = None

    @classmethod
    def of(cls, limits: Limits, distributed_version: str | None = None) -> ScanSettings:
        return cls(limits.max_bytes, limits.max_text_bytes, limits.max_depth, limits.max_container_length,
                   distributed_version)  # fmt: skip

    @property
    def limits(self) -> Limits:
        return Limits(self.max_bytes, self.max_text_bytes, self.max_depth, self.max_container_length)


@dataclass(frozen=True)
class Problem:
    """The findings of one trace blamed on one recommendation, named by its primary finding."""

    signature: str
    rule: str
    severity: str
    #: the primary finding's key as typed on the command line (``replay run --key``)
    key: str | None
    #: how many findings it gathers
    findings: int


@dataclass(frozen=True)
class FileScan:
    """One row of the scan: a trace replayed (or the reason it could not be read)."""

    path: str
    format: str | None = None
    events: int | None = None
    errors: int = 0
    warnings: int = 0
    unreadable: str | None = None
    #: the release the trace says it came from (or the one the scan was told)
    release: str | None = None
    size: int | None = None
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "events": self.events, "errors": self.errors,
                "warnings": self.warnings, "unreadable": self.unreadable}  # fmt: skip


def scan_source(source: Source, settings: ScanSettings) -> FileScan:
    """Read and replay one local file or URL (here: in this process), never raising."""
    if source.problem is not None:
        return FileScan(source.path, unreadable=source.problem, size=source.size)
    if source.path == "-":
        return scan_data(STDIN_NAME, sys.stdin.buffer.read(settings.max_bytes + 1), settings)
    if not source.url:
        return _scan_file(source.path, Path(source.path), settings, source.size)
    directory = tempfile.mkdtemp(prefix="replay-scan-")
    try:
        copy = Path(directory) / "trace"
        try:
            size = _download(source.path, copy, settings.max_bytes)
        except UnreadableInputError as error:
            return FileScan(source.path, unreadable=_reason(error), size=source.size)
        except Exception as error:  # noqa: BLE001 - one row, never the end of the scan
            return FileScan(source.path, unreadable=_unexpected(error), size=source.size)
        return _scan_file(source.path, copy, settings, size)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def scan_data(name: str, data: bytes, settings: ScanSettings) -> FileScan:
    """Replay a trace given as bytes (standard input, or a local file sent to a cluster's worker)."""
    if len(data) > settings.max_bytes:
        return FileScan(name, unreadable=f"more than {size_text(settings.max_bytes)} of data (raise it with --max-bytes)",
                        size=len(data))  # fmt: skip
    directory = tempfile.mkdtemp(prefix="replay-scan-")
    try:
        copy = Path(directory) / "trace"
        copy.write_bytes(data)
        return _scan_file(name, copy, settings, len(data))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _download(url: str, target: Path, limit: int) -> int:
    """Copy ``url`` to ``target`` through fsspec, refusing more than ``limit`` bytes."""
    try:
        fsspec = optional("fsspec")
    except ImportError:
        scheme = url.split("://", 1)[0]
        raise UnreadableInputError(url, f"reading {scheme}:// URLs needs fsspec (pip install fsspec)") from None
    copied = 0
    try:
        with fsspec.open(url, "rb") as stream, target.open("wb") as copy:
            while chunk := stream.read(1 << 20):
                copied += len(chunk)
                if copied > limit:
                    raise LimitExceededError(url, f"more than {size_text(limit)} of data (raise it with --max-bytes)")
                copy.write(chunk)
    except FileNotFoundError:
        raise UnreadableInputError(url, "no such file") from None
    except ImportError as error:  # a protocol whose fsspec backend is not installed (s3fs, gcsfs, aiohttp)
        raise UnreadableInputError(url, f"cannot read: {error}") from None
    except OSError as error:
        raise UnreadableInputError(url, f"cannot read: {_error_text(error)}") from None
    return copied


def _scan_file(name: str, path: Path, settings: ScanSettings, size: int | None) -> FileScan:
    """``replay run --json`` of one file, as a row; ``name`` is how the row names it."""
    try:
        trace = open_trace(path, settings.limits)
        if str(path) != name:  # a copy (a URL's, standard input's, a file sent to a cluster): named as given
            trace = dataclasses.replace(trace, metadata=trace.metadata.model_copy(update={"path": name}))
        result = replay_trace(trace, settings.distributed_version, keep_steps=False)
        problems = problems_of(result, trace) if result.findings else ()
    except ReplayError as error:
        return FileScan(name, unreadable=_reason(error, str(path), name), size=size)
    except MemoryError:
        return FileScan(name, unreadable="out of memory reading the input (lower the limits)", size=size)
    except Exception as error:  # noqa: BLE001 - as ``replay run`` does: one line, exit 3
        return FileScan(name, unreadable=_unexpected(error).replace(str(path), name), size=size)
    _collect_now_and_then()
    release = settings.distributed_version or result.metadata.distributed_version
    return FileScan(name, result.metadata.format, result.events, result.errors, result.warnings, None, release,
                    size, problems)  # fmt: skip


#: Traces replayed by this process; with the collector off (as the CLI runs), the few reference
#: cycles a replay leaves are collected every :data:`_COLLECT_EVERY` traces, not left to pile up
#: over a scan of thousands.
_scanned = 0
_COLLECT_EVERY = 64


def _collect_now_and_then() -> None:
    global _scanned  # noqa: PLW0603 - one counter per process
    _scanned += 1
    if _scanned % _COLLECT_EVERY == 0 and not gc.isenabled():
        gc.collect()


def _reason(error: ReplayError, local: str | None = None, name: str | None = None) -> str:
    """What ``replay run`` prints after ``replay: error: PATH:`` (the offset included)."""
    if isinstance(error, UnreadableInputError):
        text = error.reason + (f" (at {error.offset})" if error.offset is not None else "")
    else:
        text = str(error)
    return text.replace(local, name) if local and name else text


def _unexpected(error: BaseException) -> str:
    return f"unexpected {type(error).__name__}: {error} (rerun with --debug)"


def _error_text(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _row_of(future: Any, path: str, failure: str) -> Any:
    """A finished future's scan row; a worker that died is an unreadable row saying so."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - a worker that died: one row
        return FileScan(path, unreadable=f"{failure}: {_error_text(error)}")


# --------------------------------------------------------------------------- problems and signatures

#: The catalogue's order, the last tie-break of a problem's primary finding.
_RULE_ORDER = {name: index for index, name in enumerate(RULES)}
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def problems_of(result: ReplayResult, trace: Trace) -> tuple[Problem, ...]:
    """The findings of one replay gathered by anchor, each gathering signed (see the module)."""
    clusters: dict[tuple[str, int | None], list[Finding]] = {}
    for finding in result.findings:
        clusters.setdefault(_anchor(finding), []).append(finding)
    primaries = [min(findings, key=_precedence) for findings in clusters.values()]
    wanted: set[int] = set()
    for primary in primaries:
        wanted.update(index for index in _pattern_events(primary) if index is not None)
    entries = _entries_at(trace, wanted)
    problems = [
        Problem(signature(primary, entries), primary.rule, primary.severity,
                None if primary.key is None else format_key(primary.key), len(findings))
        for primary, findings in zip(primaries, clusters.values(), strict=True)
    ]  # fmt: skip
    return tuple(problems)


def _anchor(finding: Finding) -> tuple[str, int | None]:
    """What a finding is blamed on: the entry that emitted its culprit, else its own entry."""
    culprit = finding.culprit
    if culprit is not None and culprit.event is not None:
        return ("emitted", culprit.event)
    return ("at", finding.event)


def _precedence(finding: Finding) -> tuple[int, int, int, int, int]:
    """Errors first; rules checked whatever the trace says of its release; earliest; catalogue order."""
    rule = RULES.get(finding.rule)
    every_release = rule is None or rule.holds_for(None)
    event = finding.event
    return (_SEVERITY_ORDER.get(finding.severity, 3), 0 if every_release else 1, event is None,
            event if event is not None else 0, _RULE_ORDER.get(finding.rule, len(_RULE_ORDER)))  # fmt: skip


def _pattern_events(finding: Finding) -> tuple[int | None, int | None, int | None]:
    """The entries of the pattern: the replaced recommendation's, the culprit's, the finding's."""
    culprit = finding.culprit
    overrode = None if culprit is None or culprit.overrode is None else culprit.overrode.event
    emitted = None if culprit is None else culprit.event
    return overrode, emitted, finding.event


def _entries_at(trace: Trace, indexes: set[int]) -> dict[int, SchedulerTransition]:
    """The entries at ``indexes`` (one more pass over a streamed log, stopping after the last)."""
    if not indexes:
        return {}
    transitions = trace.transitions
    if isinstance(transitions, tuple):
        return {index: transitions[index] for index in indexes if 0 <= index < len(transitions)}
    last = max(indexes)
    return {
        index: entry
        for index, entry in enumerate(itertools.islice(trace.iter_transitions(), last + 1))
        if index in indexes
    }


def signature(finding: Finding, entries: Mapping[int, SchedulerTransition]) -> str:
    """``rule: pattern [stimulus]`` of a problem's primary finding, keys and ids normalised."""
    overrode, emitted, at = _pattern_events(finding)
    culprit = finding.culprit
    shown = [entries[index] for index in sorted(i for i in (overrode, emitted, at) if i is not None) if index in entries]
    normaliser = _normaliser(shown, finding)
    key = normaliser.key

    def step(entry: SchedulerTransition) -> str:
        return f"{format_key(key(entry.key))} {entry.start}→{entry.finish}"

    parts: list[str] = []
    if culprit is not None and overrode is not None and overrode in entries:
        parts.append(f"{step(entries[overrode])} ⇒ {format_key(key(culprit.key))}: {culprit.overrode.state}")  # type: ignore[union-attr]
    if culprit is not None:
        asked = f"{format_key(key(culprit.key))}: {culprit.state}"
        if culprit.overrode is not None:
            asked += f" replacing {culprit.overrode.state}"
        if emitted is None:
            parts.append(f"stimulus ⇒ {asked}")
        elif emitted in entries and emitted != overrode:
            parts.append(f"{step(entries[emitted])} ⇒ {asked}")
    if at is not None and at in entries and at not in (overrode, emitted):
        parts.append(step(entries[at]))
    subject = "" if finding.key is None else f" {format_key(key(finding.key))}"
    where = emitted if emitted is not None and emitted in entries else at
    stimulus = f" [{normaliser.stimulus(entries[where].stimulus_id)}]" if where is not None and where in entries else ""
    pattern = "; ".join(parts) if parts else ("at the end of the log" if at is None else "one entry")
    return f"{finding.rule}{subject}: {pattern}{stimulus}"


def _normaliser(entries: Sequence[SchedulerTransition], finding: Finding) -> Normaliser:
    """Addresses as ``<worker-N>`` and key tokens as ``<token-N>``, numbered by first appearance."""
    keys: list[Key] = [] if finding.key is None else [finding.key]
    if finding.culprit is not None:
        keys.append(finding.culprit.key)
    return Normaliser.single(entries, keys)


# --------------------------------------------------------------------------- groups and the report


@dataclass(frozen=True)
class Group:
    """Problems with one signature across traces."""

    signature: str
    rule: str
    severity: str
    #: traces that show it
    count: int
    #: the releases those traces came from, oldest first (None: a trace that does not say)
    releases: tuple[str | None, ...]
    #: the smallest trace that shows it (fewest entries, then fewest bytes, then first given)
    example: str
    command: str

    def to_json(self) -> dict[str, Any]:
        return {"signature": self.signature, "rule": self.rule, "count": self.count,
                "releases": list(self.releases), "example": self.example, "command": self.command}  # fmt: skip


@dataclass(frozen=True)
class ScanReport:
    """The whole scan: a row per file in the order given, the groups in a fixed order."""

    files: tuple[FileScan, ...]
    groups: tuple[Group, ...]

    @property
    def with_errors(self) -> int:
        return sum(1 for row in self.files if row.errors)

    @property
    def unreadable(self) -> int:
        return sum(1 for row in self.files if row.unreadable is not None)

    @property
    def exit_code(self) -> int:
        """0 no trace has an error finding, 1 one has, 3 nothing at all could be read."""
        if not self.files or self.unreadable == len(self.files):
            return 3
        return 1 if self.with_errors else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [row.to_json() for row in self.files],
            "groups": [group.to_json() for group in self.groups],
            "summary": {"files": len(self.files), "with_errors": self.with_errors, "unreadable": self.unreadable},
        }


def report(files: Sequence[FileScan], distributed_version: str | None = None) -> ScanReport:
    return ScanReport(tuple(files), tuple(group_problems(files, distributed_version)))


def group_problems(files: Sequence[FileScan], distributed_version: str | None = None) -> list[Group]:
    """Every signature once: errors first, then the most traces, then by signature."""
    members: dict[str, list[tuple[int, FileScan, Problem]]] = {}
    for position, row in enumerate(files):
        for problem in row.problems:
            found = members.setdefault(problem.signature, [])
            if not found or found[-1][1] is not row:  # a trace counts once per signature
                found.append((position, row, problem))
    groups = []
    for name, shown in members.items():
        _, example, problem = min(shown, key=lambda item: (item[1].events or 0, item[1].size or 0, item[0]))
        releases = sorted({row.release for _, row, _ in shown}, key=_release_order)
        groups.append(Group(name, problem.rule, problem.severity, len(shown), tuple(releases), example.path,
                            replay_command(example.path, problem.key, distributed_version)))  # fmt: skip
    groups.sort(key=lambda group: (_SEVERITY_ORDER.get(group.severity, 3), -group.count, group.signature))
    return groups


def _release_order(release: str | None) -> tuple[int, tuple[int, ...], str]:
    parsed = parse_release(release) if release is not None else None
    if release is None:
        return (2, (), "")
    return (0, parsed, release) if parsed is not None else (1, (), release)


#: Commands that print a URL's content, for ``replay run -``.
_FETCHERS = {"http": "curl -sSfL", "https": "curl -sSfL", "s3": "aws s3 cp {url} -", "gs": "gcloud storage cat"}


def replay_command(path: str, key: str | None, distributed_version: str | None = None) -> str:
    """The exact ``replay run`` command that shows a problem of the trace at ``path``."""
    options = ""
    if key is not None:
        options += f" --key {shell_word(key)}"
    if distributed_version is not None:
        options += f" --distributed-version {shell_word(distributed_version)}"
    if path == STDIN_NAME or path == "-":
        return f"replay run -{options}"
    if not is_url(path):
        return f"replay run {shell_word(path)}{options}"
    scheme = path.split("://", 1)[0].lower()
    if scheme == "file":
        return f"replay run {shell_word(path.split('://', 1)[1])}{options}"
    fetch = _FETCHERS.get(scheme)
    url = shell_word(path)
    if fetch is None:
        script = "import fsspec, shutil, sys; shutil.copyfileobj(fsspec.open(sys.argv[1], 'rb').open(), sys.stdout.buffer)"
        fetched = f"python -c {shell_word(script)} {url}"
    elif "{url}" in fetch:
        fetched = fetch.format(url=url)
    else:
        fetched = f"{fetch} {url}"
    return f"{fetched} | replay run -{options}"


_SAFE_WORD = re.compile(r"^[\w@%+=:,./\-]+$")


def shell_word(text: str) -> str:
    """``text`` as one word of a POSIX shell command, quoted only as much as it needs."""
    if _SAFE_WORD.match(text):
        return text
    if not any(char in text for char in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


# --------------------------------------------------------------------------- running it


@dataclass
class ScanRun:
    """How to run a scan: ``workers`` local processes (None: every core) or a cluster's ``scheduler``."""

    workers: int | None = None
    scheduler: str | None = None
    #: called with each row as it arrives (in completion order), e.g. to advance a progress bar
    on_done: Callable[[FileScan], None] = field(default=lambda _: None)


def scan_sources(sources: Sequence[Source], settings: ScanSettings, run: ScanRun | None = None) -> list[FileScan]:
    """Every source scanned, rows in the order of ``sources``, however the work was spread."""
    run = run or ScanRun()
    if run.scheduler is not None:
        return _on_cluster(sources, settings, run.scheduler, run.on_done)
    workers = run.workers if run.workers is not None else cores()
    workers = max(1, min(workers, len(sources)))
    if workers == 1 or any(source.path == "-" for source in sources):
        rows = []
        for source in sources:
            rows.append(scan_source(source, settings))
            run.on_done(rows[-1])
        return rows
    return _in_processes(sources, settings, workers, run.on_done)


def cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        with contextlib.suppress(OSError):
            return max(1, len(affinity(0)))
    return os.cpu_count() or 1


def _largest_first(sources: Sequence[Source]) -> list[int]:
    """Positions of ``sources``, the largest first: the long ones start early and end together."""
    return sorted(range(len(sources)), key=lambda index: (-(sources[index].size or 0), index))


def _in_processes(sources: Sequence[Source], settings: ScanSettings, workers: int,
                  on_done: Callable[[FileScan], None]) -> list[FileScan]:  # fmt: skip
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    # fork where it is safe (Linux): the workers start with replay already imported
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    rows: list[FileScan | None] = [None] * len(sources)
    order = iter(_largest_first(sources))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[FileScan], int] = {}

        def submit(count: int) -> None:
            for index in itertools.islice(order, count):
                pending[pool.submit(scan_source, sources[index], settings)] = index

        submit(2 * workers)  # a few queued per process: no process waits, and the order holds
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                row = _row_of(future, sources[index].path, "the scanning process failed")
                rows[index] = row
                on_done(row)
            submit(len(done))
    return [row for row in rows if row is not None]


def _on_cluster(sources: Sequence[Source], settings: ScanSettings, address: str,
                on_done: Callable[[FileScan], None]) -> list[FileScan]:  # fmt: skip
    """The same scan on a Dask cluster, through distributed's futures.

    A local file is read here and sent (the workers may not see this file system); a URL
    is read by the worker that scans it. At most a few traces per worker thread are in
    flight, so a scan of many large local files does not hold them all in memory.
    """
    try:
        distributed = optional("distributed")
    except ImportError:
        raise UsageError("--scheduler needs distributed (pip install distributed)") from None
    rows: list[FileScan | None] = [None] * len(sources)
    order = iter(_largest_first(sources))
    try:
        client = distributed.Client(address, timeout="30s")
    except Exception as error:  # noqa: BLE001 - OSError, TimeoutError, a bad address: one line
        raise UsageError(f"cannot connect to the scheduler at {address}: {_error_text(error)}") from None
    with client:
        threads = sum(client.nthreads().values()) or 1
        futures: dict[Any, int] = {}
        scattered: dict[int, Any] = {}  # the bytes sent for each trace in flight, released once scanned
        done: dict[int, FileScan] = {}  # answered here, without the cluster

        def submit(completed: Any) -> None:
            """The next trace in flight: a local file's bytes sent, a URL named."""
            for index in order:
                source = sources[index]
                if source.problem is None and not source.url and source.path != "-":
                    try:
                        local = Path(source.path)
                        data = local.read_bytes() if local.stat().st_size <= settings.max_bytes else None
                    except OSError:
                        data = None
                    if data is None:  # missing, unreadable or too large here: answered here, as `replay run` would
                        done[index] = scan_source(source, settings)
                        continue
                    [scattered[index]] = client.scatter([data], hash=False)
                    future = client.submit(scan_data, source.path, scattered[index], settings, pure=False)
                elif source.problem is None and source.path != "-":
                    future = client.submit(scan_source, source, settings, pure=False)
                else:
                    done[index] = scan_source(source, settings)
                    continue
                futures[future] = index
                completed.add(future)
                return

        completed = distributed.as_completed()
        for _ in range(2 * threads):
            submit(completed)
        for index, row in list(done.items()):
            rows[index] = row
            on_done(row)
        done.clear()
        for future in completed:
            index = futures.pop(future)
            row = _row_of(future, sources[index].path, "the cluster failed to scan it")
            if not isinstance(row, FileScan):  # a worker with another replay installed
                row = FileScan(sources[index].path, unreadable="the worker returned something else than a scan row")
            rows[index] = row
            on_done(row)
            scattered.pop(index, None)
            submit(completed)
            for index, row in list(done.items()):
                rows[index] = row
                on_done(row)
            done.clear()
    return [row for row in rows if row is not None]
