"""dask/distributed#7348 (issue #7200; commit 7c414cfb0, first in 2022.12.0).

"Fix a deadlock when queued tasks are resubmitted quickly in succession". The
regression test ``test_deadlock_resubmit_queued_tasks_fast`` (rootish=True variant),
reproduced as it is: one worker with one thread, queuing on (worker-saturation 1.1).

1. ``fut-0..fut-2`` (2 * nthreads + 1 tasks: root-ish) are submitted; fut-0 blocks on
   the worker's only thread (gate ``bug-7348-block``), fut-1 is sent there too, fut-2
   is queued.
2. Five more root-ish tasks ``block2-0..4`` (gate ``bug-7348-block2``) keep the worker
   saturated.
3. The scheduler->worker batched stream is held back (``freeze_batched_send``), the
   client releases fut-0..2 (the scheduler forgets them: its ``free-keys`` cannot reach
   the worker) and resubmits the same keys, which are now all queued.
4. The gate opens: the worker finishes the old fut-0 (and fut-1), and its
   ``task-finished`` reaches the scheduler while the key is queued. 2022.11.1's
   ``stimulus_task_finished`` only ignores a released key, so it asks for
   ``queued -> memory``; 2022.12.0 ignores a queued key too and sends ``free-keys``.
5. After 0.2 s the stream is let go, block2 opens, and the test gathers everything.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

from replay.capture.harness import Ctx, gate
from replay.capture.scenarios import scenario

# --------------------------------------------------------------------------------------
# task functions (module level: the in-process workers import this module)


def block_on_gate(i: int, name: str) -> None:
    """The test's ``block_on_event``: mark "executing", then wait for the gate."""
    gate(name).pass_through()


# --------------------------------------------------------------------------------------
# holding back a BatchedSend (distributed.utils_test.freeze_batched_send, without pytest)


class _FrozenComm:
    """Stands in for a BatchedSend's comm: every write waits until the event is set."""

    def __init__(self, comm: Any, event: asyncio.Event) -> None:
        self.comm = comm
        self.event = event
        self.held_writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.comm, name)

    async def write(self, msg: Any, serializers: Any = None, on_error: str = "message") -> Any:
        self.held_writes += 1
        await self.event.wait()
        return await self.comm.write(msg, serializers=serializers, on_error=on_error)

    async def close(self) -> None:
        await self.comm.close()


@contextlib.contextmanager
def freeze_batched_send(bcomm: Any) -> Iterator[_FrozenComm]:
    """Block writes of ``bcomm`` (a BatchedSend) until the block exits."""
    assert not bcomm.closed()
    assert bcomm.comm is not None and not bcomm.comm.closed()
    orig = bcomm.comm
    event = asyncio.Event()
    frozen = _FrozenComm(orig, event)
    bcomm.comm = frozen
    try:
        yield frozen
    finally:
        event.set()
        bcomm.comm = orig


# --------------------------------------------------------------------------------------


