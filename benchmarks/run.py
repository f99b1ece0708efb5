"""Benchmark ``replay`` on a large real trace against the raw decode floor and distributed's own loader.

Usage (from the repository root)::

    python benchmarks/run.py                 # reuse or capture a >= 150,000-transition trace
    python benchmarks/run.py --trace-dir D   # a directory with dump.msgpack.gz + transition_log.msgpack[.gz]
    python benchmarks/run.py --smoke         # a small committed trace, tiny synthetic sizes (CI)

Every measurement runs in its own subprocess, started by a small launcher process (so that
its peak RSS is its own, not this script's); wall time is measured around it and peak
RSS is read from ``os.wait4``'s resource usage. The peer (``distributed.cluster_dump``)
runs with the first python that can import distributed (``--peer-python``). Synthetic
traces (10x linearity, the 10,000,000-transition stream) repeat the real log's cascades
with renamed keys and stimulus ids, written with a streaming msgpack writer into a
temporary directory that is deleted afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from replay.capture.check import find_log, load_msgpack

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TRACE = ROOT / "traces" / "2026.8.0" / "benchmark-large"
SMOKE_TRACE = ROOT / "traces" / "2026.8.0" / "mapreduce"
MIN_TRANSITIONS = 150_000
STREAM_TRANSITIONS = 10_000_000

#: Targets from issue 6 (ratios: these machines are noisy).
TARGET_DUMP_VS_PEER = 4.0
TARGET_LOG_VS_FLOOR = 3.0
TARGET_STREAM_RSS_MB = 500.0
TARGET_STREAM_RATE = 300_000.0

FLOOR_CODE = """
import gzip, sys, time
path = sys.argv[1]
start = time.process_time()
with open(path, "rb") as f:
    data = f.read()
if data[:2] == b"\\x1f\\x8b":
    data = gzip.decompress(data)
import msgpack
msgpack.unpackb(data, strict_map_key=False, use_list=False)
print(time.process_time() - start)
"""

STREAM_FLOOR_CODE = """
import sys, time
import msgpack
start = time.process_time()
with open(sys.argv[1], "rb") as stream:
    unpacker = msgpack.Unpacker(stream, strict_map_key=False, use_list=False)
    unpacker.read_array_header()
    for _ in unpacker:
        pass
print(time.process_time() - start)
"""

PEER_CODE = """
import json, sys, time
start = time.process_time()
from distributed.cluster_dump import DumpArtefact
imported = time.process_time()
try:
    dump = DumpArtefact.from_url(sys.argv[1])
except Exception as error:  # report the peer's crash honestly
    print(json.dumps({"load": None, "load_error": f"{type(error).__name__}: {error}"[:200]}))
    sys.exit(0)
loaded = time.process_time()
result = {"import": imported - start, "load": loaded - imported, "story": None, "story_error": None}
if len(sys.argv) > 2:
    try:
        story = dump.scheduler_story(sys.argv[2])
        result["story"] = time.process_time() - loaded
        result["story_entries"] = sum(len(v) for v in story.values())
    except Exception as error:  # report the peer's crash honestly
        result["story_error"] = f"{type(error).__name__}: {error}"[:200]
print(json.dumps(result))
"""

#: The JSON floor of a JSON Lines export: ``json.loads`` of each transition line (the others are
#: skipped unparsed by replay too).
JSONL_FLOOR_CODE = """
import json, sys, time
start = time.process_time()
loads = json.loads
with open(sys.argv[1], "rb") as stream:
    for line in stream:
        if line[:1] == b"[":
            loads(line)
print(time.process_time() - start)
"""

CORE_CODE = """
import json, sys, time
start = time.process_time()
from replay.cli_common import collector_paused
from replay.ingest import open_trace
from replay.provenance import replay_trace
imported = time.process_time()
with collector_paused():  # as the replay command runs
    result = replay_trace(open_trace(sys.argv[1]), keep_steps=False)
done = time.process_time()
print(json.dumps({"import": imported - start, "core": done - imported, "events": result.events,
                  "findings": len(result.findings)}))
