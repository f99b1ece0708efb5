"""The recorder (``replay.record``) on a real LocalCluster: is it exact, and what does it cost?

Usage (from the repository root, with any python whose environment has ``distributed``;
the repository is put on ``PYTHONPATH`` for the scheduler's processes)::

    python benchmarks/record.py check    [--transitions 50000] [--ways cli,config,register] [--out DIR]
    python benchmarks/record.py overhead [--transitions 100000] [--repeat 3]

``check`` records one workload through each way of adding the recorder:

* ``cli``: ``python -m distributed.cli.dask_scheduler --preload replay.record --replay-dir DIR``
  in its own process, with ``dask worker`` processes;
* ``config``: a ``LocalCluster`` created under ``distributed.scheduler.preload: [replay.record]``
  and ``preload-argv: [--replay-dir, DIR]``;
* ``register``: a ``LocalCluster``, then ``client.register_plugin(TransitionRecorder(DIR))``
  (``register_scheduler_plugin`` on releases without it);

and writes, beside each recording, the scheduler's own ``transition_log`` and
``transition_counter`` taken at the end of the workload (``scheduler_log.msgpack``). When
``replay`` itself can be imported (its core needs pydantic, which the old releases' venvs
lack), each recording is then read back, compared with that log entry by entry, and
replayed; else the comparison is left to the caller (``tests/test_record.py`` does it).
A JSON summary is printed last (``--json`` prints only it).

``overhead`` runs the same workload on a fresh ``LocalCluster`` (worker processes, the
client on its own thread) alternately without and with the recorder, ``--repeat`` times
each, and reports the CPU time of the scheduler's event-loop thread
(``time.thread_time`` read on it before and after, through ``run_on_scheduler``), the
wall time, and the recording's size. Best and median of each side.

Only the standard library, ``msgpack``, ``dask`` and ``distributed`` are imported before the
optional read-back, and the syntax is Python 3.10's: the script runs inside the venvs of old
releases too.
"""

# ruff: noqa: PLC0415, T201

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgpack

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WAYS = ("cli", "config", "register")
#: Tasks per round of the workload: ``ROUND`` maps, sums of 100, one total, one failure.
ROUND = 2000


# --------------------------------------------------------------------------------------
# the workload (module-level functions: pickled by reference, this module is importable)


def inc(x: int) -> int:
    return x + 1


def add_all(*parts: int) -> int:
    return sum(parts)


def fail(x: int) -> int:
    raise ValueError(f"task {x} fails on purpose")


def counter_of(dask_scheduler: Any) -> int:
    return int(dask_scheduler.transition_counter)


def snapshot_of(dask_scheduler: Any) -> tuple[int, list[Any]]:
    """The counter and the whole log, taken together (one handler: nothing between them)."""
    return int(dask_scheduler.transition_counter), [tuple(entry) for entry in dask_scheduler.transition_log]


def thread_time_of(dask_scheduler: Any) -> float:
    return time.thread_time()


def workload(client: Any, transitions: int, size: int = ROUND) -> int:
    """Rounds of ``size`` maps, sums of 100 and a total, and one failing task, each released after,
    until the scheduler has made at least ``transitions`` transitions; returns the rounds."""
    from distributed import wait

    rounds = 0
    while client.run_on_scheduler(counter_of) < transitions:
        first = rounds * size
        futures = client.map(inc, range(first, first + size))
        sums = [client.submit(add_all, *futures[i : i + 100]) for i in range(0, size, 100)]
        total = client.submit(add_all, *sums)
        bad = client.submit(fail, rounds)
        assert total.result() == sum(range(first + 1, first + size + 1))
        wait([bad])
        del futures, sums, total, bad
        rounds += 1
        # let the releases reach the scheduler before counting again
        deadline = time.monotonic() + 30
        while client.run_on_scheduler(_task_count) and time.monotonic() < deadline:
            time.sleep(0.01)
    return rounds


def _task_count(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)


