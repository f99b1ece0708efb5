"""Capture scenarios: each one drives a real in-process cluster through a story.

Task functions live at module level so that cloudpickle sends them by reference;
the in-process workers import this very module, which lets tasks block on the
harness's threading gates. Keep every scenario small: the traces are committed.
"""

# Imports of dask stay inside the scenarios: --list must work without running them.
# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from replay.releases import NATIVE_KEYS_SINCE

from .harness import UNBOUNDED_LOG, Ctx, gate

# --------------------------------------------------------------------------------------
# task functions (run on the workers)


def inc(x: int) -> int:
    return x + 1


def add(*xs: int) -> int:
    return sum(xs)


def gated(x: Any, name: str) -> Any:
    """Block until the scenario opens gate ``name``; return ``x``."""
    gate(name).pass_through()
    return x


def sleep_inc(x: int, delay: float) -> int:
    time.sleep(delay)
    return x + 1


def boom(x: Any) -> Any:
    raise ValueError(f"boom on {x!r}")


_FLAKY_CALLS: dict[str, int] = {}


def flaky(x: int, name: str, failures: int) -> int:
    """Raise on the first ``failures`` calls for ``name``, then succeed."""
    n = _FLAKY_CALLS.get(name, 0) + 1
    _FLAKY_CALLS[name] = n
    if n <= failures:
        raise RuntimeError(f"{name} attempt {n} fails on purpose")
    return x + 1


# --------------------------------------------------------------------------------------
# registry


@dataclass
class Scenario:
    name: str
    description: str
    run: Callable[[Ctx], Awaitable[None]]
    #: dask config set for this scenario (on top of validate / log length / saturation)
    config: dict[str, Any] = field(default_factory=dict)
    #: None keeps the release's default log length (truncation scenario)
    log_length: int | None = UNBOUNDED_LOG
    #: artefacts this scenario does not write unless asked explicitly
    default_skip: tuple[str, ...] = ()
    gzip_log: bool = False
    timeout: float = 180.0
    #: worker-saturation used when --worker-saturation is not given (None: release default)
    saturation: str | None = None


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, description: str, **kwargs: Any
) -> Callable[[Callable[[Ctx], Awaitable[None]]], Callable[[Ctx], Awaitable[None]]]:
    def deco(fn: Callable[[Ctx], Awaitable[None]]) -> Callable[[Ctx], Awaitable[None]]:
        SCENARIOS[name] = Scenario(name, description, fn, **kwargs)
        return fn

    return deco


# --------------------------------------------------------------------------------------
# 1. seed: dask/distributed issue 8548