"""


@dataclass
class Measurement:
    label: str
    wall: float
    cpu: float
    rss_mb: float
    code: int
    stdout: str
    stderr: str


#: Runs each measured command and reports its resources. A separate small process: Linux
#: carries a process's peak RSS across fork and exec, so a child of this script (which
#: holds the whole log) would report at least this script's own peak.
LAUNCHER_CODE = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    request = json.loads(line)
    start = time.perf_counter()
    process = subprocess.Popen(request["argv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=request["cwd"])
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    print(json.dumps({"wall": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                      "rss_mb": usage.ru_maxrss / 1024, "code": os.waitstatus_to_exitcode(status),
                      "stdout": stdout.decode(errors="replace"), "stderr": stderr.decode(errors="replace")}), flush=True)
"""


class Launcher:
    """The small process that runs every measured command (see :data:`LAUNCHER_CODE`)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", LAUNCHER_CODE], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, cwd=ROOT)  # fmt: skip

    def measure(self, label: str, argv: list[str]) -> Measurement:
        """Run ``argv`` to completion; wall time and peak RSS of that process alone."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"argv": argv, "cwd": str(ROOT)}) + "\n")
        self.process.stdin.flush()
        result = json.loads(self.process.stdout.readline())
        return Measurement(label, result["wall"], result["cpu"], result["rss_mb"], result["code"], result["stdout"],
                           result["stderr"])  # fmt: skip

    def best_of(self, repeat: int, label: str, argv: list[str]) -> Measurement:
        """The fastest of ``repeat`` runs (the machines are shared and noisy)."""
        return self.best_of_each(repeat, [(label, argv)])[0]

    def best_of_each(self, repeat: int, commands: list[tuple[str, list[str]]]) -> list[Measurement]:
        """The fastest of ``repeat`` runs of each command, run in turns (a, b, a, b, ...).

        Commands whose times make one ratio are measured in turns, so that a slow spell of
        the shared machine falls on both sides of the ratio, not on one.
        """
        runs: list[list[Measurement]] = [[] for _ in commands]
        for _ in range(max(repeat, 1)):
            for measured, (label, argv) in zip(runs, commands, strict=True):
                measured.append(self.measure(label, argv))
        return [min(measured, key=lambda m: m.cpu) for measured in runs]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


# ---------------------------------------------------------------------- trace discovery


def log_entries(path: Path) -> list[Any]:
    return list(load_msgpack(path))


def usable(directory: Path, minimum: int) -> bool:
    log = find_log(directory)
    if log is None or not (directory / "dump.msgpack.gz").is_file():
        return False
    meta = directory / "meta.json"
    if meta.is_file():
        entries = json.loads(meta.read_text()).get("entries")
        if isinstance(entries, int):
            return entries >= minimum
    return len(log_entries(log)) >= minimum


def python_with(module: str, preferred: list[str]) -> str | None:
    """The first interpreter (of ``preferred``, then any under /work/venvs) that imports ``module``."""
    venvs = sorted(Path("/work/venvs").glob("d*/bin/python"), reverse=True) if Path("/work/venvs").is_dir() else []
    for candidate in [*preferred, sys.executable, *map(str, venvs)]:
        if candidate and Path(candidate).exists():
            check = subprocess.run([candidate, "-c", f"import {module}"], capture_output=True, check=False)
            if check.returncode == 0:
                return candidate
    return None