# --------------------------------------------------------------------------------------
# starting clusters


def _environment() -> dict[str, str]:
    """Subprocesses find ``replay`` (this checkout) and keep the whole log."""
    environment = dict(os.environ)
    path = environment.get("PYTHONPATH", "")
    if str(ROOT) not in path.split(os.pathsep):
        environment["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")
    (key,) = _unbounded_log_config()
    environment["DASK_" + key.upper().replace(".", "__").replace("-", "_")] = "100000000"
    return environment


def _unbounded_log_config() -> dict[str, Any]:
    import dask
    import distributed  # noqa: F401 - its config defaults exist once it is imported

    sentinel = object()
    if dask.config.get("distributed.admin.low-level-log-length", default=sentinel) is not sentinel:
        return {"distributed.admin.low-level-log-length": 100_000_000}
    return {"distributed.scheduler.transition-log-length": 100_000_000}


def _local_cluster(processes: bool, workers: int, **extra: Any) -> Any:
    from distributed import LocalCluster

    if processes:
        extra.setdefault("host", "127.0.0.1")  # in-process clusters talk inproc://
    return LocalCluster(n_workers=workers, threads_per_worker=2, processes=processes,
                        dashboard_address=None, silence_logs=logging.CRITICAL, **extra)  # fmt: skip


def _register(client: Any, plugin: Any) -> None:
    if hasattr(client, "register_plugin"):
        client.register_plugin(plugin)
    else:  # before 2023.9
        client.register_scheduler_plugin(plugin)


def record_one(way: str, directory: Path, transitions: int, workers: int, processes: bool,
               size: int = ROUND, segment_bytes: int | None = None) -> dict[str, Any]:
    """Run the workload recorded ``way``; write the scheduler's log beside the recording."""
    import dask
    from distributed import Client

    from replay.record import TransitionRecorder

    recording = directory / "recording"
    started = time.monotonic()
    argv = ["--replay-dir", str(recording)]
    options: dict[str, Any] = {}
    if segment_bytes is not None:
        argv += ["--replay-segment-bytes", str(segment_bytes)]
        options["segment_bytes"] = segment_bytes
    with dask.config.set(_unbounded_log_config()):
        if way == "cli":
            snapshot, rounds = _record_cli(argv, recording, transitions, workers, size)
        elif way == "config":
            settings = {"distributed.scheduler.preload": ["replay.record"], "distributed.scheduler.preload-argv": argv}
            with dask.config.set(settings), _local_cluster(processes, workers) as cluster, Client(cluster) as client:
                rounds = workload(client, transitions, size)
                snapshot = client.run_on_scheduler(snapshot_of)
        elif way == "register":
            with _local_cluster(processes, workers) as cluster, Client(cluster) as client:
                _register(client, TransitionRecorder(recording, **options))
                rounds = workload(client, transitions, size)
                snapshot = client.run_on_scheduler(snapshot_of)
        else:
            raise ValueError(f"unknown way {way!r}")
    counter, log = snapshot
    with (directory / "scheduler_log.msgpack").open("wb") as stream:
        stream.write(msgpack.packb({"transition_counter": counter, "log": log}, use_bin_type=True, default=repr))
    return {"way": way, "rounds": rounds, "counter_at_snapshot": counter, "log_entries": len(log),
            "seconds": round(time.monotonic() - started, 1)}  # fmt: skip


def _record_cli(argv: list[str], recording: Path, transitions: int, workers: int, size: int) -> tuple[Any, int]:
    from distributed import Client

    environment = _environment()
    scheduler_file = recording.parent / "scheduler.json"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
         "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file),
         "--preload", "replay.record", *argv],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise RuntimeError("the dask scheduler did not start")
            time.sleep(0.1)
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file),
             "--nworkers", str(workers), "--nthreads", "2", "--no-dashboard", "--host", "127.0.0.1"],
            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        with Client(scheduler_file=str(scheduler_file)) as client:
            client.wait_for_workers(workers, timeout=60)
            rounds = workload(client, transitions, size)
            snapshot = client.run_on_scheduler(snapshot_of)
            client.shutdown()  # the scheduler closes: the recorder writes its final manifest
        scheduler.wait(60)
    finally:
        for process in (worker, scheduler):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
    return snapshot, rounds