@scenario(
    "seed",
    "issue 8548: f->g->{ha,hb} on resources a/b; two b workers removed (remove_b1, "
    "remove_b2); 2024.2.1 turns g waiting under an erred f and deadlocks",
    config={"distributed.scheduler.allowed-failures": 0},
    timeout=120.0,
)
async def seed(ctx: Ctx) -> None:
    """The regression scenario of dask/distributed#8548 (fixed by #8549 in 2024.3.0).

    Worker A has resource ``a``. f, g and hb need ``b``; ha needs ``a``. A first
    ``b`` worker runs f and g; hb starts on it while ha (on A) has fetched g.
    Removing that worker (``remove_b1``) errs hb (allowed-failures 0) and loses
    f, which the client wants, so f reruns on a second ``b`` worker; removing
    that one too (``remove_b2``) errs f. On 2024.2.1 f's erred cascade asks for
    ``g: erred``, the detour through released turns it into ``g: waiting`` and
    ha waits forever on g. With validate on, the transition raises instead.
    """
    import dask
    from dask import delayed

    c, s = ctx.c, ctx.s
    gf = gate("seed-f", open_=True)  # f passes straight through on its first run
    gha = gate("seed-ha")
    ghb = gate("seed-hb")

    a = await ctx.add_worker(nthreads=1, resources={"a": 1}, name="a")
    b1 = await ctx.add_worker(nthreads=1, resources={"b": 1}, name="b1")

    with dask.annotate(resources={"b": 1}):
        f = delayed(gated)(1, "seed-f", dask_key_name="f")
        g = delayed(inc)(f, dask_key_name="g")
        hb = delayed(gated)(g, "seed-hb", dask_key_name="hb")
    with dask.annotate(resources={"a": 1}):
        ha = delayed(gated)(g, "seed-ha", dask_key_name="ha")
    del g

    ff, fha, fhb = c.compute([f, ha, hb])
    ctx.hold(ff, fha, fhb)
    # f and g ran on b1, ha runs on A (it fetched g), hb runs on b1
    ok = await ctx.wait_gate(gha) and await ctx.wait_gate(ghb)
    ok = ok and await ctx.wait_until(
        lambda: "g" in a.data or "g" in getattr(getattr(a, "state", a), "data", {}),
        10,
        "g fetched to worker a",
    )
    # ... and the scheduler knows about that replica, so g survives remove_b1
    ok = ok and await ctx.wait_until(
        lambda: any(ws.address == a.address for ws in s.tasks[ctx.scheduler_key("g")].who_has),
        10,
        "scheduler sees g on worker a",
    )
    if not ok:
        ctx.note("seed: setup did not reach the expected state")
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["setup_ok"] = True
    gf.close()  # the rerun of f blocks

    # remove_b1 while hb runs: hb errs, f is lost and must rerun (the client wants it)
    if not await ctx.removed(b1.address, "remove_b1"):
        return
    ghb.open()
    await ctx.close_worker(b1)

    b2 = await ctx.add_worker(nthreads=1, resources={"b": 1}, name="b2")
    if not await ctx.wait_gate(gf):
        ctx.note("seed: f did not start on b2")
        return
    # remove_b2 while f runs: f errs (allowed-failures 0)
    if not await ctx.removed(b2.address, "remove_b2"):
        return  # every gate stays shut: no further stimulus until the artefacts are written
    gf.open()
    await ctx.close_worker(b2)

    gha.open()
    try:
        await asyncio.wait_for(fha, 10)
        ctx.facts["ha_completed"] = True
    except asyncio.TimeoutError:
        ctx.facts["ha_completed"] = False
        ctx.facts["deadlock"] = True
        ctx.note("seed: ha did not complete within 10s: deadlock (capturing as is)")
        return
    except Exception as e:
        ctx.facts["ha_completed"] = False
        ctx.note(f"seed: ha raised {type(e).__name__}: {e}")
    await ctx.settle([ff, fhb], 10)
    ctx.facts["f_status"] = ff.status
    ctx.facts["hb_status"] = fhb.status
    # the fixed release completes: release everything so the log ends clean
    await ctx.release([ff, fha, fhb])


# --------------------------------------------------------------------------------------
# 2. mapreduce: tuple, int (and float) keys


def _map_tuple_keys(ctx: Ctx, func: Callable[..., Any], xs: Any, keys: list[Any]) -> list[Any]:
    """``client.map`` with tuple keys, in one update-graph on every release.

    ``Client.map`` up to at least 2022.5.0 submits the graph and then fails to find
    its futures (``KeyError: "('map', 0)"``: it looks them up by the stringified
    key), so old releases compute the same graph as a list of delayed calls.
    """
    if ctx.version >= NATIVE_KEYS_SINCE:
        return list(ctx.c.map(func, xs, key=keys))
    from dask import delayed

    ctx.facts["map_via"] = "client.compute of delayed calls (Client.map breaks on tuple keys)"
    return list(
        ctx.c.compute([delayed(func)(x, dask_key_name=k) for x, k in zip(xs, keys, strict=True)])
    )