def capture(out: Path, python: str) -> None:
    print(f"capturing benchmark-large with {python} into {out} (several minutes) ...", file=sys.stderr)
    subprocess.run(
        [python, "-m", "replay.capture", "benchmark-large", "--out", str(out),
         "--only", "dump_msgpack", "--only", "transition_log", "--gzip-log"],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip


# ---------------------------------------------------------------------- synthetic traces


def _renamed(key: Any, suffix: str) -> Any:
    if isinstance(key, tuple | list):
        return (_renamed(key[0], suffix), *key[1:]) if key else key
    return f"{key}{suffix}"


def write_repeated(entries: list[Any], copies: int, path: Path) -> int:
    """A bare msgpack log of ``copies`` repetitions of ``entries`` with renamed keys, streamed."""
    total = len(entries) * copies
    span = (entries[-1][-1] - entries[0][-1] + 1.0) if entries else 0.0
    packer = msgpack.Packer(autoreset=True)
    with path.open("wb") as stream:
        stream.write(packer.pack_array_header(total))
        for copy in range(copies):
            suffix = f"~{copy}"
            shift = span * copy
            chunk = []
            for entry in entries:
                key, start, finish, recommendations = entry[0], entry[1], entry[2], entry[3]
                renamed = {_renamed(k, suffix): v for k, v in recommendations.items()}
                stimulus = entry[4] if len(entry) == 6 else None
                chunk.append(packer.pack(
                    [_renamed(key, suffix), start, finish, renamed,
                     None if stimulus is None else f"{stimulus}{suffix}", entry[-1] + shift]
                ))  # fmt: skip
            stream.write(b"".join(chunk))
    return total


def story_key(entries: list[Any]) -> str | None:
    """The string key with the most entries (the peer's scheduler_story crashes on tuple keys)."""
    counts = Counter(entry[0] for entry in entries if isinstance(entry[0], str))
    return counts.most_common(1)[0][0] if counts else None


# ---------------------------------------------------------------------- report


def fmt_time(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f} s"


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, {platform.system()}"


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trace-dir", type=Path, default=None, help="dump.msgpack.gz + transition_log.msgpack[.gz]")
    parser.add_argument("--smoke", action="store_true", help="small committed trace, tiny synthetic sizes")
    parser.add_argument("--capture-python", default=None, help="python with distributed for the capture")
    parser.add_argument("--peer-python", default=None, help="python with distributed for the peer")
    parser.add_argument("--stream", type=int, default=None, help="transitions of the streaming trace")
    parser.add_argument("--scale", type=int, default=10, help="repetitions for the linearity check")
    parser.add_argument("--repeat", type=int, default=None, help="best of N runs per measurement")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)

    launcher = Launcher()  # before this script reads the log: see LAUNCHER_CODE
    smoke = args.smoke
    repeat = args.repeat or (1 if smoke else 5)
    stream_size = args.stream if args.stream is not None else (20_000 if smoke else STREAM_TRANSITIONS)
    scale = 2 if smoke and args.scale == 10 else args.scale
    work = Path(tempfile.mkdtemp(prefix="replay-bench-"))
    peer_python = python_with("distributed.cluster_dump", [args.peer_python] if args.peer_python else [])
    try:
        if args.trace_dir is not None:
            directory = args.trace_dir
        elif smoke:
            directory = SMOKE_TRACE
        elif usable(DEFAULT_TRACE, MIN_TRANSITIONS):
            directory = DEFAULT_TRACE
        else:
            capture_python = python_with("distributed", [args.capture_python] if args.capture_python else [])
            if capture_python is None:
                parser.error("no large trace found and no python with distributed to capture one")
            directory = work / "benchmark-large"
            capture(directory, capture_python)
        dump = directory / "dump.msgpack.gz"
        log = find_log(directory)
        if log is None or not dump.is_file():
            parser.error(f"{directory} lacks dump.msgpack.gz or transition_log.msgpack[.gz]")
        entries = log_entries(log)
        if not smoke and len(entries) < MIN_TRANSITIONS:
            print(f"warning: {log} has only {len(entries)} transitions (< {MIN_TRANSITIONS})", file=sys.stderr)
        key = story_key(entries)
        ours = [sys.executable, "-m", "replay"]
        results = run_all(args, launcher, ours, dump, log, entries, key, peer_python, repeat, scale, stream_size, work)
    finally:
        launcher.close()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(results)
    return 0


