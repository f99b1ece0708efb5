"""dask/distributed#8703 ("Fix deadlock", commit 03035dafb, first fixed in 2024.6.1).

The regression test ``test_deadlock_dependency_of_queued_released``: one worker
with one thread, queuing on; a dependency ``dep`` and ``2 * nthreads + 1`` root-ish
tasks ``('rootish', i)`` that depend on it and block. Once one of them runs and
another is queued, the worker is removed: ``dep`` (in memory only there) goes
``memory->released``. On 2024.6.0 ``_transition_memory_released`` recommends
``waiting`` to its waiters in ``no-worker`` / ``processing`` but not to the
``queued`` one, which stays queued on a dependency that is no longer in memory;
2024.6.1 adds ``"queued"`` to that tuple. A new worker then joins.
"""

# ruff: noqa: PLC0415  (dask imports stay inside the scenario)

from __future__ import annotations

import asyncio
from typing import Any

from replay.capture.harness import Ctx, gate
from replay.capture.scenarios import scenario

BLOCK = "bug8703-block"


def inc8703(x: int) -> int:
    return x + 1


def block_on_event(x: Any, name: str) -> Any:
    """``executing.set(); block.wait(); return input`` of the regression test."""
    gate(name).pass_through()
    return x


def _validate_state(ctx: Ctx, when: str) -> bool:
    """``s.validate_state()`` as the regression test calls it; note a failure."""
    try:
        ctx.s.validate_state()
    except Exception as e:
        ctx.note(f"validate_state() {when} raised {type(e).__name__}: {e!r:.400}")
        ctx.facts.setdefault("validate_state_failed", []).append(when)
        return False
    ctx.facts.setdefault("validate_state_ok", []).append(when)
    return True


@scenario(
    "bug-8703",
    "PR 8703: 1x1-thread worker, queuing on; dep + 3 root-ish ('rootish', i) on it, one "
    "runs, one queued; remove_worker: 2024.6.0 leaves the queued one queued on a "
    "released dep (no 'waiting' rec); a new worker joins and it deadlocks",
    saturation="1.1",
    timeout=120.0,
)
async def bug_8703(ctx: Ctx) -> None:
    import dask
    from dask import delayed

    c, s = ctx.c, ctx.s
    block = gate(BLOCK)

    a = await ctx.add_worker(nthreads=1, name="a")

    dep = delayed(inc8703)(0, dask_key_name="dep")
    n = s.total_nthreads * 2 + 1
    tasks = []
    for i in range(n):
        # dask.order breaks the tie between these identical siblings by hash order,
        # which varies per process (str hash randomisation): explicit priorities make
        # ('rootish', 0), ('rootish', 1) run and ('rootish', n - 1) the queued one
        with dask.annotate(priority=n - i):
            tasks.append(delayed(block_on_event)(dep, BLOCK, dask_key_name=("rootish", i)))
    del dep
    futs = c.compute(tasks)
    ctx.hold(*futs)
    keys = [ctx.scheduler_key(f.key) for f in futs]

    # await executing.wait(); assert s.queued -- and wait for the whole (deterministic)
    # layout: dep in memory, two root-ish processing on a (2 slots), the last queued
    ok = await ctx.wait_gate(block, 30)
    ok = ok and await ctx.wait_until(
        lambda: s.tasks["dep"].state == "memory" and len(s.workers[a.address].processing) == 2 and len(s.queued) == 1,
        30,
        "dep in memory, 2 root-ish processing, 1 queued",
    )
    ctx.facts["layout_before_remove"] = {str(k): s.tasks[k].state for k in ["dep", *keys]}
    if not ok:
        ctx.note("bug-8703: setup did not reach the expected state")
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["setup_ok"] = True

    if not await ctx.removed(a.address, "test"):
        return
    ctx.facts["layout_after_remove"] = {str(k): s.tasks[k].state for k in ["dep", *keys] if k in s.tasks}
    ctx.facts["queued_after_remove"] = [str(ts.key) for ts in s.queued]

    # the regression test fails here on 2024.6.0; validate_state() only checks, it
    # changes nothing, so the scenario goes on (the scheduler's own validate asserts
    # fire at the next stimulus, when worker b joins)
    _validate_state(ctx, "after remove_worker")

    # await block.set(); await executing.clear()
    block.open()
    await ctx.close_worker(a)

    # async with Worker(s.address) as b (nthreads fixed at 1 for a deterministic log)
    counter = s.transition_counter
    try:
        await ctx.add_worker(nthreads=1, name="b")
    except Exception as e:
        ctx.note(f"adding worker b raised {type(e).__name__}: {e!r:.300}")
        ctx.facts["failed_stimulus"] = "add worker b"
        return
    # the queue moves when b's status turns running (worker-status-change)
    await ctx.wait_until(lambda: s.transition_counter > counter, 10, "the scheduler to react to worker b")
    await asyncio.sleep(0.2)
    _validate_state(ctx, "after worker b joined")
    try:
        results = await asyncio.wait_for(c.gather(futs), 10)
        ctx.facts["gathered"] = [str(r) for r in results]
    except asyncio.TimeoutError:
        ctx.facts["deadlock"] = True
        ctx.facts["states_at_deadlock"] = {str(k): s.tasks[k].state for k in ["dep", *keys] if k in s.tasks}
        ctx.note("bug-8703: gather did not complete within 10s: deadlock (capturing as is)")
        return
    except Exception as e:
        ctx.note(f"bug-8703: gather raised {type(e).__name__}: {e!r:.300}")
        ctx.facts["gather_error"] = repr(e)[:300]
        return
    _validate_state(ctx, "after gather")
    # the fixed release completes: release everything so the log ends clean
    await ctx.release(futs)
