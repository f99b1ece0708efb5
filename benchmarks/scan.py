"""Benchmark ``replay scan`` and the speed of one trace, side by side in one run.

Usage (from the repository root)::

    python benchmarks/scan.py                 # traces/ (every committed trace), both large dumps
    python benchmarks/scan.py --smoke         # a few small traces, the seed dump (CI)

Three parts, each measured as ``benchmarks/run.py`` measures (every command its own process,
started by a small launcher; CPU time and peak RSS from ``os.wait4``; best of ``--repeat``;
the sides of a comparison run in turns, a, b, a, b, so that a slow spell falls on all):

1. ``replay scan DIR --json`` with one process (``--workers 1``) and with every core (the
   default): the speed-up is wall time, the one thing parallel work changes;
2. the same scan on a real ``distributed.LocalCluster`` (one single-threaded worker process
   per core) through ``--scheduler``: its wall time, and whether its JSON is the same;
3. ``replay run --json`` against ``distributed.cluster_dump.DumpArtefact.from_url`` on every
   large dump (``benchmark-large`` and ``large-table``): our whole command's CPU time against
   the peer's load alone, in-process, distributed's import excluded. Where the peer crashes
   (``large-table``: distributed's loader refuses the int map keys of 2023.9 and later dumps)
   the crash is reported, and the load is measured again with that check turned off
   (``strict_map_key=False``, what replay reads with), which is the figure compared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import Launcher, Measurement, fmt_time, machine, python_with, table, verdict  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TRACES = ROOT / "traces"
LARGE_DUMPS = (TRACES / "2026.8.0/benchmark-large/dump.msgpack.gz", TRACES / "2026.8.0/large-table/dump.msgpack.gz")
SMOKE_DIRECTORY = TRACES / "2024.2.1"
SMOKE_DUMPS = (TRACES / "2024.2.1/seed/dump.msgpack.gz",)

#: Targets of issue 17.
TARGET_SPEEDUP = 1.7
TARGET_PEER_RATIO = 4.0

PEER_CODE = """
import functools, json, sys, time
start = time.process_time()
import msgpack
from distributed.cluster_dump import DumpArtefact
if sys.argv[2] == "relaxed":  # the loader with its map-key check off: what replay reads with
    msgpack.unpack = functools.partial(msgpack.unpack, strict_map_key=False)
imported = time.process_time()
try:
    DumpArtefact.from_url(sys.argv[1])
except Exception as error:  # report the peer's crash honestly
    print(json.dumps({"load": None, "after": time.process_time() - imported, "error": f"{type(error).__name__}: {error}"[:160]}))
    sys.exit(0)
print(json.dumps({"load": time.process_time() - imported, "after": None, "error": None}))
"""

CLUSTER_CODE = """
import json, subprocess, sys, time
from distributed import LocalCluster
if __name__ == "__main__":
    workers = int(sys.argv[1])
    command = sys.argv[2:]
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        runs = []
        for _ in range(int(command.pop(0))):
            start = time.perf_counter()
            done = subprocess.run([*command, "--scheduler", cluster.scheduler_address], capture_output=True, text=True)
            runs.append({"wall": time.perf_counter() - start, "code": done.returncode, "stdout": done.stdout,
                         "stderr": done.stderr[-400:]})
    print(json.dumps(min(runs, key=lambda run: run["wall"])))