@scenario(
    "bug-7348",
    "PR 7348 / issue 7200 regression test (rootish): 1 worker x 1 thread, queuing on; "
    "fut-0..2 released and resubmitted while the scheduler->worker stream is held back; "
    "the old fut-0's task-finished arrives while fut-0 is queued",
    saturation="1.1",
    timeout=120.0,
)
async def bug_7348(ctx: Ctx) -> None:
    c, s = ctx.c, ctx.s
    gblock = gate("bug-7348-block")
    gblock2 = gate("bug-7348-block2")

    a = await ctx.add_worker(nthreads=1, name="a")
    ntasks = s.total_nthreads * 2 + 1
    keys = [f"fut-{i}" for i in range(ntasks)]
    nblocking = 5
    keys2 = [f"block2-{i}" for i in range(nblocking)]

    def submit_tasks() -> list[Any]:
        return c.map(block_on_gate, range(ntasks), name="bug-7348-block", key=keys)

    f1 = submit_tasks()
    # keeps the worker saturated once f1 is released, so that the resubmission queues
    fut2 = c.map(block_on_gate, range(nblocking), name="bug-7348-block2", key=keys2)
    ctx.hold(*fut2)

    # fut-0 is on the worker's thread
    if not await ctx.wait_gate(gblock):
        ctx.facts["setup_ok"] = False
        ctx.hold(*f1)
        return
    sk = [ctx.scheduler_key(k) for k in keys]
    ctx.facts["worker_tasks_before_release"] = sorted(str(k) for k in _worker_tasks(a))
    ctx.facts["states_before_release"] = {str(k): s.tasks[k].state for k in sk if k in s.tasks}

    fut3: list[Any] = []
    # record (without changing anything) each task-finished and the key's state on arrival
    finished: list[list[str]] = []
    orig_handler = s.stream_handlers["task-finished"]

    def recording_handler(**msg: Any) -> Any:
        ts = s.tasks.get(msg.get("key"))
        finished.append([str(msg.get("key")), ts.state if ts is not None else "forgotten"])
        return orig_handler(**msg)

    s.stream_handlers["task-finished"] = recording_handler
    try:
        # the helper drops the last reference to f1 (the client then releases fut-0..2)
        f1_box = [f1]
        del f1
        await _resubmit_while_frozen(ctx, a, f1_box, submit_tasks, sk, nblocking, gblock, fut3)
    finally:
        s.stream_handlers["task-finished"] = orig_handler
        ctx.facts["task_finished_during_freeze"] = finished
    if not ctx.facts.get("setup_ok"):
        return
    gblock2.open()
    try:
        await asyncio.wait_for(c.gather(fut2), 10)
        await asyncio.wait_for(c.gather(fut3), 10)
        ctx.facts["completed"] = True
    except asyncio.TimeoutError:
        ctx.facts["completed"] = False
        ctx.facts["deadlock"] = True
        ctx.facts["states_at_timeout"] = {str(k): ts.state for k, ts in s.tasks.items()}
        ctx.facts["workers_at_timeout"] = list(s.workers)
        ctx.note("bug-7348: fut2/fut3 did not complete within 10s: deadlock (capturing as is)")
        return
    except Exception as e:
        ctx.facts["completed"] = False
        ctx.note(f"bug-7348: gather raised {type(e).__name__}: {e!r:.300}")
        return
    # the fixed release completes: release everything so the log ends clean
    await ctx.release([*fut2, *fut3])
    await ctx.wait_forgotten(30)


async def _resubmit_while_frozen(
    ctx: Ctx,
    a: Any,
    f1_box: list[list[Any]],
    submit_tasks: Any,
    sk: list[Any],
    nblocking: int,
    gblock: Any,
    fut3: list[Any],
) -> None:
    """Step 3-4: hold back scheduler->worker, release f1, resubmit, let fut-0 finish."""
    s = ctx.s
    with freeze_batched_send(s.stream_comms[a.address]) as frozen:
        f1_box.clear()  # the test's ``del f1``
        if not await ctx.wait_until(lambda: not any(k in s.tasks for k in sk), 10, "fut-* forgotten"):
            ctx.facts["setup_ok"] = False
            return
        ctx.facts["ntasks_after_release"] = len(s.tasks)
        fut3.extend(submit_tasks())
        ctx.hold(*fut3)
        if not await ctx.wait_until(
            lambda: len(s.tasks) > nblocking and all(k in s.tasks for k in sk),
            10,
            "fut-* resubmitted",
        ):
            ctx.facts["setup_ok"] = False
            return
        ctx.facts["rootish"] = {str(k): bool(s.is_rootish(s.tasks[k])) for k in sk}
        ctx.facts["queued_after_resubmit"] = {str(k): s.tasks[k] in s.queued for k in sk}
        ctx.facts["setup_ok"] = all(ctx.facts["queued_after_resubmit"].values())
        counter_before = getattr(s, "transition_counter", None)
        entries_before = len(s.transition_log)
        gblock.open()
        # the test sleeps 0.2s for the task-finished message to arrive
        await asyncio.sleep(0.2)
        ctx.facts["held_writes"] = frozen.held_writes
        ctx.facts["entries_before_finish"] = entries_before
        ctx.facts["counter_before_finish"] = counter_before
        ctx.facts["states_after_finish"] = {str(k): s.tasks[k].state if k in s.tasks else "forgotten" for k in sk}
        ctx.facts["worker_still_connected"] = a.address in s.workers


def _worker_tasks(w: Any) -> list[Any]:
    state = getattr(w, "state", None)
    tasks = getattr(state, "tasks", None)
    if tasks is None:
        tasks = getattr(w, "tasks", {})
    return list(tasks)