@scenario(
    "mapreduce",
    "20 maps with tuple keys ('map', i), a tree reduction ('reduce', level, j), an int "
    "key 5 and a float key 2.5; all results gathered, then released",
)
async def mapreduce(ctx: Ctx) -> None:
    c = ctx.c
    for i in range(2):
        await ctx.add_worker(nthreads=2, name=f"w{i}")

    maps = _map_tuple_keys(ctx, inc, range(20), [("map", i) for i in range(20)])
    allf = list(maps)
    level, layer = 0, maps
    while len(layer) > 1:
        nxt = []
        for j in range(0, len(layer), 2):
            nxt.append(c.submit(add, *layer[j : j + 2], key=("reduce", level, j // 2)))
        allf.extend(nxt)
        layer, level = nxt, level + 1
    total = layer[0]
    extra = []
    try:
        extra.append(c.submit(inc, 1, key=5))
    except Exception as e:
        ctx.note(f"int key refused: {e!r}")
    try:
        extra.append(c.submit(inc, 2, key=2.5))
    except Exception as e:
        ctx.note(f"float key refused: {e!r}")
    result = await asyncio.wait_for(total, 60)
    ctx.facts["total"] = result
    ctx.facts["extra"] = await asyncio.wait_for(c.gather(extra), 60)
    await ctx.release([*allf, *extra])
    await ctx.wait_forgotten(30)


# --------------------------------------------------------------------------------------
# 3. task-raises


@scenario(
    "task-raises",
    "a task raises; its dependents (direct and transitive, one with a tuple key) go "
    "erred; the client then releases the futures",
)
async def task_raises(ctx: Ctx) -> None:
    c = ctx.c
    await ctx.add_worker(nthreads=1, name="w0")
    await ctx.add_worker(nthreads=1, name="w1")
    ok = c.submit(inc, 1, key="ok")
    bad = c.submit(boom, ok, key="bad")
    dep1 = c.submit(inc, bad, key="dep-1")
    dep2 = c.submit(add, dep1, ok, key=("dep", 2))
    side = c.submit(inc, ok, key="side")
    futs = [ok, bad, dep1, dep2, side]
    await ctx.settle(futs, 30)
    ctx.facts["status"] = {str(f.key): f.status for f in futs}
    await ctx.release(futs)
    await ctx.wait_forgotten(30)


# --------------------------------------------------------------------------------------
# 4. worker-lost


@scenario(
    "worker-lost",
    "30 sleeping tasks on 3 workers; one worker is closed mid-run; the rest finish",
)
async def worker_lost(ctx: Ctx) -> None:
    c = ctx.c
    ws = [await ctx.add_worker(nthreads=1, name=f"w{i}") for i in range(3)]
    futs = c.map(sleep_inc, range(30), [0.15] * 30, key=[f"sleep-{i}" for i in range(30)])
    total = c.submit(add, *futs, key="total")
    victim = ws[2]
    await ctx.wait_until(
        lambda: sum(1 for f in futs if f.status == "finished") >= 6, 30, "6 tasks done"
    )
    ctx.facts["victim"] = victim.address
    ctx.facts["victim_had"] = len(victim.data)
    await ctx.close_worker(victim)
    ctx.facts["total"] = await asyncio.wait_for(total, 60)
    await ctx.release([*futs, total])
    await ctx.wait_forgotten(30)


class Counter:
    """An actor (``c.submit(Counter, actor=True)``)."""

    def __init__(self) -> None:
        self.n = 0

    def increment(self) -> int:
        self.n += 1
        return self.n


@scenario(
    "actor-lost",
    "an actor on one worker; that worker is closed; calling the actor fails with 'Worker "
    "holding Actor was lost' (distributed's test_failed_worker); then it is released",
)
async def actor_lost(ctx: Ctx) -> None:
    c, s = ctx.c, ctx.s
    await ctx.add_worker(nthreads=1, name="a")
    b = await ctx.add_worker(nthreads=1, name="b")
    future = c.submit(Counter, actor=True, workers=[b.address], key="counter")
    counter = await future
    ctx.facts["first_increment"] = await counter.increment()
    await ctx.close_worker(b)
    await ctx.wait_until(lambda: b.address not in s.workers, 30, "worker b removed")
    try:
        ctx.facts["after_loss"] = repr(await asyncio.wait_for(counter.increment(), 10))
    except Exception as e:
        ctx.facts["after_loss"] = f"{type(e).__name__}: {e}"
    ctx.facts["states_after_loss"] = {str(k): ts.state for k, ts in s.tasks.items()}
    del counter
    await ctx.release([future])
    await ctx.wait_forgotten(30)


# --------------------------------------------------------------------------------------
# 5. queuing on / off


async def _wide_roots(ctx: Ctx) -> None:
    c = ctx.c
    for i in range(2):
        await ctx.add_worker(nthreads=2, name=f"w{i}")
    roots = c.map(sleep_inc, range(40), [0.01] * 40, key=[("root", i) for i in range(40)])
    kids = c.map(inc, roots, key=[("child", i) for i in range(40)])
    total = c.submit(add, *kids, key="total")
    ctx.facts["total"] = await asyncio.wait_for(total, 60)
    await ctx.release([*roots, *kids, total])
    await ctx.wait_forgotten(30)


@scenario(
    "queuing-on",
    "40 root tasks + 40 children + a sum on 2x2 threads, worker-saturation 1.1 (queued)",
    saturation="1.1",
)
async def queuing_on(ctx: Ctx) -> None:
    await _wide_roots(ctx)


@scenario(
    "queuing-off",
    "the same wide graph with worker-saturation inf (no queuing)",
    saturation="inf",
)
async def queuing_off(ctx: Ctx) -> None:
    await _wide_roots(ctx)


# --------------------------------------------------------------------------------------
# 6. large graph


def _tree(leaves: int, prefix: str) -> Any:
    """Leaves with tuple keys, then a binary reduction tree; returns its root."""
    from dask import delayed

    layer = [delayed(inc)(i, dask_key_name=(f"{prefix}-leaf", i)) for i in range(leaves)]
    level = 0
    while len(layer) > 1:
        layer = [
            delayed(add)(*layer[j : j + 2], dask_key_name=(f"{prefix}-sum", level, j // 2))
            for j in range(0, len(layer), 2)
        ]
        level += 1
    return layer[0]


@scenario(
    "large-graph",
    "a 5,000+ task graph (2,600 leaves with tuple keys + binary reduction tree), computes",
    # the yaml dump (~40 MB) and the client story (~10 MB) are too big to commit
    default_skip=("story", "client_story", "dump_yaml"),
    timeout=600.0,
)
async def large_graph(ctx: Ctx) -> None:
    c = ctx.c
    for i in range(2):
        await ctx.add_worker(nthreads=2, name=f"w{i}")
    root = _tree(2600, "lg")
    fut = c.compute(root)
    ctx.facts["result"] = await asyncio.wait_for(fut, 500)
    ctx.facts["ntasks"] = len(root.__dask_graph__())
    await ctx.release([fut])
    await ctx.wait_forgotten(60)


# --------------------------------------------------------------------------------------
# 7. stealing


@scenario(
    "stealing",
    "40 tasks of varying duration pinned to one of 3 workers (allow_other_workers=True); "
    "work stealing moves some",
    config={"distributed.scheduler.work-stealing": True},
)
async def stealing(ctx: Ctx) -> None:
    c = ctx.c
    ws = [await ctx.add_worker(nthreads=1, name=f"w{i}") for i in range(3)]
    delays = [0.02 + 0.03 * (i % 5) for i in range(40)]
    futs = c.map(
        sleep_inc,
        range(40),
        delays,
        key=[f"slow-{i}" for i in range(40)],
        workers=[ws[0].address],
        allow_other_workers=True,
    )
    await ctx.settle(futs, 60)
    where = {}
    for f in futs:
        ts = ctx.s.tasks.get(ctx.scheduler_key(f.key))
        if ts is not None and ts.who_has:
            addr = next(iter(ts.who_has)).address
            where[addr] = where.get(addr, 0) + 1
    ctx.facts["results_per_worker"] = where
    stealing_ext = ctx.s.extensions.get("stealing")
    if stealing_ext is not None:
        ctx.facts["steal_count"] = getattr(stealing_ext, "count", None)
    await ctx.release(futs)
    await ctx.wait_forgotten(30)


# --------------------------------------------------------------------------------------
# 8. retries


@scenario(
    "retries",
    "a task fails twice then succeeds with retries=2; a dependent runs after it",
)
async def retries(ctx: Ctx) -> None:
    c = ctx.c
    await ctx.add_worker(nthreads=1, name="w0")
    _FLAKY_CALLS.clear()
    x = c.submit(flaky, 1, "flaky", 2, key="flaky", retries=2)
    y = c.submit(inc, x, key="after-flaky")
    ctx.facts["result"] = await asyncio.wait_for(y, 30)
    ctx.facts["attempts"] = dict(_FLAKY_CALLS)
    await ctx.release([x, y])
    await ctx.wait_forgotten(30)


# --------------------------------------------------------------------------------------
# 9. restart


@scenario(
    "restart",
    "2 nanny workers run sleeping tasks; client.restart() mid-run; then compute again",
    timeout=300.0,
)
async def restart(ctx: Ctx) -> None:
    c = ctx.c
    for i in range(2):
        await ctx.add_nanny(nthreads=1, name=f"n{i}")
    await asyncio.wait_for(c.wait_for_workers(2), 60)
    before = c.map(sleep_inc, range(8), [0.3] * 8, key=[f"before-{i}" for i in range(8)])
    await ctx.wait_until(
        lambda: sum(1 for f in before if f.status == "finished") >= 2, 60, "2 tasks done"
    )
    await asyncio.wait_for(c.restart(), 120)
    await asyncio.wait_for(c.wait_for_workers(2), 60)
    ctx.facts["before_status"] = sorted({f.status for f in before})
    after = c.map(inc, range(6), key=[f"after-{i}" for i in range(6)])
    ctx.facts["after"] = await asyncio.wait_for(c.gather(after), 60)
    await ctx.release(after)
    await ctx.wait_forgotten(30)


# --------------------------------------------------------------------------------------
# 10. truncated


@scenario(
    "truncated",
    "the release's default log length (1,000 since 2023.9.3) on ~3,000 transitions: the "
    "log starts mid-history",
    log_length=None,
)
async def truncated(ctx: Ctx) -> None:
    c = ctx.c
    for i in range(2):
        await ctx.add_worker(nthreads=2, name=f"w{i}")
    for batch in range(3):
        futs = c.map(inc, range(150), key=[("t", batch, i) for i in range(150)])
        total = c.submit(add, *futs, key=("total", batch))
        ctx.facts[f"total-{batch}"] = await asyncio.wait_for(total, 60)
        await ctx.release([*futs, total])
    await ctx.wait_forgotten(30)
    ctx.facts["transition_counter"] = getattr(ctx.s, "transition_counter", None)


# --------------------------------------------------------------------------------------
# 11. benchmark-large


@scenario(
    "benchmark-large",
    ">= 150,000 transitions: several graphs (~28,000 tasks), a task that raises, a "
    "worker removed mid-run, all released",
    default_skip=("story", "client_story", "dump_yaml"),
    gzip_log=True,
    timeout=1800.0,
)
async def benchmark_large(ctx: Ctx) -> None:
    c = ctx.c
    ws = [await ctx.add_worker(nthreads=2, name=f"w{i}") for i in range(3)]
    # 1: a big reduction tree (tuple keys)
    root = _tree(8000, "bench")
    fut = c.compute(root)
    ctx.facts["tree"] = await asyncio.wait_for(fut, 900)
    await ctx.release([fut])
    # 2: wide maps with a failing branch
    maps = c.map(inc, range(4000), key=[("m", i) for i in range(4000)])
    bad = c.submit(boom, maps[0], key="bench-bad")
    after_bad = c.map(add, [bad] * 50, range(50), key=[("after-bad", i) for i in range(50)])
    total = c.submit(add, *maps, key="bench-total")
    ctx.facts["total"] = await asyncio.wait_for(total, 600)
    await ctx.settle([bad, *after_bad], 60)
    await ctx.release([*maps, bad, *after_bad, total])
    # 3: a worker removed while a tree runs
    root2 = _tree(4000, "bench2")
    fut2 = c.compute(root2)
    w2 = ws[2].address
    busy = await ctx.wait_until(
        lambda: (
            not fut2.done()
            and len(ctx.s.workers[w2].has_what) >= 3
            and len(ctx.s.workers[w2].processing) >= 1
        ),
        60,
        "w2 holding results and processing",
    )
    ctx.facts["w2_busy_when_removed"] = busy
    await ctx.remove_worker(ws[2].address, stimulus_id="bench-remove-w2")
    ctx.facts["tree2"] = await asyncio.wait_for(fut2, 900)
    await ctx.release([fut2])
    await ctx.close_worker(ws[2])
    await ctx.wait_forgotten(120)
    ctx.facts["transition_counter"] = getattr(ctx.s, "transition_counter", None)


# --------------------------------------------------------------------------------------
# 12. large-table


@scenario(
    "large-table",
    ">= 150,000 transitions and >= 25,000 tasks still in the task table at dump time: a "
    "reduction tree computed and released, then 20,800 maps, 5,200 sums of four and a "
    "failing branch, all held",
    default_skip=("story", "client_story", "dump_yaml"),
    gzip_log=True,
    timeout=1800.0,
)
async def large_table(ctx: Ctx) -> None:
    c = ctx.c
    for i in range(3):
        await ctx.add_worker(nthreads=2, name=f"w{i}")
    # 1: history: a reduction tree (tuple keys), computed and released
    root = _tree(8000, "lt")
    fut = c.compute(root)
    ctx.facts["tree"] = await asyncio.wait_for(fut, 900)
    await ctx.release([fut])
    # 2: what is still in the task table when the dump is written: maps, sums of four of
    # them, and a failing task with its dependents, every future held
    n = 20800
    maps = c.map(inc, range(n), key=[("lt-map", i) for i in range(n)])
    sums = c.map(add, *[maps[k::4] for k in range(4)], key=[("lt-sum", j) for j in range(n // 4)])
    bad = c.submit(boom, maps[0], key="lt-bad")
    after_bad = c.map(add, [bad] * 20, range(20), key=[("lt-after-bad", i) for i in range(20)])
    await ctx.settle([*maps, *sums, bad, *after_bad], 900)
    ctx.hold(*maps, *sums, bad, *after_bad)
    ctx.facts["tasks_in_table"] = len(ctx.s.tasks)
    ctx.facts["transition_counter"] = getattr(ctx.s, "transition_counter", None)


# The known-bug scenarios register themselves the same way, one module per bug.
from .bugs import load_all  # noqa: E402  (needs ``scenario`` above)

load_all()

__all__ = ["SCENARIOS", "Scenario", "add", "boom", "flaky", "gated", "inc", "sleep_inc"]