"""


def traces_in(directory: Path) -> int:
    return sum(1 for path in directory.rglob("*") if path.is_file() and path.name not in ("meta.json", "expected.json", "README.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--directory", type=Path, default=None, help="what to scan (default: traces/)")
    parser.add_argument("--smoke", action="store_true", help="small traces, one repeat (CI)")
    parser.add_argument("--repeat", type=int, default=None, help="best of N runs per measurement")
    parser.add_argument("--peer-python", default=None, help="python with distributed for the peer and the cluster")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.smoke else 5)
    directory = args.directory or (SMOKE_DIRECTORY if args.smoke else TRACES)
    dumps = SMOKE_DUMPS if args.smoke else tuple(path for path in LARGE_DUMPS if path.exists())
    cores = os.cpu_count() or 1
    ours = [sys.executable, "-m", "replay"]
    peer_python = python_with("distributed.cluster_dump", [args.peer_python] if args.peer_python else [])
    launcher = Launcher()
    rows: list[tuple[str, ...]] = [("measurement", "wall", "CPU", "peak RSS", "note")]
    ratios: list[tuple[str, ...]] = [("comparison", "value", "target", "status")]
    try:
        scan = [*ours, "scan", str(directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory), "--json"]
        one, every = launcher.best_of_each(repeat, [("replay scan, 1 process", [*scan, "--workers", "1"]),
                                                     (f"replay scan, every core ({cores})", scan)])  # fmt: skip
        same = one.stdout == every.stdout
        summary = json.loads(one.stdout)["summary"] if one.code in (0, 1) else {}
        note = f"{summary.get('files')} files, {traces_in(directory)} traces, {len(json.loads(one.stdout)['groups']) if one.code in (0, 1) else '?'} groups"
        rows.append(_row(one, note))
        rows.append(_row(every, "same JSON as 1 process" if same else "JSON DIFFERS from 1 process"))
        speedup = one.wall / every.wall
        ratios.append((f"scan speed-up, {cores} processes / 1 (wall)", f"{speedup:.2f}x", f">= {TARGET_SPEEDUP}x",
                       verdict(speedup >= TARGET_SPEEDUP and same)))  # fmt: skip
        cluster_python = python_with("distributed", [args.peer_python] if args.peer_python else [])
        if cluster_python == sys.executable:
            measured = launcher.measure("cluster", [sys.executable, "-c", CLUSTER_CODE, str(cores), str(repeat), *scan])
            detail = json.loads(measured.stdout) if measured.code == 0 else {"wall": 0.0, "code": measured.code, "stdout": "", "stderr": measured.stderr[-300:]}
            agrees = detail["stdout"] == one.stdout
            rows.append((f"replay scan --scheduler (LocalCluster, {cores} workers x 1 thread)", fmt_time(detail["wall"]), "-", "-",
                         ("same JSON as 1 process" if agrees else f"JSON DIFFERS (exit {detail['code']}: {detail['stderr']})")
                         + "; CPU is in the cluster's processes"))  # fmt: skip
            ratios.append(("scan on a LocalCluster: same result", "yes" if agrees else "no", "same JSON", verdict(agrees)))
        else:
            rows.append(("replay scan --scheduler (LocalCluster)", "-", "-", "-", "distributed is not installed with this python"))
        for dump in dumps:
            name = dump.parent.name
            commands = [(f"replay run --json ({name})", [*ours, "run", str(dump), "--json"])]
            if peer_python is not None:
                commands += [(f"peer: DumpArtefact.from_url ({name})", [peer_python, "-c", PEER_CODE, str(dump), "strict"])]
            run, *peer = launcher.best_of_each(repeat, commands)
            events = json.loads(run.stdout)["source"]["events"] if run.code in (0, 1) else "?"
            rows.append(_row(run, f"{events:,} transitions, whole command" if isinstance(events, int) else "?"))
            if not peer:
                rows.append((f"peer ({name})", "-", "-", "-", "no python with distributed found"))
                continue
            (loaded,) = peer
            detail = json.loads(loaded.stdout)
            compared = detail["load"]
            if compared is None:
                rows.append(_row(loaded, f"crashed after {fmt_time(detail['after'])}: {detail['error']}"))
                (relaxed,) = launcher.best_of_each(repeat, [(f"peer, map-key check off ({name})",
                                                              [peer_python, "-c", PEER_CODE, str(dump), "relaxed"])])  # fmt: skip
                compared = json.loads(relaxed.stdout)["load"]
                rows.append(_row(relaxed, f"load in-process: {fmt_time(compared)} (strict_map_key=False)"))
            else:
                rows.append(_row(loaded, f"load in-process: {fmt_time(compared)} (distributed import excluded)"))
            if compared is not None:
                ratio = compared / run.cpu
                ratios.append((f"peer load / replay run --json ({name}, CPU)", f"{ratio:.1f}x", f">= {TARGET_PEER_RATIO:.0f}x",
                               verdict(ratio >= TARGET_PEER_RATIO)))  # fmt: skip
    finally:
        launcher.close()
    header = [
        f"machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M')}",
        f"scanned: {directory}; best of {repeat} run(s); the scans' sides, and each dump's sides, run in turns",
        f"peer python: {peer_python or 'none'}",
        "",
    ]
    print("\n".join([*header, table(rows), "", table(ratios)]))
    return 0


def _row(measured: Measurement, note: str) -> tuple[str, ...]:
    if measured.code not in (0, 1):
        note = f"exit {measured.code}: {measured.stderr.strip().splitlines()[-1:]} {note}"
    return (measured.label, fmt_time(measured.wall), fmt_time(measured.cpu), f"{measured.rss_mb:.0f} MB", note)


if __name__ == "__main__":
    sys.exit(main())