def run_all(args: argparse.Namespace, launcher: Launcher, ours: list[str], dump: Path, log: Path, entries: list[Any], key: str | None,
            peer_python: str | None, repeat: int, scale: int, stream_size: int,
            work: Path) -> str:  # fmt: skip
    n = len(entries)
    python = sys.executable
    rows: list[tuple[str, ...]] = [("measurement", "transitions", "wall", "CPU", "peak RSS", "CPU per transition", "note")]

    def row(m: Measurement, count: int, note: str = "") -> None:
        per = f"{m.cpu / count * 1e6:.1f} µs" if count else "-"
        if m.code not in (0, 1):
            note = f"exit {m.code}: {m.stderr.strip().splitlines()[-1:]!s} {note}"
        rows.append((m.label, f"{count:,}", fmt_time(m.wall), fmt_time(m.cpu), f"{m.rss_mb:.0f} MB", per, note))

    # replay's own export of the dump, written by convert (measured), then read beside the dump
    exports = {kind: work / f"export.{kind}" for kind in ("msgpack", "jsonl")}
    converts = launcher.best_of_each(min(repeat, 2), [
        (f"replay convert --to {kind} (dump)", [*ours, "convert", str(dump), "--to", kind, "-o", str(path)])
        for kind, path in exports.items()
    ])  # fmt: skip
    export_commands = [
        ("replay info (dump)", [*ours, "info", str(dump)]),
        *[(f"replay {command} (replay-{kind} export)", [*ours, *command.split(), str(path)])
          for kind, path in exports.items() for command in ("run --json", "info")],
    ]  # fmt: skip

    # each ratio's two sides in turns: our dump run, the peer's load, and reading the dump's
    # exports; our bare-log runs and the floor
    peer_command = [("peer: DumpArtefact.from_url", [peer_python, "-c", PEER_CODE, str(dump)])] if peer_python else []
    run_dump, *others = launcher.best_of_each(
        repeat, [("replay run --json (dump)", [*ours, "run", str(dump), "--json"]), *export_commands, *peer_command]
    )
    info_dump, run_msgpack, info_msgpack, run_jsonl, info_jsonl = others[: len(export_commands)]
    peer_measured = others[len(export_commands) :]
    row(run_dump, n, "whole command: interpreter start + read + replay")
    row(info_dump, n, "worker records counted, not built")
    for measured, path in zip(converts, exports.values(), strict=True):
        row(measured, n, f"{path.stat().st_size / 2**20:,.1f} MiB written")
    row(run_msgpack, n, "streamed: worker records skipped unread")
    row(info_msgpack, n, "")
    jsonl_floor = launcher.best_of(repeat, "floor: json.loads of each transition line (replay-jsonl)",
                                   [python, "-c", JSONL_FLOOR_CODE, str(exports["jsonl"])])  # fmt: skip
    jsonl_floor_seconds = float(jsonl_floor.stdout) if jsonl_floor.code == 0 else None
    row(run_jsonl, n, "streamed: other lines skipped unparsed")
    row(info_jsonl, n, "")
    row(jsonl_floor, n, f"decode in-process: {fmt_time(jsonl_floor_seconds)}")
    for path in exports.values():
        path.unlink()
    run_log, core_log, floor_log = launcher.best_of_each(repeat, [
        ("replay run --json (bare log)", [*ours, "run", str(log), "--json"]),
        ("replay core (bare log, in-process)", [python, "-c", CORE_CODE, str(log)]),
        ("floor: gunzip + msgpack.unpackb (bare log)", [python, "-c", FLOOR_CODE, str(log)]),
    ])  # fmt: skip
    row(run_log, n, "whole command")
    core_log_seconds = json.loads(core_log.stdout)["core"] if core_log.code == 0 else None
    row(core_log, n, f"open_trace + replay_trace: {fmt_time(core_log_seconds)} (import excluded)")
    floor_dump = launcher.best_of(repeat, "floor: gunzip + msgpack.unpackb (dump)", [python, "-c", FLOOR_CODE, str(dump)])
    row(floor_dump, n, f"decode in-process: {fmt_time(float(floor_dump.stdout))}")
    floor_log_seconds = float(floor_log.stdout)
    row(floor_log, n, f"decode in-process: {fmt_time(floor_log_seconds)}")

    peer_load: float | None = None
    peer_story: float | None = None
    if peer_python is not None:
        (peer,) = peer_measured
        peer_detail = json.loads(peer.stdout) if peer.code == 0 else {}
        peer_load = peer_detail.get("load")
        if peer_load is None:
            row(peer, n, f"from_url crashed: {peer_detail.get('load_error') or peer.stderr.strip()[-200:]}")
        else:
            row(peer, n, f"load in-process: {fmt_time(peer_load)} (distributed import excluded)")
        if key is not None and peer_load is not None:
            peer_s = launcher.best_of(repeat, "peer: from_url + scheduler_story(key)", [peer_python, "-c", PEER_CODE, str(dump), key])
            detail = json.loads(peer_s.stdout) if peer_s.code == 0 else {}
            if detail.get("story") is not None:
                peer_story = detail["load"] + detail["story"]
                note = f"load + story in-process: {fmt_time(peer_story)} ({detail.get('story_entries')} entries)"
            else:
                note = f"scheduler_story crashed: {detail.get('story_error')}"
            row(peer_s, n, f"key {key!r}; {note}")
    else:
        rows.append(("peer: DumpArtefact.from_url", f"{n:,}", "-", "-", "-", "-", "no python with distributed found"))

    ours_story: Measurement | None = None
    if key is not None:
        ours_story = launcher.best_of(repeat, "replay story KEY (dump)", [*ours, "story", str(dump), key])
        row(ours_story, n, f"key {key!r}")

    # linearity: the same cascades repeated `scale` times with renamed keys
    scaled_path = work / f"log-x{scale}.msgpack"
    scaled_n = write_repeated(entries, scale, scaled_path)
    run_scaled = launcher.best_of(1 if repeat == 1 else 2, f"replay run --json (bare log x{scale})", [*ours, "run", str(scaled_path), "--json"])
    core_scaled = launcher.best_of(1 if repeat == 1 else 2, f"replay core (bare log x{scale}, in-process)", [python, "-c", CORE_CODE, str(scaled_path)])
    core_scaled_seconds = json.loads(core_scaled.stdout)["core"] if core_scaled.code == 0 else None
    growth = (core_scaled_seconds / core_log_seconds) if core_scaled_seconds and core_log_seconds else None
    row(run_scaled, scaled_n, "renamed copies of the real cascades")
    row(core_scaled, scaled_n, f"core {fmt_time(core_scaled_seconds)}: {growth or 0:.1f}x the time for {scale}x the entries")
    scaled_path.unlink()

    # streaming: a bare log of >= stream_size transitions
    copies = max(1, -(-stream_size // n))
    stream_path = work / "log-stream.msgpack"
    build_start = time.perf_counter()
    stream_n = write_repeated(entries, copies, stream_path)
    build = time.perf_counter() - build_start
    run_stream = launcher.measure("replay run --json (streamed bare log)", [*ours, "run", str(stream_path), "--json"])
    rate = stream_n / run_stream.cpu
    row(run_stream, stream_n, f"{rate:,.0f} transitions/s ({stream_path.stat().st_size / 2**20:,.0f} MiB, built in {build:.0f} s)")
    floor_stream = launcher.measure("floor: msgpack.Unpacker (streamed bare log)", [python, "-c", STREAM_FLOOR_CODE, str(stream_path)])
    floor_rate = stream_n / float(floor_stream.stdout) if floor_stream.code == 0 else 0.0
    row(floor_stream, stream_n, f"decode only, streamed: {floor_rate:,.0f} transitions/s")
    stream_path.unlink()

    # ratios and targets
    dump_vs_peer = peer_load / run_dump.cpu if peer_load else None
    log_vs_floor = run_log.cpu / floor_log_seconds
    core_vs_floor = core_log_seconds / floor_log_seconds if core_log_seconds else None
    story_vs_peer = (peer_story / ours_story.cpu) if (peer_story and ours_story) else None
    story_vs_peer_load = (peer_load / ours_story.cpu) if (peer_load and ours_story) else None
    ratio_rows: list[tuple[str, ...]] = [("ratio", "value", "target", "status")]
    ratio_rows.append(("peer load / replay run (dump)",
                       "-" if dump_vs_peer is None else f"{dump_vs_peer:.1f}x",
                       f">= {TARGET_DUMP_VS_PEER:.0f}x", verdict(None if dump_vs_peer is None else dump_vs_peer >= TARGET_DUMP_VS_PEER)))  # fmt: skip
    for label, measured in (("replay info / replay run (dump)", info_dump),
                            ("replay run (replay-msgpack) / replay run (dump)", run_msgpack),
                            ("replay info (replay-msgpack) / replay run (dump)", info_msgpack)):
        ratio_rows.append((label, f"{measured.cpu / run_dump.cpu:.2f}x", "<= 1x", verdict(measured.cpu <= run_dump.cpu)))
    ratio_rows.append(("replay run (replay-jsonl) / replay run (dump)", f"{run_jsonl.cpu / run_dump.cpu:.2f}x",
                       "as close as JSON allows", verdict(None)))
    if jsonl_floor_seconds:
        ratio_rows.append(("replay run (replay-jsonl) - its JSON decode", fmt_time(run_jsonl.cpu - jsonl_floor_seconds),
                           "<= replay run (dump)", verdict(run_jsonl.cpu - jsonl_floor_seconds <= run_dump.cpu)))
    ratio_rows.append(("replay run (bare log) / floor decode", f"{log_vs_floor:.1f}x",
                       f"<= {TARGET_LOG_VS_FLOOR:.0f}x", verdict(log_vs_floor <= TARGET_LOG_VS_FLOOR)))  # fmt: skip
    ratio_rows.append(("replay core (bare log) / floor decode",
                       "-" if core_vs_floor is None else f"{core_vs_floor:.1f}x",
                       f"<= {TARGET_LOG_VS_FLOOR:.0f}x", verdict(None if core_vs_floor is None else core_vs_floor <= TARGET_LOG_VS_FLOOR)))  # fmt: skip
    if story_vs_peer is not None:
        ratio_rows.append(("peer load+story / replay story of one key", f"{story_vs_peer:.1f}x", "> 1x",
                           verdict(story_vs_peer > 1)))  # fmt: skip
    else:
        ratio_rows.append(("peer load (story crashed) / replay story of one key",
                           "-" if story_vs_peer_load is None else f"{story_vs_peer_load:.1f}x", "> 1x",
                           verdict(None if story_vs_peer_load is None else story_vs_peer_load > 1)))  # fmt: skip
    ratio_rows.append((f"time growth for {scale}x entries (core)", "-" if growth is None else f"{growth:.1f}x",
                       f"~{scale}x (linear)", verdict(None if growth is None else growth <= scale * 1.3)))  # fmt: skip
    ratio_rows.append(("streamed log peak RSS", f"{run_stream.rss_mb:.0f} MB", f"<= {TARGET_STREAM_RSS_MB:.0f} MB",
                       verdict(run_stream.rss_mb <= TARGET_STREAM_RSS_MB)))  # fmt: skip
    ratio_rows.append(("streamed log throughput", f"{rate:,.0f}/s", f">= {TARGET_STREAM_RATE:,.0f}/s",
                       verdict(rate >= TARGET_STREAM_RATE)))  # fmt: skip

    header = [
        f"machine: {machine()}",
        f"trace: {dump} and {log} ({n:,} transitions)" + (" [smoke]" if args.smoke else ""),
        f"peer python: {peer_python or 'none'}; best of {repeat} run(s) by CPU time; wall and CPU (user+sys, from",
        "os.wait4) of the whole subprocess; 'in-process' figures are CPU time inside it, imports excluded;",
        "ratios use CPU time (the machines are shared: wall time includes waiting for a core), and each",
        "ratio's two sides are run in turns (a, b, a, b, ...) so that a slow spell falls on both",
        "",
    ]
    return "\n".join([*header, table(rows), "", table(ratio_rows)])


if __name__ == "__main__":
    sys.exit(main())
