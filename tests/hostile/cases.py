"""The answer every hostile input must get from ``replay run`` and ``replay info``.

``error``: exit code 3 and exactly one stderr line
``replay: error: <path>: <reason>`` whose reason matches the pattern (a regular
expression, searched from the start of the reason). ``ok``: odd but readable input,
kept; the listed exit codes (``run``: 0 clean, 1 findings; ``info``: 0) and no stderr.
``same_as``: readable, and ``replay info`` must count the same entries as that real trace.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """One corpus file and what replay must answer."""

    name: str
    why: str
    error: str | None = None  # reason pattern when the answer is exit 3
    run_codes: tuple[int, ...] = (3,)
    same_as: str | None = None  # a file under traces/2024.2.1/seed/ with the same entries
    large: bool = False


def _error(name: str, reason: str, why: str, *, large: bool = False) -> Case:
    return Case(name=name, why=why, error=reason, large=large)


def _ok(name: str, why: str, *codes: int, same_as: str | None = None) -> Case:
    return Case(name=name, why=why, run_codes=codes or (0,), same_as=same_as)


CASES: tuple[Case, ...] = (
    # empty, truncated, corrupt
    _error("empty.msgpack", r"empty file$", "nothing at all"),
    _error("whitespace.txt", r"no content \(only white space\)$", "only blanks"),
    _error("truncated.msgpack.gz", r"corrupt or truncated gzip data .*end-of-stream", "gzip cut in half"),
    _error("gzip-header-only.msgpack.gz", r"corrupt or truncated gzip data", "gzip header, no body"),
    _error("gzip-bad-crc.msgpack.gz", r"corrupt or truncated gzip data .*CRC check failed", "trailer CRC flipped"),
    _error("gzip-empty.gz", r"empty after gunzip$", "a valid gzip of nothing"),
    _error("truncated.msgpack", r"truncated msgpack: .* \(at \d+\)$", "a bare log cut at 2/3"),
    _error("corrupt.msgpack", r"corrupt msgpack: .* \(at \d+\)$", "byte 0xc1 (never used) mid-log"),
    _error("trailing-garbage.msgpack", r"extra data after the log \(at 1281\)$", "bytes after the log"),
    # msgpack length bombs: a header declares far more than the file holds
    _error("bomb-array32.msgpack", r"truncated msgpack: .*\(at 5\)$", "array32 of 2^32-1 entries"),
    _error("bomb-map32.msgpack", r"truncated msgpack: .*\(at 5\)$", "map32 of 2^32-1 pairs"),
    _error("bomb-str32.msgpack", r"(truncated msgpack|a msgpack header declares too much)", "4 GiB str32 key"),
    _error("bomb-bin32.msgpack", r"(truncated msgpack|a msgpack header declares too much)", "4 GiB bin32 key"),
    _error("bomb-ext32.msgpack", r"msgpack extension type", "ext32 header"),
    _error("bomb-nested-arrays.msgpack", r"truncated msgpack", "60 nested arrays of ~10M each"),
    _error("bomb-recommendations.msgpack", r"truncated msgpack", "a recommendations map of ~10M"),
    _error("bomb-dump-log.msgpack", r"truncated msgpack", "a dump log declaring 2^32-1 entries"),
    _error("bomb-dump-tasks.msgpack", r"truncated msgpack", "a task table declaring 2^31 tasks"),
    # nesting
    _error("deep.msgpack", r"msgpack nested deeper than 1024 levels", "100k nested arrays"),
    _error("deep-key.msgpack", r"entry 0: key nested deeper than 16 levels$", "a key 200 lists deep"),
    _error("deep-dump.msgpack", r"entry 0: tuple is not a state name$", "a recommendation 500 deep"),
    _error("deep.json", r"JSON nested too deeply", "20k nested JSON arrays"),
    _error("deep-object.json", r"JSON nested too deeply", "20k nested JSON objects"),
    _error("deep.jsonl", r"line 2 nested too deeply$", "JSON Lines, line 2 20k deep"),
    _error("deep-flow.yaml", r"invalid YAML at line 2: exceeded maximum nesting depth$", "20k [ in YAML"),
    _error("deep-block.yaml", r"invalid YAML at line 3: exceeded maximum nesting depth$", "5000 '- ' deep"),
    _error(
        "deep.txt",
        r"text nested deeper than 64 levels \(raise it with --max-depth\) \(at \d+\)$",
        "Transition(key=((((...)",
    ),
    _error("deep-list.txt", r"text nested deeper than 64 levels", "20k [ in pasted text"),
    # YAML
    _error("billion-laughs.yaml", r"YAML aliases expand to more than a million nodes$", "10^9 'lol' by aliases"),
    _error(
        "python-object.yaml",
        r"YAML with !!python/object/apply:os\.system: replay never constructs",
        "must not run os.system",
    ),
    _error("python-object-new.yaml", r"YAML with !!python/object/new:subprocess\.Popen", "must not start a process"),
    _error("python-name.yaml", r"YAML with !!python/name:os\.system", "must not import anything"),
    _ok("python-tuple.yaml", "2021.11.2 dumps: !!python/tuple read as a list, harmless", 0),
    _error("invalid.yaml", r"invalid YAML at line 3", "broken YAML syntax"),
    _error("not-a-dump.yaml", r"not a cluster dump: no 'scheduler' map", "YAML of a list"),
    _ok("crlf.yaml", "the seed dump with CRLF line ends", 1, same_as="dump.yaml"),
    _ok("bom.yaml", "the seed dump with a UTF-8 BOM", 1, same_as="dump.yaml"),
    # executable and foreign formats
    _error("pickle.msgpack", r"pickle data: replay never unpickles input$", "a protocol-4 pickle, renamed"),
    _error("pickle-protocol0.msgpack", r"no transition entries found in the text$", "a text pickle, renamed"),
    _error("garbage.bin", r"unrecognised binary content", "4 KiB of random bytes"),
    _error("garbage.msgpack.gz", r"unrecognised binary content", "random bytes, gzipped"),
    _error("zip.msgpack", r"unrecognised binary content", "a zip header and noise"),
    _error("utf16.txt", r"UTF-16 text: save it as UTF-8$", "the seed story in UTF-16"),
    _error("scalar.msgpack", r"no transition entries found", "msgpack 42 (reads as the text '*')"),
    _error("string.msgpack", r"unrecognised binary content", "a msgpack string"),
    _error("scalar.json", r"no transition entries found", "a JSON string"),
    _error("not-a-trace.json", r"a map that is neither a cluster dump nor a replay trace$", "a JSON object"),
    _error("invalid.json", r"neither valid JSON \(Expecting value: line 1 column 52", "JSON cut mid-entry"),
    _error(
        "hostile-calls.txt",
        r"neither valid JSON .* nor a text with transition entries$",
        "Transition(key=__import__('os').system(...)): calls are never evaluated",
    ),
    # entries of the wrong shape or type
    _error("entry-too-short.json", r"entry 1 has 4 fields, a transition has 5 or 6$", "4 fields"),
    _error("entry-too-long.json", r"entry 1 has 8 fields, a transition has 5 or 6$", "8 fields"),
    _error("entry-not-a-list.json", r"entry 1 is a str, not a transition", "a string entry"),
    _error("entry-int.msgpack", r"entry 3 is an int, not a transition", "an int entry"),
    _error("entry-start-int.json", r"entry 1: start: Input should be a valid string$", "start is 5"),
    _error("entry-recommendations-list.json", r"entry 1: recommendations must be a map, not list$", "recs list"),
    _error("entry-recommendation-int.json", r"entry 1: int is not a state name$", "a recommended state 7"),
    _error("entry-timestamp-str.json", r"entry 1: timestamp: Input should be a valid number", "'yesterday'"),
    _error("entry-stimulus-int.json", r"entry 1: stimulus_id: Input should be a valid string$", "stimulus 12"),
    _error(
        "dump-log-not-list.msgpack.gz",
        r"the dump's scheduler\.transition_log is not a list \(at 27\)$",
        "transition_log is a string",
    ),
    _error("dump-scheduler-list.msgpack.gz", r"the dump's scheduler is not a map \(at 11\)$", "scheduler list"),
    _error("dump-bad-entry.msgpack.gz", r"entry 3: finish: Input should be a valid string$", "finish None"),
    _error("client-story-bad.msgpack", r"a Client\.story entry without its source prefix$", "'oops' entry"),
    _error(
        "native-bad-header.json",
        r"bad replay-trace header: format: Input should be a valid string$",
        "replay's own export, corrupt header",
    ),
    _error(
        "native-bad-transition.json",
        r"entry 0: recommendations must be a list of \[key, state\] pairs$",
        "replay's own export, bad transition",
    ),
    # keys
    _ok("odd-keys.msgpack", "tuple, nested tuple, int, float, negative, bytes, unicode, '' keys", 0, 1),
    _ok("odd-keys.json", "the same in JSON (arrays are tuple keys)", 0, 1),
    _error("key-none.msgpack", r"entry 3: a NoneType cannot be a task key$", "key None"),
    _error("key-none.json", r"entry 3: a NoneType cannot be a task key$", "key null"),
    _error("key-bool.msgpack", r"entry 3: a bool cannot be a task key$", "key True"),
    _error("key-dict.msgpack", r"entry 3: a dict cannot be a task key$", "key {'a': 1}"),
    _error("key-list-of-dict.json", r"entry 3: a dict cannot be a task key$", "key ['t', {'a': 1}]"),
    _error("key-nan.msgpack", r"entry 3: NaN cannot be a task key$", "key NaN (never equal to itself)"),
    _error("key-inf.msgpack", r"entry 3: an infinite float cannot be a task key$", "key ('t', -inf): no JSON names it"),
    _error("nan-key.json", r"entry 0: NaN cannot be a task key$", "JSON key NaN"),
    _error("recommendation-key-bool.msgpack", r"entry 3: a bool cannot be a task key$", "{False: ...}"),
    _ok("invalid-utf8.msgpack", "a key of non-UTF-8 bytes: kept with surrogate escapes", 0),
    # odd but readable
    _ok("unknown-states.json", "states 'exploded', 'limbo', 'zombified': kept, reported as findings", 0, 1),
    _ok("empty-log-dump.msgpack.gz", "a valid dump whose log is empty: 0 events", 0),
    _ok("empty-log-dump.yaml", "the same as YAML", 0),
    _ok("empty-log.json", "an empty JSON list", 0),
    _ok("empty-log.msgpack", "an empty msgpack array", 0),
    _ok("nan-timestamp.json", "NaN/Infinity timestamps (Python's JSON extension): kept", 0),
    _ok("bom-story.txt", "the seed story with a UTF-8 BOM", 1, same_as="story.txt"),
    _ok("bom.json", "a JSON log with a UTF-8 BOM", 0),
    _ok("crlf-story.txt", "the seed pprint story with CRLF line ends", 1, same_as="story_pprint.txt"),
    _ok("crlf.jsonl", "JSON Lines with CRLF", 0),
    _ok("truncated-story.txt", "half a pprint story, the last line cut: what parses is kept", 0, 1),
    _error("no-entries.txt", r"no transition entries found in the text$", "prose with brackets"),
    # large, generated at test time
    _error(
        "text-100mb.txt",
        r"text larger than 64 MiB \(raise it with --max-text-bytes\)$",
        "100 MB on one line",
        large=True,
    ),
    _error("brackets-60mb.txt", r"text nested deeper than 64 levels", "60 MB of '(' under the text limit", large=True),
    _error(
        "gzip-bomb.msgpack.gz",
        r"more than 1024 MiB of data \(raise it with --max-bytes\)$",
        "4 MB file, 4 GiB of dump with 64 MiB skipped blobs",
        large=True,
    ),
    _error(
        "gzip-bomb-blob.msgpack.gz",
        r"one msgpack value is larger than 128 MiB \(raise it with --max-text-bytes\)",
        "2 MB file declaring and delivering one 2 GiB string",
        large=True,
    ),
    _error(
        "gzip-bomb-log.msgpack.gz",
        r"entry 0 has 9999999 fields, a transition has 5 or 6$",
        "2 MB file, 2 GB bare log of 10M-nil entries",
        large=True,
    ),
    _error(
        "gzip-bomb-dump-log.msgpack.gz",
        r"entry 0: a NoneType cannot be a task key$",
        "2 MB file, 2 GB dump log of 6-field entries with 1M-nil keys",
        large=True,
    ),
    _error("gzip-bomb.txt.gz", r"text larger than 64 MiB", "3 MB file, 3 GiB of one text line", large=True),
    _error(
        "gzip-bomb.yaml.gz",
        r"YAML larger than 64 MiB \(raise it with --max-text-bytes\)$",
        "9 MB file, 3 GB of YAML",
        large=True,
    ),
    _error("gzip-bomb.jsonl.gz", r"no content \(only white space\)$", "3 MB file, 3 GiB of blanks", large=True),
)

BY_NAME = {case.name: case for case in CASES}
