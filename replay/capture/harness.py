"""Run one capture scenario on a real in-process cluster and write its artefacts.

Only the stdlib, ``distributed``, ``dask``, ``msgpack`` and ``yaml`` may be
imported here: this module runs inside virtualenvs of old ``distributed``
releases (back to 2022, Python 3.10).
"""

# Imports of distributed / dask / msgpack stay inside functions on purpose: the
# package must import (for --list, for the checker) without them.
# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gzip
import inspect
import json
import logging
import os
import platform
import pprint
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from replay.releases import NATIVE_KEYS_SINCE, Release, parse_release

#: every artefact the harness knows how to write, in writing order, and the files it writes
ARTEFACT_FILES = {
    "transition_log": ("transition_log.msgpack", "transition_log.msgpack.gz"),  # .gz with --gzip-log
    "story": ("story.txt", "story_pprint.txt"),
    "client_story": ("client_story.msgpack",),
    "dump_msgpack": ("dump.msgpack.gz",),
    "dump_yaml": ("dump.yaml",),
}
ARTEFACTS = tuple(ARTEFACT_FILES)

#: a log length large enough that no capture here ever truncates
UNBOUNDED_LOG = 10_000_000

#: how long one artefact (a dump, a story RPC) may take before it is given up
ARTEFACT_TIMEOUT = 300.0


# --------------------------------------------------------------------------------------
# gates: threading events shared by the in-process workers' task threads and the
# scenario coroutine. Workers run in this process, so a task function defined in an
# importable module can block on a module-level threading.Event.