# --------------------------------------------------------------------------------------
# reading back (needs replay's core)


def verify(directory: Path) -> dict[str, Any]:
    """Read the recording back and compare it with the scheduler's log; replay it."""
    from replay.ingest import open_trace
    from replay.provenance import replay_trace

    recording = directory / "recording"
    manifest = json.loads((recording / "manifest.json").read_text())
    trace = open_trace(recording)
    entries = trace.materialise()
    with (directory / "scheduler_log.msgpack").open("rb") as stream:
        snapshot = msgpack.unpackb(stream.read(), use_list=False, raw=False, strict_map_key=False)
    counter, log = snapshot["transition_counter"], snapshot["log"]
    own = open_trace_of_log(log, directory)
    first = counter - len(own)  # the log's first entry, in the scheduler's count
    compared = 0
    differ = []
    for offset, entry in enumerate(own):
        index = first + offset
        if index < len(entries):
            compared += 1
            if tuple(entries[index]) != tuple(entry):
                differ.append(index)
    result = replay_trace(trace, keep_steps=False)
    return {
        "distributed": manifest.get("distributed_version"),
        "entries": len(entries),
        "transition_counter": trace.metadata.transition_counter,
        "exact_count": len(entries) == trace.metadata.transition_counter,
        "compared_with_log": compared,
        "differing": len(differ),
        "first_differing": differ[:5],
        "segments": len(manifest.get("segments", [])),
        "bytes": sum(path.stat().st_size for path in recording.iterdir()),
        "unmatched_entries": manifest.get("unmatched_entries"),
        "errors": result.errors,
        "warnings": result.warnings,
        "notes": list(trace.notes),
    }


def open_trace_of_log(log: Any, directory: Path) -> tuple[Any, ...]:
    """The scheduler's log through replay's own bare-log reader (the same normalisation)."""
    from replay.ingest import open_trace

    path = directory / "scheduler_log_entries.msgpack"
    path.write_bytes(msgpack.packb(list(log), use_bin_type=True))
    return open_trace(path).materialise()


def _replay_importable() -> bool:
    try:
        import pydantic  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def check(arguments: argparse.Namespace) -> int:
    out = Path(arguments.out) if arguments.out else Path(tempfile.mkdtemp(prefix="replay-record-check-"))
    ways = [way.strip() for way in arguments.ways.split(",") if way.strip()]
    summary: dict[str, Any] = {"python": platform.python_version(), "distributed": _distributed(), "out": str(out),
                               "transitions_asked": arguments.transitions, "ways": {}}  # fmt: skip
    failed = False
    for way in ways:
        directory = out / way
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        ran = record_one(way, directory, arguments.transitions, arguments.workers, arguments.processes,
                         arguments.round_size, arguments.segment_bytes)
        if _replay_importable() and not arguments.no_verify:
            ran.update(verify(directory))
            failed = failed or not ran["exact_count"] or ran["differing"] or ran["errors"] or not ran["compared_with_log"]
        summary["ways"][way] = ran
        if not arguments.json:
            print(f"{way}: {json.dumps(ran)}", file=sys.stderr, flush=True)
    print(json.dumps(summary))
    if not arguments.out and not arguments.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 1 if failed else 0


# --------------------------------------------------------------------------------------
# overhead


