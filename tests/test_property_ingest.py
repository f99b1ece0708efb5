"""Property tests: whatever bytes arrive, reading and replaying raise only ``ReplayError``.

Random bytes, random msgpack/JSON/YAML-ish structures, entry-shaped structures with
random fields, and mutated real traces (bit flips, truncations, field swaps) of
``traces/2024.2.1/seed``: every reader through ``open_trace``, then ``replay_trace``.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.errors import ReplayError
from replay.ingest import Limits, open_trace
from replay.provenance import replay_trace

SEED = Path(__file__).resolve().parents[1] / "traces" / "2024.2.1" / "seed"
SEED_FILES = sorted(path for path in SEED.iterdir() if path.name != "meta.json")
SMALL_LIMITS = Limits(max_bytes=1 << 20, max_text_bytes=1 << 18, max_depth=16, max_container_length=10_000)
SUFFIXES = ("", ".msgpack", ".msgpack.gz", ".json", ".jsonl", ".yaml", ".txt")

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_DIRECTORY = tempfile.TemporaryDirectory(prefix="replay-property-")
_WORK = Path(_DIRECTORY.name)


def read_and_replay(data: bytes, suffix: str = "", limits: Limits | None = None) -> None:
    """The property: reading and replaying ``data`` either works or raises a ReplayError."""
    path = _WORK / f"input{suffix}"
    path.write_bytes(data)
    for worker_logs in (False, True):
        try:
            trace = open_trace(path, limits or Limits(), worker_logs=worker_logs)
            replay_trace(trace)
        except ReplayError:
            pass


def _states() -> st.SearchStrategy[str]:
    return st.sampled_from(
        ["released", "waiting", "processing", "memory", "erred", "forgotten", "queued", "no-worker", "", "zz"]
    )


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
)
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(), st.text(max_size=20))


def _tree(scalars: st.SearchStrategy[Any], *, hashable_keys: bool = True) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.text(max_size=10), st.integers(-5, 5)) if hashable_keys else st.text(max_size=10)
    return st.recursive(
        scalars,
        lambda children: st.one_of(st.lists(children, max_size=6), st.dictionaries(keys, children, max_size=4)),
        max_leaves=30,
    )


_keys = st.one_of(
    st.text(max_size=8),
    st.integers(-3, 3),
    st.floats(),
    st.lists(st.one_of(st.text(max_size=4), st.integers(0, 3)), max_size=3),
    st.none(),
    st.booleans(),
    st.binary(max_size=4),
)


@st.composite
def _entries(draw: st.DrawFn, json_safe: bool = False) -> list[Any]:
    anything = _tree(_json_scalars if json_safe else _scalars, hashable_keys=not json_safe)
    entries = []
    for _ in range(draw(st.integers(0, 12))):
        key = draw(_keys if not json_safe else st.one_of(st.text(max_size=8), st.integers(-3, 3)))
        if json_safe and isinstance(key, bytes):
            key = key.decode(errors="replace")
        recommendations = draw(
            st.one_of(
                st.dictionaries(st.text(max_size=4), _states(), max_size=3),
                anything,
            )
        )
        entry: list[Any] = [key, draw(st.one_of(_states(), anything)), draw(st.one_of(_states(), anything)),
                            recommendations]  # fmt: skip
        if draw(st.booleans()):
            entry.append(draw(st.one_of(st.text(max_size=12), anything)))
        entry.append(draw(st.one_of(st.floats(), anything)))
        if draw(st.integers(0, 9)) == 0:
            entry = entry[: draw(st.integers(0, len(entry)))]
        entries.append(entry)
    return entries


def _pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True, strict_types=False)


@PROPERTY
@given(st.binary(max_size=4096), st.sampled_from(SUFFIXES), st.booleans())
def test_random_bytes(data: bytes, suffix: str, small: bool) -> None:
    read_and_replay(data, suffix, SMALL_LIMITS if small else None)


@PROPERTY
@given(st.binary(max_size=2048))
def test_random_bytes_gzipped(data: bytes) -> None:
    read_and_replay(gzip.compress(data, mtime=0), ".msgpack.gz")


@PROPERTY
@given(_tree(_scalars), st.booleans())
def test_random_msgpack(document: Any, compress: bool) -> None:
    data = _pack(document)
    read_and_replay(gzip.compress(data, mtime=0) if compress else data)


@PROPERTY
@given(_entries(), st.sampled_from(["log", "dump", "client-story", "native"]), st.booleans())
def test_entry_shaped_msgpack(entries: list[Any], wrapper: str, small: bool) -> None:
    document: Any = entries
    if wrapper == "dump":
        document = {"scheduler": {"transition_log": entries, "tasks": {"x": {"state": "memory"}}},
                    "workers": {"tcp://w:1": {"log": entries}}}  # fmt: skip
    elif wrapper == "client-story":
        document = [["scheduler", *entry] if isinstance(entry, list) else entry for entry in entries]
    elif wrapper == "native":
        document = {"format": "replay-trace", "version": 1, "metadata": {"path": "p", "format": "f"},
                    "transitions": entries}  # fmt: skip
    data = _pack(document)
    read_and_replay(gzip.compress(data, mtime=0) if wrapper == "dump" else data, "", SMALL_LIMITS if small else None)


@PROPERTY
@given(_tree(_json_scalars, hashable_keys=False), st.booleans())
def test_random_json(document: Any, lines: bool) -> None:
    if lines and isinstance(document, list):
        data = b"\n".join(json.dumps(item).encode() for item in document)
    else:
        data = json.dumps(document).encode()
    read_and_replay(data)


@PROPERTY
@given(_entries(json_safe=True), st.sampled_from(["json", "jsonl", "text", "yaml"]))
def test_entry_shaped_text_formats(entries: list[Any], kind: str) -> None:
    if kind == "json":
        data = json.dumps(entries).encode()
    elif kind == "jsonl":
        data = b"\n".join(json.dumps(entry).encode() for entry in entries) + b"\n"
    elif kind == "text":
        data = ("story:\n" + "\n".join(repr(tuple(entry)) for entry in entries)).encode()
    else:
        data = ("scheduler:\n  transition_log: " + json.dumps(entries) + "\n").encode()
    read_and_replay(data)


def _seed_bytes() -> Iterator[tuple[str, bytes]]:
    for path in SEED_FILES:
        yield path.name, path.read_bytes()


_SEEDS = dict(_seed_bytes())


@PROPERTY
@given(st.sampled_from(sorted(_SEEDS)), st.lists(st.tuples(st.integers(0), st.integers(0, 7)), max_size=8))
def test_bit_flips_of_real_traces(name: str, flips: list[tuple[int, int]]) -> None:
    data = bytearray(_SEEDS[name])
    for position, bit in flips:
        data[position % len(data)] ^= 1 << bit
    read_and_replay(bytes(data), "." + name)


@PROPERTY
@given(st.sampled_from(sorted(_SEEDS)), st.integers(0), st.booleans())
def test_truncations_of_real_traces(name: str, cut: int, from_start: bool) -> None:
    data = _SEEDS[name]
    cut %= len(data) + 1
    read_and_replay(data[cut:] if from_start else data[:cut], "." + name)


@PROPERTY
@given(st.lists(st.tuples(st.integers(0), st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=6),
       st.sampled_from(["transition_log.msgpack", "client_story.msgpack", "dump.msgpack.gz"]))  # fmt: skip
def test_field_swaps_of_real_traces(swaps: list[tuple[int, int, int]], name: str) -> None:
    raw = _SEEDS[name]
    compressed = name.endswith(".gz")
    document = msgpack.unpackb(gzip.decompress(raw) if compressed else raw, strict_map_key=False, use_list=True)
    entries = document["scheduler"]["transition_log"] if isinstance(document, dict) else document
    for which, first, second in swaps:
        entry = entries[which % len(entries)]
        if isinstance(entry, list) and entry:
            a, b = first % len(entry), second % len(entry)
            entry[a], entry[b] = entry[b], entry[a]
    data = _pack(document)
    read_and_replay(gzip.compress(data, mtime=0) if compressed else data, "." + name)


@PROPERTY
@given(st.sampled_from(["story.txt", "story_pprint.txt", "dump.yaml"]), st.data())
def test_text_splices_of_real_traces(name: str, data: st.DataObject) -> None:
    text = _SEEDS[name].decode()
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    insert = data.draw(st.text(alphabet="()[]{}'\",\\\n :-&*!Transition", max_size=40))
    read_and_replay((text[:start] + insert + text[end:]).encode())