class Gate:
    """A task blocks in ``pass_through`` until the scenario opens the gate."""

    #: a gated task never blocks longer than this, so no thread outlives a capture
    MAX_BLOCK = 120.0

    def __init__(self, name: str, open_: bool = False) -> None:
        self.name = name
        self.entered = threading.Event()
        self.released = threading.Event()
        if open_:
            self.released.set()

    def pass_through(self) -> None:
        self.entered.set()
        self.released.wait(self.MAX_BLOCK)

    def open(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.released.clear()
        self.entered.clear()


GATES: dict[str, Gate] = {}


def gate(name: str, open_: bool = False) -> Gate:
    g = GATES.get(name)
    if g is None:
        g = GATES[name] = Gate(name, open_)
    return g


def open_all_gates() -> None:
    for g in GATES.values():
        g.open()


# --------------------------------------------------------------------------------------
# small compatibility helpers


def accepted_kwargs(func: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """Keep only the keyword arguments that ``func`` names explicitly."""
    params = inspect.signature(func).parameters
    return {k: v for k, v in kwargs.items() if k in params}


def distributed_version() -> str:
    import distributed

    return str(distributed.__version__)


def worker_state(worker: Any) -> Any:
    """The worker's state machine: ``Worker.state`` since 2022.6, the worker itself before."""
    return getattr(worker, "state", worker)


def worker_task(worker: Any, key: str) -> Any:
    """The worker's task record for ``key``, or None."""
    return worker_state(worker).tasks.get(key)


def worker_task_state(worker: Any, key: str) -> str | None:
    """The state of ``key`` on the worker, or None when the worker does not know it."""
    task = worker_task(worker, key)
    return None if task is None else str(task.state)


def validate_worker(worker: Any) -> str:
    """``"ok"`` when the worker's own ``validate_state()`` passes, else the error, short."""
    try:
        worker_state(worker).validate_state()
    except Exception as e:
        return f"{type(e).__name__}: {str(e)[:300]}"
    return "ok"


async def result_or_error(future: Any, timeout: float = 10) -> Any:
    """The future's result, or its error as ``"Type: message"`` (a fact to record, not to raise)."""
    try:
        return await asyncio.wait_for(future, timeout)
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def config_has(key: str) -> bool:
    import dask

    sentinel = object()
    return dask.config.get(key, default=sentinel) is not sentinel


class ErrorLogCollector(logging.Handler):
    """Keeps ERROR records of distributed's loggers for meta.json."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = record.getMessage()
        except Exception:
            msg = str(record.msg)
        line = f"{record.name}: {msg}"
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f" [{type(exc).__name__}: {str(exc)[:300]}]"
        if len(self.records) < 200:
            self.records.append(line[:2000])


# --------------------------------------------------------------------------------------
# the scenario context


class Ctx:
    """What a scenario gets: the scheduler, a client, workers, and helpers."""

    def __init__(self, scheduler: Any, client: Any) -> None:
        self.s = scheduler
        self.c = client
        #: the release running, as ``(2024, 2, 1)``
        self.version: Release = parse_release(distributed_version()) or ()
        self.workers: list[Any] = []
        self.nannies: list[Any] = []
        #: futures kept alive until every artefact is written
        self.held: list[Any] = []
        self.notes: list[str] = []
        #: scratch space for workers (old releases default to ./dask-worker-space)
        self.local_directory = tempfile.mkdtemp(prefix="replay-capture-")
        #: scenario-specific facts for meta.json
        self.facts: dict[str, Any] = {}

    # -- bookkeeping
    def note(self, text: str) -> None:
        print(f"[capture] {text}", file=sys.stderr, flush=True)
        self.notes.append(text)

    def hold(self, *futures: Any) -> None:
        """Keep futures referenced until the artefacts are written (no stray releases)."""
        self.held.extend(futures)

    # -- cluster
    async def add_worker(
        self,
        nthreads: int = 1,
        resources: dict[str, float] | None = None,
        name: str | None = None,
    ) -> Any:
        from distributed import Worker

        worker = await self._start(Worker, 60, nthreads=nthreads, resources=resources, name=name)
        self.workers.append(worker)
        return worker

    async def add_gen_cluster_workers(self, names: tuple[str, str] = ("a", "b")) -> list[Any]:
        """The two workers of distributed's ``gen_cluster`` default (``nthreads=[("", 1), ("", 2)]``),
        as the regression tests that use it have them."""
        return [await self.add_worker(nthreads=1, name=names[0]), await self.add_worker(nthreads=2, name=names[1])]

    async def add_nanny(self, nthreads: int = 1, name: str | None = None) -> Any:
        from distributed import Nanny

        nanny = await self._start(Nanny, 120, nthreads=nthreads, name=name)
        self.nannies.append(nanny)
        return nanny

    async def _start(self, server: Any, timeout: float, **options: Any) -> Any:
        """Start a Worker or Nanny on loopback with what this release's signature accepts."""
        kw = accepted_kwargs(
            server.__init__,
            **options,
            dashboard=False,
            host="127.0.0.1",
            memory_limit=0,
            local_directory=self.local_directory,
        )
        return await asyncio.wait_for(server(self.s.address, **kw), timeout)

    async def remove_worker(self, address: str, stimulus_id: str) -> Any:
        kw = accepted_kwargs(self.s.remove_worker, stimulus_id=stimulus_id)
        return await asyncio.wait_for(self.s.remove_worker(address=address, **kw), 60)

    async def removed(self, address: str, stimulus_id: str) -> bool:
        """Remove a worker under ``stimulus_id``; False, noted as the failed stimulus, when the
        scheduler raised (as it does when a validate-mode assertion fires)."""
        try:
            await self.remove_worker(address, stimulus_id=stimulus_id)
        except Exception as e:
            self.note(f"{stimulus_id} raised {type(e).__name__}: {e!r:.300}")
            self.facts["failed_stimulus"] = stimulus_id
            return False
        return True

    async def close_worker(self, w: Any, timeout: float = 30) -> None:
        try:
            await asyncio.wait_for(w.close(), timeout)
        except Exception as e:  # pragma: no cover - best effort
            self.note(f"closing worker {getattr(w, 'address', w)} failed: {e!r}")

    # -- waiting
    async def wait_until(
        self, pred: Callable[[], bool], timeout: float, what: str, interval: float = 0.005
    ) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if pred():
                    return True
            except Exception:
                pass
            if time.monotonic() > deadline:
                self.note(f"timed out after {timeout}s waiting for {what}")
                return False
            await asyncio.sleep(interval)

    async def wait_gate(self, g: Gate, timeout: float = 30) -> bool:
        return await self.wait_until(g.entered.is_set, timeout, f"gate {g.name!r} entered")

    async def settle(self, futures: Any, timeout: float = 60) -> bool:
        """Wait until every future is finished (any outcome)."""
        from distributed import wait

        try:
            await asyncio.wait_for(wait(futures), timeout)
            return True
        except asyncio.TimeoutError:
            self.note(f"futures not all finished within {timeout}s")
            return False

    async def release(self, futures: Any, timeout: float = 30) -> bool:
        """Release futures explicitly and wait until the scheduler forgot them."""
        keys = [self.scheduler_key(f.key) for f in futures]
        for f in futures:
            f.release()
        return await self.wait_until(
            lambda: not any(k in self.s.tasks for k in keys), timeout, "released keys forgotten"
        )

    async def wait_forgotten(self, timeout: float = 30) -> bool:
        return await self.wait_until(
            lambda: not self.s.tasks, timeout, "scheduler task table empty"
        )

    def scheduler_key(self, key: Any) -> Any:
        """The key as the scheduler stores it (stringified before 2023.9)."""
        if self.version < NATIVE_KEYS_SINCE:
            from dask.utils import stringify

            return stringify(key)
        return key


# --------------------------------------------------------------------------------------
# artefacts


def _msgpack_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        items = list(obj)
        with contextlib.suppress(TypeError):
            items.sort()
        return items
    return repr(obj)


def packb(obj: Any) -> bytes:
    import msgpack

    return msgpack.packb(obj, use_bin_type=True, default=_msgpack_default)


def keys_in_log(log: Any) -> list[Any]:
    """Every key named in a log: as an entry key or a recommendation key."""
    seen: dict[Any, None] = {}
    for entry in log:
        for k in [entry[0], *entry[3]]:
            with contextlib.suppress(TypeError):
                seen.setdefault(k, None)
    return list(seen)


async def write_artefacts(
    ctx: Ctx, out: Path, artefacts: set[str], gzip_log: bool, meta: dict[str, Any]
) -> None:
    s, c = ctx.s, ctx.c
    log = list(s.transition_log)
    written: dict[str, str] = {}
    meta["artefacts"] = written

    def skip(name: str, why: str) -> None:
        written[name] = f"skipped: {why}"

    # the bare log first: it is the one artefact every capture must have
    if "transition_log" in artefacts:
        data = packb([list(t) for t in log])
        if gzip_log:
            (out / "transition_log.msgpack.gz").write_bytes(gzip.compress(data, mtime=0))
            written["transition_log"] = "transition_log.msgpack.gz"
        else:
            (out / "transition_log.msgpack").write_bytes(data)
            written["transition_log"] = "transition_log.msgpack"
    else:
        skip("transition_log", "turned off")

    if "story" in artefacts:
        (out / "story.txt").write_text(repr(s.transition_log) + "\n")
        (out / "story_pprint.txt").write_text(pprint.pformat(log) + "\n")
        written["story"] = "story.txt, story_pprint.txt"
    else:
        skip("story", "turned off")

    if "client_story" in artefacts:
        if not hasattr(type(c), "story"):
            skip("client_story", f"Client.story does not exist in {distributed_version()}")
        else:
            keys = keys_in_log(log)
            try:
                story = await asyncio.wait_for(c.story(*keys), ARTEFACT_TIMEOUT)
                (out / "client_story.msgpack").write_bytes(packb([list(e) for e in story]))
                written["client_story"] = f"client_story.msgpack ({len(keys)} keys asked)"
                meta["client_story_entries"] = len(story)
            except Exception as e:
                written["client_story"] = f"failed: {type(e).__name__}: {e}"
    else:
        skip("client_story", "turned off")

    for name, fmt, filename in (
        ("dump_msgpack", "msgpack", "dump.msgpack.gz"),
        ("dump_yaml", "yaml", "dump.yaml"),
    ):
        if name not in artefacts:
            skip(name, "turned off")
            continue
        target = out / filename
        try:
            await asyncio.wait_for(c.dump_cluster_state(str(target), format=fmt), ARTEFACT_TIMEOUT)
            if not target.exists():
                # a release that appended its own suffix: find what it wrote
                cands = sorted(out.glob(filename + "*"))
                if cands:
                    cands[0].rename(target)
            written[name] = filename if target.exists() else "failed: no file written"
            if name == "dump_msgpack" and target.exists():
                import msgpack

                with gzip.open(target, "rb") as fh:
                    state = msgpack.unpack(fh, strict_map_key=False)
                sched = state.get("scheduler", {}) if isinstance(state, dict) else {}
                if isinstance(sched, dict):
                    tl = sched.get("transition_log")
                    meta["dump_log_entries"] = len(tl) if tl is not None else None
                    meta["dump_transition_counter"] = sched.get("transition_counter")
        except Exception as e:
            written[name] = f"failed: {type(e).__name__}: {e}"
            if target.exists():
                target.unlink()


# --------------------------------------------------------------------------------------
# the run


def configure(
    *, validate: bool, log_length: int | None, saturation: str | None, extra: dict[str, Any]
) -> dict[str, Any]:
    """Set dask config for the capture; return what was set (for meta.json)."""
    import dask
    import distributed  # noqa: F401  (registers distributed's config defaults)

    cfg: dict[str, Any] = {"distributed.scheduler.validate": validate}
    if log_length is not None:
        if config_has("distributed.admin.low-level-log-length"):
            cfg["distributed.admin.low-level-log-length"] = log_length
        else:
            cfg["distributed.scheduler.transition-log-length"] = log_length
    if saturation is not None and config_has("distributed.scheduler.worker-saturation"):
        cfg["distributed.scheduler.worker-saturation"] = float(saturation)
    cfg.update(extra)
    dask.config.set(cfg)
    return cfg


async def run_scenario(
    scenario: Any,
    out: Path,
    *,
    artefacts: set[str],
    gzip_log: bool,
    timeout: float,
    meta: dict[str, Any],
) -> int:
    from distributed import Client, Scheduler

    collector = ErrorLogCollector()
    for name in ("distributed.scheduler", "distributed.worker", "distributed.core"):
        logging.getLogger(name).addHandler(collector)

    skw = accepted_kwargs(
        Scheduler.__init__, dashboard=False, dashboard_address=":0", host="127.0.0.1", port=0
    )
    if "dashboard" in skw:
        skw.pop("dashboard_address", None)
    s = await asyncio.wait_for(Scheduler(**skw), 60)
    c = await asyncio.wait_for(Client(s.address, asynchronous=True), 60)
    ctx = Ctx(s, c)
    meta["scheduler_validate"] = bool(getattr(s, "validate", None))
    rc = 0
    started = time.monotonic()
    try:
        await asyncio.wait_for(scenario.run(ctx), timeout)
        meta["outcome"] = "completed"
    except asyncio.TimeoutError:
        meta["outcome"] = f"scenario timed out after {timeout}s"
        ctx.note(meta["outcome"])
    except Exception as e:
        meta["outcome"] = f"scenario raised {type(e).__name__}: {e}"
        meta["scenario_traceback"] = traceback.format_exc()[-4000:]
        ctx.note(meta["outcome"])
        rc = 1
    meta["scenario_seconds"] = round(time.monotonic() - started, 3)

    log = s.transition_log
    meta["entries"] = len(log)
    meta["log_maxlen"] = log.maxlen
    meta["transition_counter"] = getattr(s, "transition_counter", None)
    meta["log_starts_mid_history"] = bool(log.maxlen is not None and len(log) >= log.maxlen)
    try:
        meta["entry_fields"] = len(log[0]) if log else None
        meta["entry_type"] = type(log[0]).__name__ if log else None
    except Exception:
        pass
    meta["tasks_left"] = {str(k): ts.state for k, ts in list(s.tasks.items())[:50]}
    meta["ntasks_left"] = len(s.tasks)

    try:
        await write_artefacts(ctx, out, artefacts, gzip_log, meta)
    finally:
        meta["notes"] = ctx.notes
        meta["facts"] = ctx.facts
        meta["logged_errors"] = collector.records
        open_all_gates()
        ctx.held.clear()
        text = json.dumps(meta, indent=2, sort_keys=True, default=repr)
        (out / "meta.json").write_text(text + "\n")

    # shut down; never hang
    for closer in (
        c.close,
        *[w.close for w in ctx.workers],
        *[n.close for n in ctx.nannies],
        s.close,
    ):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(closer(), 20)
    shutil.rmtree(ctx.local_directory, ignore_errors=True)
    return rc


def base_meta(scenario: str, validate: bool, options: dict[str, Any]) -> dict[str, Any]:
    import dask

    return {
        "scenario": scenario,
        "distributed_version": distributed_version(),
        "dask_version": str(dask.__version__),
        "python_version": platform.python_version(),
        "validate": validate,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "options": options,
        "pid": os.getpid(),
    }


def run(
    scenario: Any,
    out: Path,
    *,
    validate: bool,
    artefacts: set[str],
    gzip_log: bool,
    timeout: float,
    saturation: str | None,
    log_length: int | None,
) -> int:
    import dask

    out.mkdir(parents=True, exist_ok=True)
    for files in (*ARTEFACT_FILES.values(), ("meta.json",)):
        for stale in files:
            (out / stale).unlink(missing_ok=True)

    options = {
        "gzip_log": gzip_log,
        "timeout": timeout,
        "artefacts_requested": sorted(artefacts),
    }
    config = configure(
        validate=validate, log_length=log_length, saturation=saturation, extra=scenario.config
    )
    meta = base_meta(scenario.name, validate, options)
    meta["description"] = scenario.description
    meta["config_set"] = config
    sat = dask.config.get("distributed.scheduler.worker-saturation", None)
    meta["worker_saturation"] = None if sat is None else str(sat)
    meta["log_length_config"] = log_length
    meta["allowed_failures"] = dask.config.get("distributed.scheduler.allowed-failures", None)
    meta["work_stealing"] = dask.config.get("distributed.scheduler.work-stealing", None)
    return asyncio.run(
        run_scenario(
            scenario, out, artefacts=artefacts, gzip_log=gzip_log, timeout=timeout, meta=meta
        )
    )

