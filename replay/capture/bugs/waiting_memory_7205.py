"""dask/distributed#7205: a task-finished that lands while the task is ``waiting``.

The regression test ``test_transition_waiting_memory`` (distributed/tests/
test_scheduler.py, commit 02b9430f7, first released in 2022.11.0), reproduced on a
real cluster:

1. x runs on worker a; y (depends on x, pinned to worker b) starts on b, which
   fetches x from a;
2. the instant x lands on b (so b's ``add-keys`` for x is still in b's batched
   stream), both directions of b's batched stream are frozen;
3. the scheduler removes worker a (``remove_a``): x loses its only known replica
   and goes back to released -> waiting -> no-worker (it is pinned to a); y is sent
   back from processing to waiting (its ``free-keys`` to b is held);
4. y completes on b; its ``task-finished`` is held in b's stream;
5. the streams thaw: the scheduler gets ``add-keys x`` (x is not in memory: a
   ``remove-replicas`` goes back), then ``task-finished y`` while y is waiting.

Up to 2022.10.2 ``stimulus_task_finished`` runs ``transition_waiting_memory``, which
clears ``y.waiting_on`` and puts y in memory although its dependency x is not in
memory anywhere (a waiting->memory that skipped its dependencies); the
``release-worker-data y`` that b sends after its ``free-keys`` then sends y back to
waiting. From 2022.11.0 the message is ignored: the log shows ``y waiting->waiting {}``.

y blocks on a gate until a is removed, so that it certainly completes inside the
freeze (the dask test relies on ``inc`` being slower than the remove_worker call).
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from replay.capture.harness import Ctx, gate
from replay.capture.scenarios import scenario

GATE_Y = "bug7205-y"


def inc(x: int) -> int:
    return x + 1


def gated_inc(x: int) -> int:
    """y: block until the scenario opens the gate (after remove_a), then x + 1."""
    gate(GATE_Y).pass_through()
    return x + 1


class _FrozenComm:
    """Stands in for a BatchedSend's comm: writes wait until ``thaw`` (in order)."""

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.event = asyncio.Event()
        #: the ops of the one write held back (later messages wait in the BatchedSend buffer)
        self.held: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.comm, name)

    async def write(self, msg: Any, serializers: Any = None, on_error: str = "message") -> Any:
        try:
            for m in msg if isinstance(msg, (list, tuple)) else [msg]:
                self.held.append((m.get("op"), m.get("key", m.get("keys"))) if isinstance(m, dict) else repr(m))
        except Exception:  # pragma: no cover - bookkeeping only
            pass
        await self.event.wait()
        return await self.comm.write(msg, serializers=serializers, on_error=on_error)


@contextlib.contextmanager
def freeze_batched_send(bcomm: Any) -> Iterator[_FrozenComm]:
    """Hold back every write of a BatchedSend until the block exits (like dask's own)."""
    orig = bcomm.comm
    frozen = _FrozenComm(orig)
    bcomm.comm = frozen
    try:
        yield frozen
    finally:
        frozen.event.set()
        bcomm.comm = orig


def _wstate(w: Any, key: str) -> str | None:
    tasks = getattr(getattr(w, "state", w), "tasks", {})
    ts = tasks.get(key)
    return None if ts is None else ts.state


@scenario(
    "bug-7205",
    "PR 7205: x on a, y(x) on b; as x lands on b both directions of b's stream freeze, a is "
    "removed (remove_a), y completes: 2022.10.2 moves y waiting->memory with x no-worker",
    timeout=90.0,
)
async def waiting_memory_7205(ctx: Ctx) -> None:
    c, s = ctx.c, ctx.s
    gy = gate(GATE_Y)
    gy.close()

    a = await ctx.add_worker(nthreads=1, name="a")
    b = await ctx.add_worker(nthreads=1, name="b")

    x = c.submit(inc, 1, key="x", workers=[a.address])
    y = c.submit(gated_inc, x, key="y", workers=[b.address])
    ctx.hold(x, y)

    # interval=0: x has just landed on b this instant and the scheduler doesn't know yet
    if not await ctx.wait_until(lambda: _wstate(b, "x") == "memory", 30, "x in memory on b", interval=0):
        ctx.facts["setup_ok"] = False
        return

    with freeze_batched_send(b.batched_stream) as b_to_s:
        with freeze_batched_send(s.stream_comms[b.address]) as s_to_b:
            sx, sy = s.tasks["x"], s.tasks["y"]
            ctx.facts["x_who_has_at_freeze"] = sorted(ws.address for ws in sx.who_has)
            ctx.facts["y_on_b_at_freeze"] = _wstate(b, "y")
            setup_ok = {ws.address for ws in sx.who_has} == {a.address} and _wstate(b, "y") in (
                "executing",
                "ready",
            )
            ctx.facts["setup_ok"] = setup_ok
            ctx.facts["a"] = a.address
            ctx.facts["b"] = b.address
            if not setup_ok:
                ctx.note("bug-7205: b's add-keys for x escaped before the freeze (no race)")
            if not await ctx.removed(a.address, "remove_a"):
                return
            ctx.facts["after_remove_a"] = {"x": sx.state, "y": sy.state}
            gy.open()
            if not await ctx.wait_until(lambda: _wstate(b, "y") == "memory", 30, "y in memory on b"):
                return
        ctx.facts["frozen_write_s_to_b"] = s_to_b.held
    ctx.facts["frozen_write_b_to_s"] = b_to_s.held

    await ctx.wait_until(lambda: not getattr(b, "state", b).tasks, 10, "b forgot every task")
    # the scheduler handled every message b sent (release-worker-data comes last)
    await asyncio.sleep(0.2)
    ctx.facts["final"] = {k: ts.state for k, ts in s.tasks.items()}
    ctx.facts["y_story"] = [list(e[:4]) for e in s.story("y")]
