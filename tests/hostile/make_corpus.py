"""Build the hostile-input corpus: every bad input replay must answer with one clear line.

Small cases are committed under ``tests/hostile/corpus/`` (regenerate them with
``python tests/hostile/make_corpus.py tests/hostile/corpus``); large ones (a 100 MB text,
gzip bombs that expand to gigabytes) are built at test time into a temporary directory
with ``python tests/hostile/make_corpus.py --large DIR``. The builders are deterministic,
and a test checks that the committed files are what this script writes.

What each file must get is in :mod:`cases`.
"""

from __future__ import annotations

import gzip
import json
import pickle  # noqa: TID251 - only to *write* a pickle the reader must refuse
import random
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "traces" / "2024.2.1" / "seed"
#: The file a python-object YAML would create if anything executed it.
SENTINEL = Path("/tmp/replay-hostile-executed")
MiB = 1024 * 1024

Builder = Callable[[], bytes]


def _pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def _entry(key: Any, start: str, finish: str, recommendations: dict[Any, str] | None = None,
           stimulus: str = "update-graph-1", timestamp: float = 1.0) -> list[Any]:  # fmt: skip
    return [key, start, finish, recommendations or {}, stimulus, timestamp]


def _clean_log() -> list[list[Any]]:
    """A short, legal log: x is computed and released."""
    return [
        _entry("x", "released", "waiting", {"x": "processing"}, "update-graph-1", 1.0),
        _entry("x", "waiting", "processing", {}, "update-graph-1", 1.1),
        _entry("x", "processing", "memory", {}, "task-finished-1", 1.2),
    ]


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _seed(name: str) -> bytes:
    return (SEED / name).read_bytes()


def _dump(transition_log: list[Any]) -> dict[str, Any]:
    return {
        "scheduler": {
            "transition_log": transition_log,
            "tasks": {},
            "transition_counter": len(transition_log),
            "address": "tcp://127.0.0.1:1",
            "workers": {},
        },
        "workers": {},
        "versions": {"scheduler": {"packages": {"distributed": "2024.2.1"}}},
    }


# --- empty and truncated -------------------------------------------------------------------


def empty() -> bytes:
    return b""


def whitespace_only() -> bytes:
    return b"  \n\t\r\n  \n"