def one_run(side: str, transitions: int, workers: int) -> dict[str, Any]:
    """The workload on a fresh cluster; the scheduler thread's CPU time around it.

    ``side``: ``none`` (no plugin), ``noop`` (a plugin whose transition hook does nothing:
    what any plugin costs the scheduler) or ``recorder``.
    """
    import dask
    from distributed import Client

    from replay.record import TransitionRecorder

    directory = Path(tempfile.mkdtemp(prefix="replay-record-bench-"))
    try:
        with dask.config.set(_unbounded_log_config()), _local_cluster(True, workers) as cluster, \
                Client(cluster.scheduler_address) as client:  # its own loop thread, not the scheduler's
            if side == "recorder":
                _register(client, TransitionRecorder(directory / "recording"))
            elif side == "noop":
                _register(client, _noop_plugin())
            client.wait_for_workers(workers, timeout=60)
            counter0 = client.run_on_scheduler(counter_of)
            cpu0 = client.run_on_scheduler(thread_time_of)
            wall0 = time.perf_counter()
            workload(client, transitions)
            cpu1 = client.run_on_scheduler(thread_time_of)
            wall1 = time.perf_counter()
            counter1 = client.run_on_scheduler(counter_of)
        recording = directory / "recording"
        size = sum(path.stat().st_size for path in recording.iterdir()) if recording.exists() else 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    count = counter1 - counter0
    return {"side": side, "transitions": count, "scheduler_cpu": cpu1 - cpu0, "wall": wall1 - wall0,
            "cpu_per_transition_us": (cpu1 - cpu0) / count * 1e6, "bytes": size}  # fmt: skip


def _noop_plugin() -> Any:
    from distributed.diagnostics.plugin import SchedulerPlugin

    class NoopPlugin(SchedulerPlugin):  # type: ignore[misc]
        name = "noop"

        def transition(self, key: Any, start: Any, finish: Any, *args: Any, **kwargs: Any) -> None:
            pass

    return NoopPlugin()


def overhead(arguments: argparse.Namespace) -> int:
    sides = [side.strip() for side in arguments.sides.split(",") if side.strip()]
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for repeat in range(arguments.repeat):
        for side in sides if repeat % 2 == 0 else sides[::-1]:  # in turns
            run = one_run(side, arguments.transitions, arguments.workers)
            runs[side].append(run)
            if not arguments.json:
                print(f"{side}: {run['transitions']} transitions, scheduler CPU {run['scheduler_cpu']:.2f} s "
                      f"({run['cpu_per_transition_us']:.1f} µs/transition), wall {run['wall']:.2f} s, "
                      f"recording {run['bytes'] / 1e6:.1f} MB", file=sys.stderr, flush=True)  # fmt: skip

    def summary_of(side: str) -> dict[str, Any]:
        chosen = runs[side]
        per = [run["cpu_per_transition_us"] for run in chosen]
        return {"runs": chosen, "best_us_per_transition": min(per), "median_us_per_transition": statistics.median(per),
                "median_cpu": statistics.median(run["scheduler_cpu"] for run in chosen),
                "median_wall": statistics.median(run["wall"] for run in chosen)}  # fmt: skip

    summary: dict[str, Any] = {"python": platform.python_version(), "distributed": _distributed(),
                               "machine": platform.machine(), "cpus": os.cpu_count(), "repeat": arguments.repeat,
                               "sides": {side: summary_of(side) for side in sides}}  # fmt: skip
    if "none" in sides:
        base = summary["sides"]["none"]
        for side in sides:
            if side != "none":
                chosen = summary["sides"][side]
                chosen["overhead_median"] = chosen["median_us_per_transition"] / base["median_us_per_transition"] - 1
                chosen["overhead_best"] = chosen["best_us_per_transition"] / base["best_us_per_transition"] - 1
    summary["hook_in_isolation_us"] = hook_cost()
    print(json.dumps(summary))
    if not arguments.json:
        for side in sides:
            chosen = summary["sides"][side]
            extra = (f"; {chosen['overhead_median']:+.1%} median, {chosen['overhead_best']:+.1%} best"
                     if "overhead_median" in chosen else "")  # fmt: skip
            print(f"{side}: scheduler CPU {chosen['median_us_per_transition']:.1f} µs/transition median, "
                  f"{chosen['best_us_per_transition']:.1f} best{extra}", file=sys.stderr)  # fmt: skip
        print(f"the recorder's hook and writes alone: {summary['hook_in_isolation_us']:.2f} µs/transition",
              file=sys.stderr)  # fmt: skip
    return 0