def truncated_gzip() -> bytes:
    data = _seed("dump.msgpack.gz")
    return data[: len(data) // 2]


def gzip_header_only() -> bytes:
    return _seed("dump.msgpack.gz")[:10]


def gzip_bad_crc() -> bytes:
    data = bytearray(_seed("dump.msgpack.gz"))
    data[-8] ^= 0xFF  # the CRC32 in the trailer
    return bytes(data)


def gzip_empty_member() -> bytes:
    return _gzip(b"")


def truncated_msgpack() -> bytes:
    data = _seed("transition_log.msgpack")
    return data[: len(data) * 2 // 3]


def corrupt_msgpack() -> bytes:
    data = bytearray(_seed("transition_log.msgpack"))
    data[len(data) // 2] = 0xC1  # the one byte msgpack never uses
    return bytes(data)


def trailing_garbage_msgpack() -> bytes:
    return _seed("transition_log.msgpack") + b"\xc1\xc1garbage"


# --- msgpack length bombs: headers that declare far more than the file holds -----------------


def bomb_array32() -> bytes:
    return b"\xdd\xff\xff\xff\xff"


def bomb_map32() -> bytes:
    return b"\xdf\xff\xff\xff\xff"


def _entry_prefix() -> bytes:
    """An array of one 6-field entry, up to (not including) its key."""
    return b"\x91\x96"


def bomb_str32() -> bytes:
    return _entry_prefix() + b"\xdb\xff\xff\xff\xff" + b"x" * 16


def bomb_bin32() -> bytes:
    return _entry_prefix() + b"\xc6\xff\xff\xff\xff" + b"x" * 16


def bomb_ext32() -> bytes:
    return _entry_prefix() + b"\xc9\xff\xff\xff\xff\x01" + b"x" * 16


def bomb_nested_arrays() -> bytes:
    """Sixty nested arrays, each declaring just under ten million elements."""
    return b"\x91" + b"\xdd\x00\x98\x96\x7f" * 60


def bomb_recommendations_map() -> bytes:
    head = _pack("x") + _pack("released") + _pack("waiting")
    return _entry_prefix() + head + b"\xdf\x00\x98\x96\x7f" + b"\xa1k\xa1v" * 4


def bomb_dump_log() -> bytes:
    return b"\x81" + _pack("scheduler") + b"\x81" + _pack("transition_log") + b"\xdd\xff\xff\xff\xff"


def bomb_dump_tasks() -> bytes:
    return b"\x81" + _pack("scheduler") + b"\x81" + _pack("tasks") + b"\xdf\x7f\xff\xff\xff"


# --- nesting ----------------------------------------------------------------------------------


def deep_msgpack() -> bytes:
    return b"\x91" * 20_000 + b"\xc0"


def deep_msgpack_key() -> bytes:
    """One entry whose key is a list nested 200 deep (msgpack's own stack allows 1024)."""
    key = b"\x91" * 200 + _pack("x")
    return _entry_prefix() + key + _pack("released") + _pack("waiting") + _pack({}) + _pack("s") + _pack(1.0)


def deep_msgpack_dump() -> bytes:
    """A dump whose transition log holds an entry with a 500-deep recommendation value."""
    value = b"\x91" * 500 + _pack("x")
    entry = b"\x96" + _pack("x") + _pack("released") + _pack("waiting") + b"\x81" + _pack("x") + value
    entry += _pack("s") + _pack(1.0)
    return b"\x81" + _pack("scheduler") + b"\x81" + _pack("transition_log") + b"\x91" + entry


def deep_json() -> bytes:
    return b"[" * 20_000 + b"]" * 20_000


def deep_json_object() -> bytes:
    return b'{"a":' * 20_000 + b"1" + b"}" * 20_000


def deep_jsonl() -> bytes:
    return _json(_clean_log()[0]) + b"\n" + b"[" * 20_000 + b"]" * 20_000 + b"\n"


def deep_yaml() -> bytes:
    return b"scheduler:\n  transition_log: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"


def deep_yaml_block() -> bytes:
    return b"scheduler:\n  transition_log:\n  " + b"- " * 5_000 + b"x\n"


def deep_text() -> bytes:
    return b"Transition(key=" + b"(" * 20_000 + b"'x'" + b")" * 20_000 + b")\n"


def deep_text_list() -> bytes:
    return b"story: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"


# --- YAML -------------------------------------------------------------------------------------


def yaml_billion_laughs() -> bytes:
    lines = ["scheduler:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    lines.append("  transition_log: *a9")
    return ("\n".join(lines) + "\n").encode()


def yaml_python_object() -> bytes:
    return (f"scheduler:\n  transition_log: !!python/object/apply:os.system ['touch {SENTINEL}']\n").encode()


def yaml_python_object_new() -> bytes:
    return (
        f"scheduler:\n  transition_log: !!python/object/new:subprocess.Popen\n    args: [['touch', '{SENTINEL}']]\n"
    ).encode()


def yaml_python_name() -> bytes:
    return b"scheduler:\n  transition_log: !!python/name:os.system\n"


def yaml_python_tuple() -> bytes:
    """A 2021.11.2-style dump: tuples tagged ``!!python/tuple`` (harmless; read as lists)."""
    return (
        b"scheduler:\n"
        b"  transition_log:\n"
        b"  - !!python/tuple [x, released, waiting, {x: processing}, update-graph-1, 1.0]\n"
        b"  - !!python/tuple [x, waiting, processing, {}, update-graph-1, 1.1]\n"
        b"  - !!python/tuple [!!python/tuple [t, 0], released, waiting, {}, update-graph-1, 1.2]\n"
        b"versions:\n"
        b"  scheduler:\n"
        b"    packages: {distributed: 2021.11.2}\n"
    )


def yaml_invalid() -> bytes:
    return b"scheduler:\n  transition_log: [unclosed, \n  - : : :\n\t\tbad\n"


def yaml_not_a_dump() -> bytes:
    return b"---\n- just\n- a list\n"


def yaml_crlf() -> bytes:
    return _seed("dump.yaml").replace(b"\n", b"\r\n")


def yaml_bom() -> bytes:
    return b"\xef\xbb\xbf" + _seed("dump.yaml")


# --- executable and foreign formats -----------------------------------------------------------


def pickle_renamed() -> bytes:
    return pickle.dumps([["x", "released", "waiting", {}, "s", 1.0]], protocol=4)


def pickle_protocol0_renamed() -> bytes:
    return pickle.dumps([["x", "released", "waiting", {}, "s", 1.0]], protocol=0)


def binary_garbage() -> bytes:
    return random.Random(7).randbytes(4096)


def binary_garbage_gzip() -> bytes:
    return _gzip(random.Random(8).randbytes(4096))


def zip_file() -> bytes:
    return b"PK\x03\x04" + random.Random(9).randbytes(200)


def utf16_text() -> bytes:
    return _seed("story.txt").decode().encode("utf-16")


def msgpack_scalar() -> bytes:
    return _pack(42)


def msgpack_string() -> bytes:
    return _pack("just a string, not a trace")


def json_scalar() -> bytes:
    return b'"a string"'


def json_not_a_trace() -> bytes:
    return _json({"hello": "world"})


def json_invalid() -> bytes:
    return b'[["x", "released", "waiting", {}, "s", 1.0], ["y", '


# --- entries of the wrong shape or type ------------------------------------------------------


def _log_with(bad: Any, at: int = 1) -> bytes:
    log: list[Any] = _clean_log()
    log.insert(at, bad)
    return _json(log)


def entry_too_short() -> bytes:
    return _log_with(["x", "released", "waiting", {}])


def entry_too_long() -> bytes:
    return _log_with(["x", "released", "waiting", {}, "s", 1.0, "extra", "more"])


def entry_not_a_list() -> bytes:
    return _log_with("x released waiting")


def entry_start_not_str() -> bytes:
    return _log_with(["x", 5, "waiting", {}, "s", 1.0])


def entry_recommendations_list() -> bytes:
    return _log_with(["x", "released", "waiting", ["y", "processing"], "s", 1.0])


def entry_recommendation_value_int() -> bytes:
    return _log_with(["x", "released", "waiting", {"y": 7}, "s", 1.0])


def entry_timestamp_str() -> bytes:
    return _log_with(["x", "released", "waiting", {}, "s", "yesterday"])


def entry_stimulus_int() -> bytes:
    return _log_with(["x", "released", "waiting", {}, 12, 1.0])


def msgpack_entry_wrong_type() -> bytes:
    return _pack([*_clean_log(), 17])


def dump_log_not_a_list() -> bytes:
    return _gzip(_pack({"scheduler": {"transition_log": "nope"}}))


def dump_scheduler_not_a_map() -> bytes:
    return _gzip(_pack({"scheduler": [1, 2, 3]}))


def dump_bad_entry() -> bytes:
    log: list[Any] = _clean_log()
    log.append(["x", "memory", None, {}, "s", 1.0])
    return _gzip(_pack(_dump(log)))


def client_story_bad() -> bytes:
    return _pack([["scheduler", *_clean_log()[0]], ["scheduler", "x"], "oops"])


def native_bad_header() -> bytes:
    return _json({"format": "replay-trace", "version": 1, "metadata": {"path": 5, "format": []}})


def native_bad_transition() -> bytes:
    return _json({"format": "replay-trace", "version": 1, "metadata": {"path": "p", "format": "f"},
                  "transitions": [{"key": "x", "start": "released", "finish": "waiting",
                                   "recommendations": [["y"]], "stimulus_id": "s", "timestamp": 1.0}]})  # fmt: skip


# --- odd but readable -------------------------------------------------------------------------


def unknown_states() -> bytes:
    log = _clean_log()
    log.append(_entry("x", "memory", "exploded", {"x": "zombified"}, "client-releases-keys-1", 1.3))
    log.append(_entry("y", "limbo", "released", {}, "client-releases-keys-1", 1.4))
    return _json(log)


def odd_keys() -> bytes:
    keys: list[Any] = [
        ("t", 0), ("t", ("u", 1), 2), 5, 2.5, -3, -0.5, 0, b"raw-bytes", "ünïcødé-🔑", "",
        "('looks', 'like', 'a', 'tuple')", "[1, 2]", 10**18,
    ]  # fmt: skip
    log = []
    for number, key in enumerate(keys):
        stimulus = f"update-graph-{number}"
        log.append(_entry(key, "released", "waiting", {key: "processing"}, stimulus, 1.0 + number))
        log.append(_entry(key, "waiting", "processing", {}, stimulus, 1.0 + number))
    return _pack(log)


def odd_keys_json() -> bytes:
    keys: list[Any] = [["t", 0], ["t", ["u", 1], 2], 5, 2.5, -3, "ünïcødé", ""]
    return _json([_entry(key, "released", "waiting", {}, f"s-{n}") for n, key in enumerate(keys)])


def key_none() -> bytes:
    return _pack([*_clean_log(), _entry(None, "released", "waiting")])


def key_bool() -> bytes:
    return _pack([*_clean_log(), _entry(True, "released", "waiting")])


def key_dict() -> bytes:
    return _pack([*_clean_log(), _entry({"a": 1}, "released", "waiting")])


def key_nan() -> bytes:
    return _pack([*_clean_log(), _entry(float("nan"), "released", "waiting")])


def key_infinite() -> bytes:
    return _pack([*_clean_log(), _entry(("t", float("-inf")), "released", "waiting")])


def key_none_json() -> bytes:
    return _json([*_clean_log(), _entry(None, "released", "waiting")])


def key_list_of_dict() -> bytes:
    return _json([*_clean_log(), _entry(["t", {"a": 1}], "released", "waiting")])


def recommendation_key_bool() -> bytes:
    return _pack([*_clean_log(), ["y", "released", "waiting", {False: "processing"}, "s", 1.0]])


def empty_log_dump() -> bytes:
    return _gzip(_pack(_dump([])))


def empty_log_dump_yaml() -> bytes:
    return (
        b"scheduler:\n  transition_log: []\n  tasks: {}\nworkers: {}\n"
        b"versions:\n  scheduler:\n    packages: {distributed: 2024.2.1}\n"
    )


def empty_log_json() -> bytes:
    return b"[]"


def empty_log_msgpack() -> bytes:
    return _pack([])


def json_nan_timestamp() -> bytes:
    text = _json(_clean_log()).decode().replace("1.1", "NaN").replace("1.2", "Infinity")
    return text.encode()


def json_nan_key() -> bytes:
    return b'[[NaN, "released", "waiting", {}, "s", 1.0]]'


def bom_story() -> bytes:
    return b"\xef\xbb\xbf" + _seed("story.txt")


def bom_json() -> bytes:
    return b"\xef\xbb\xbf" + _json(_clean_log())


def crlf_story() -> bytes:
    return _seed("story_pprint.txt").replace(b"\n", b"\r\n")


def crlf_jsonl() -> bytes:
    return b"".join(_json(entry) + b"\r\n" for entry in _clean_log())


def invalid_utf8_msgpack() -> bytes:
    """A key whose bytes are not UTF-8 (kept, as surrogate escapes)."""
    bad_key = b"\xa4\xff\xfe\xfd\xfc"
    entry = b"\x96" + bad_key + _pack("released") + _pack("waiting") + _pack({}) + _pack("s") + _pack(1.0)
    return b"\x91" + entry


def text_no_entries() -> bytes:
    return b"Hello, this is a bug report. It broke (somehow) [see below].\n"


def text_truncated_entries() -> bytes:
    lines = _seed("story_pprint.txt").splitlines(keepends=True)
    return b"".join(lines[: len(lines) // 2]) + b"  ('g', 'memory', 're\xe2\x80\xa6\n"


def text_hostile_calls() -> bytes:
    return (
        f"[Transition(key=__import__('os').system('touch {SENTINEL}'), start='released', "
        "finish='waiting', recommendations={}, stimulus_id='s', timestamp=1.0),\n"
        "(exec('import os'), 'released', 'waiting', {}, 's', 1.0)]\n"
    ).encode()


SMALL: dict[str, Builder] = {
    "empty.msgpack": empty,
    "whitespace.txt": whitespace_only,
    "truncated.msgpack.gz": truncated_gzip,
    "gzip-header-only.msgpack.gz": gzip_header_only,
    "gzip-bad-crc.msgpack.gz": gzip_bad_crc,
    "gzip-empty.gz": gzip_empty_member,
    "truncated.msgpack": truncated_msgpack,
    "corrupt.msgpack": corrupt_msgpack,
    "trailing-garbage.msgpack": trailing_garbage_msgpack,
    "bomb-array32.msgpack": bomb_array32,
    "bomb-map32.msgpack": bomb_map32,
    "bomb-str32.msgpack": bomb_str32,
    "bomb-bin32.msgpack": bomb_bin32,
    "bomb-ext32.msgpack": bomb_ext32,
    "bomb-nested-arrays.msgpack": bomb_nested_arrays,
    "bomb-recommendations.msgpack": bomb_recommendations_map,
    "bomb-dump-log.msgpack": bomb_dump_log,
    "bomb-dump-tasks.msgpack": bomb_dump_tasks,
    "deep.msgpack": deep_msgpack,
    "deep-key.msgpack": deep_msgpack_key,
    "deep-dump.msgpack": deep_msgpack_dump,
    "deep.json": deep_json,
    "deep-object.json": deep_json_object,
    "deep.jsonl": deep_jsonl,
    "deep-flow.yaml": deep_yaml,
    "deep-block.yaml": deep_yaml_block,
    "deep.txt": deep_text,
    "deep-list.txt": deep_text_list,
    "billion-laughs.yaml": yaml_billion_laughs,
    "python-object.yaml": yaml_python_object,
    "python-object-new.yaml": yaml_python_object_new,
    "python-name.yaml": yaml_python_name,
    "python-tuple.yaml": yaml_python_tuple,
    "invalid.yaml": yaml_invalid,
    "not-a-dump.yaml": yaml_not_a_dump,
    "crlf.yaml": yaml_crlf,
    "bom.yaml": yaml_bom,
    "pickle.msgpack": pickle_renamed,
    "pickle-protocol0.msgpack": pickle_protocol0_renamed,
    "garbage.bin": binary_garbage,
    "garbage.msgpack.gz": binary_garbage_gzip,
    "zip.msgpack": zip_file,
    "utf16.txt": utf16_text,
    "scalar.msgpack": msgpack_scalar,
    "string.msgpack": msgpack_string,
    "scalar.json": json_scalar,
    "not-a-trace.json": json_not_a_trace,
    "invalid.json": json_invalid,
    "entry-too-short.json": entry_too_short,
    "entry-too-long.json": entry_too_long,
    "entry-not-a-list.json": entry_not_a_list,
    "entry-start-int.json": entry_start_not_str,
    "entry-recommendations-list.json": entry_recommendations_list,
    "entry-recommendation-int.json": entry_recommendation_value_int,
    "entry-timestamp-str.json": entry_timestamp_str,
    "entry-stimulus-int.json": entry_stimulus_int,
    "entry-int.msgpack": msgpack_entry_wrong_type,
    "dump-log-not-list.msgpack.gz": dump_log_not_a_list,
    "dump-scheduler-list.msgpack.gz": dump_scheduler_not_a_map,
    "dump-bad-entry.msgpack.gz": dump_bad_entry,
    "client-story-bad.msgpack": client_story_bad,
    "native-bad-header.json": native_bad_header,
    "native-bad-transition.json": native_bad_transition,
    "unknown-states.json": unknown_states,
    "odd-keys.msgpack": odd_keys,
    "odd-keys.json": odd_keys_json,
    "key-none.msgpack": key_none,
    "key-bool.msgpack": key_bool,
    "key-dict.msgpack": key_dict,
    "key-nan.msgpack": key_nan,
    "key-inf.msgpack": key_infinite,
    "key-none.json": key_none_json,
    "key-list-of-dict.json": key_list_of_dict,
    "recommendation-key-bool.msgpack": recommendation_key_bool,
    "empty-log-dump.msgpack.gz": empty_log_dump,
    "empty-log-dump.yaml": empty_log_dump_yaml,
    "empty-log.json": empty_log_json,
    "empty-log.msgpack": empty_log_msgpack,
    "nan-timestamp.json": json_nan_timestamp,
    "nan-key.json": json_nan_key,
    "bom-story.txt": bom_story,
    "bom.json": bom_json,
    "crlf-story.txt": crlf_story,
    "crlf.jsonl": crlf_jsonl,
    "invalid-utf8.msgpack": invalid_utf8_msgpack,
    "no-entries.txt": text_no_entries,
    "truncated-story.txt": text_truncated_entries,
    "hostile-calls.txt": text_hostile_calls,
}


# --- large cases, generated at test time -----------------------------------------------------


def _gzip_member(data: bytes) -> bytes:
    """One gzip member (a gzip file may be many members back to back; readers join them)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def _repeat_member(prefix: bytes, unit: bytes, copies: int, path: Path) -> None:
    member = _gzip_member(unit)
    with path.open("wb") as stream:
        stream.write(_gzip_member(prefix))
        for _ in range(copies):
            stream.write(member)


def write_text_100mb(path: Path) -> None:
    """A 100 MB single-line text (no newline at all)."""
    chunk = b"('x', 'released', 'waiting', {}, 'stimulus', 1.0) " * 20_000
    with path.open("wb") as stream:
        written = 0
        while written < 100 * 1000 * 1000:
            stream.write(chunk)
            written += len(chunk)


def write_gzip_bomb_msgpack(path: Path) -> None:
    """4 GiB of msgpack from a ~4 MB file: a dump whose skipped field holds 64 MiB blobs."""
    blob = 64 * MiB - 16
    prefix = b"\x81" + _pack("scheduler") + b"\xde\xff\xff"
    unit = _pack("junk") + b"\xc6" + struct.pack(">I", blob) + bytes(blob)
    _repeat_member(prefix, unit, 64, path)


def write_gzip_bomb_one_blob(path: Path) -> None:
    """One 2 GiB string declared and delivered inside a small gzip file."""
    size = 2**31 - 1
    prefix = b"\x81" + _pack("scheduler") + b"\x81" + _pack("junk") + b"\xdb" + struct.pack(">I", size)
    unit = b"a" * (64 * MiB)
    _repeat_member(prefix, unit, 32, path)


def write_gzip_bomb_log(path: Path) -> None:
    """A bare log of one 10-million-element entry, repeated: gigabytes of nils."""
    prefix = b"\xdd\xff\xff\xff\xff"
    unit = b"\xdd\x00\x98\x96\x7f" + b"\xc0" * 9_999_999
    _repeat_member(prefix, unit, 200, path)


def write_gzip_bomb_dump_log(path: Path) -> None:
    """A dump whose transition log holds gigabytes of well-formed but useless entries."""
    prefix = b"\x81" + _pack("scheduler") + b"\x81" + _pack("transition_log") + b"\xdd\x0f\xff\xff\xff"
    unit = b"\x96" + b"\xdd\x00\x0f\x42\x40" + b"\xc0" * 1_000_000 + _pack("a") + _pack("b") + b"\x80\xc0\xc0"
    _repeat_member(prefix, unit, 2000, path)


def write_gzip_bomb_text(path: Path) -> None:
    """Gigabytes of one text line from a small gzip file."""
    _repeat_member(b"[('x', ", b"a" * (64 * MiB), 48, path)


def write_gzip_bomb_yaml(path: Path) -> None:
    """A YAML dump that inflates to gigabytes."""
    _repeat_member(
        b"scheduler:\n  transition_log:\n", b"  - [x, released, waiting, {}, s, 1.0]\n" * 1_000_000, 80, path
    )


def write_gzip_bomb_jsonl(path: Path) -> None:
    """JSON Lines that inflate to gigabytes of whitespace on one line."""
    _repeat_member(b"", b" " * (64 * MiB), 48, path)


def write_text_brackets(path: Path) -> None:
    """60 MB of brackets (under the 64 MiB text limit): the text scanner must not crawl."""
    path.write_bytes(b"(" * (60 * 1000 * 1000))


LARGE: dict[str, Callable[[Path], None]] = {
    "text-100mb.txt": write_text_100mb,
    "gzip-bomb.msgpack.gz": write_gzip_bomb_msgpack,
    "gzip-bomb-blob.msgpack.gz": write_gzip_bomb_one_blob,
    "gzip-bomb-log.msgpack.gz": write_gzip_bomb_log,
    "gzip-bomb-dump-log.msgpack.gz": write_gzip_bomb_dump_log,
    "gzip-bomb.txt.gz": write_gzip_bomb_text,
    "gzip-bomb.yaml.gz": write_gzip_bomb_yaml,
    "gzip-bomb.jsonl.gz": write_gzip_bomb_jsonl,
    "brackets-60mb.txt": write_text_brackets,
}


def write_small(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in SMALL.items():
        path = directory / name
        path.write_bytes(build())
        paths.append(path)
    return paths


def write_large(directory: Path, names: list[str] | None = None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, write in LARGE.items():
        if names is not None and name not in names:
            continue
        path = directory / name
        if not path.exists():
            write(path)
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    if argv[0] == "--large":
        for path in write_large(Path(argv[1]), argv[2:] or None):
            print(f"{path.stat().st_size:>12}  {path}")
        return 0
    for path in write_small(Path(argv[0])):
        print(f"{path.stat().st_size:>12}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