def hook_cost(handler: int = 5) -> float:
    """CPU per transition of the recorder's hook and writes alone, on a stand-in scheduler:
    a real log's entries fed ``handler`` at a time, each batch a loop callback, as handlers are."""
    import asyncio
    import gzip
    from collections import deque

    from replay.record import TransitionRecorder

    log_path = ROOT / "traces" / "2026.8.0" / "benchmark-large" / "transition_log.msgpack.gz"
    if not log_path.exists():
        log_path = ROOT / "traces" / "2026.8.0" / "large-graph" / "transition_log.msgpack"
    data = log_path.read_bytes()
    entries = msgpack.unpackb(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data,
                              use_list=False, raw=False, strict_map_key=False)  # fmt: skip

    class StandIn:
        def __init__(self) -> None:
            self.transition_log: deque[Any] = deque(maxlen=100_000)
            self.transition_counter = 0
            self.address = "stand-in"
            self.id = "stand-in"

    async def feed(recorded: bool) -> float:
        scheduler = StandIn()
        directory = Path(tempfile.mkdtemp(prefix="replay-record-hook-"))
        recorder = TransitionRecorder(directory / "recording")
        plugins = [recorder] if recorded else []
        if recorded:
            await recorder.start(scheduler)
        log = scheduler.transition_log
        start = time.process_time()
        for first in range(0, len(entries), handler):
            for entry in entries[first : first + handler]:
                log.append(entry)
                for plugin in plugins:
                    plugin.transition(entry[0], entry[1], entry[2], stimulus_id=entry[4])
            await asyncio.sleep(0)
        if recorded:
            await recorder.close()
        spent = time.process_time() - start
        shutil.rmtree(directory, ignore_errors=True)
        return spent / len(entries) * 1e6

    async def best() -> float:
        return min([await feed(True) for _ in range(3)]) - min([await feed(False) for _ in range(3)])

    return asyncio.run(best())


def _distributed() -> str:
    import distributed

    return str(distributed.__version__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/record.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="record one workload each way; compare with the scheduler's log")
    checking.add_argument("--transitions", type=int, default=50_000)
    checking.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, of {', '.join(WAYS)}")
    checking.add_argument("--out", default=None, help="keep everything in this directory")
    checking.add_argument("--keep", action="store_true", help="keep the temporary directory")
    checking.add_argument("--workers", type=int, default=2)
    checking.add_argument("--round-size", type=int, default=ROUND, help="map tasks per round of the workload")
    checking.add_argument("--segment-bytes", type=int, default=None, help="the recorder's segment size")
    checking.add_argument("--processes", action=argparse.BooleanOptionalAction, default=True,
                          help="LocalCluster worker processes (the cli way always uses processes)")
    checking.add_argument("--no-verify", action="store_true", help="record only; leave the comparison to the caller")
    checking.add_argument("--json", action="store_true", help="print only the JSON summary")
    costing = commands.add_parser("overhead", help="scheduler CPU time with and without the recorder")
    costing.add_argument("--transitions", type=int, default=100_000)
    costing.add_argument("--repeat", type=int, default=3)
    costing.add_argument("--workers", type=int, default=2)
    costing.add_argument("--sides", default="none,noop,recorder",
                         help="comma-separated, of none (no plugin), noop (an empty plugin), recorder")
    costing.add_argument("--json", action="store_true", help="print only the JSON summary")
    arguments = parser.parse_args(argv)
    os.environ.update({name: value for name, value in _environment().items() if name.startswith(("PYTHONPATH", "DASK_"))})
    return check(arguments) if arguments.command == "check" else overhead(arguments)


if __name__ == "__main__":
    sys.exit(main())
