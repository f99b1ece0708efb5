"""dask/distributed PR #6916 (commit b8e67ca24, first released in 2022.9.0): a task that
is cancelled while executing and then calls ``secede()``.

Worker side. Up to 2022.8.1 ``WorkerState._handle_secede`` only acted on a task in
state ``executing``; for a ``cancelled`` (or ``resumed``) task it returned ``{}, []``:
no ``cancelled -> long-running`` transition, the task stayed in ``WorkerState.executing``
(holding a thread slot although its thread had left the pool), and when the client
resubmitted the key the task went ``cancelled -> executing`` (``_transition_cancelled_waiting``,
``ts.state = ts.previous``) and the scheduler never heard that it had seceded: its
occupancy stayed counted on the worker. From 2022.9.0 the secede is a transition
(``_transition_cancelled_or_resumed_long_running``: the task stays cancelled with
``previous = "long-running"``, leaves ``executing`` for ``long_running``), and the
resubmission resumes it as ``long-running`` and sends ``LongRunningMsg(compute_duration=None)``
in arrears.

The regression test ``test_secede_cancelled_or_resumed_scheduler``
(distributed/tests/test_cancelled_state.py), on a real cluster:

1. one worker ``a`` with one thread; x (key ``x``) starts and blocks (gate ``-a``);
2. the client releases x: the worker gets ``free-keys`` and x goes ``executing -> cancelled``;
3. x's thread is let go: it calls ``distributed.secede()`` and blocks again (gate ``-b``);
   the worker handles the ``SecedeEvent`` while x is cancelled;
4. the client submits ``inc(1)`` under the same key x: the worker gets ``compute-task x``
   while the old run is still going (2022.8.1: ``x cancelled -> executing``; 2022.9.0:
   ``x cancelled -> long-running`` plus a ``long-running`` message to the scheduler);
5. the thread is let go and returns 123 (the old run's result): x is in memory.

Worker and scheduler validation on, as in the test. The worker stays alive for the dump.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

from typing import Any

from replay.capture.harness import Ctx, gate, result_or_error, worker_state, worker_task, worker_task_state
from replay.capture.scenarios import scenario

GATE = "wbug-6916"


def seceding(name: str) -> int:
    """x: block on gate ``name-a``, secede, block on gate ``name-b``, return 123."""
    from distributed import secede

    gate(f"{name}-a").pass_through()
    secede()
    gate(f"{name}-b").pass_through()
    return 123


def inc(x: int) -> int:
    return x + 1





def _stimuli(w: Any, cls_name: str) -> list[Any]:
    return [ev for ev in worker_state(w).stimulus_log if type(ev).__name__ == cls_name]


def _processing(ctx: Ctx, w: Any) -> dict[str, float]:
    ws = ctx.s.workers.get(w.address)
    if ws is None:
        return {}
    return {str(ts.key): float(v) for ts, v in ws.processing.items()}


@scenario(
    "wbug-6916",
    "PR 6916: x executing on a 1-thread worker is released (cancelled), then secedes, then "
    "is resubmitted under the same key; 2022.8.1 ignores the secede (x stays in executing, "
    "no long-running message), 2022.9.0 logs x cancelled->long-running",
    config={"distributed.worker.validate": True},
    timeout=90.0,
)
async def worker_secede_cancelled_6916(ctx: Ctx) -> None:
    c = ctx.c
    ga, gb = gate(f"{GATE}-a"), gate(f"{GATE}-b")
    ga.close()
    gb.close()

    a = await ctx.add_worker(nthreads=1, name="a")
    ctx.facts["a"] = a.address

    x = c.submit(seceding, GATE, key="x")
    if not await ctx.wait_gate(ga):
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["x_at_start"] = worker_task_state(a, "x")
    ctx.facts["scheduler_processing_at_start"] = _processing(ctx, a)

    # the client releases x: free-keys -> x executing -> cancelled on the worker
    x.release()
    del x
    if not await ctx.wait_until(lambda: worker_task_state(a, "x") == "cancelled", 10, "x cancelled on a"):
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["setup_ok"] = True
    ctx.facts["scheduler_processing_after_release"] = _processing(ctx, a)

    # x's thread secedes while x is cancelled
    ga.open()
    if not await ctx.wait_gate(gb):
        return
    if not await ctx.wait_until(lambda: bool(_stimuli(a, "SecedeEvent")), 10, "SecedeEvent handled"):
        return
    ts = worker_task(a, "x")
    ctx.facts["after_secede"] = {
        "state": ts.state,
        "previous": getattr(ts, "previous", None),
        "in_executing": ts in worker_state(a).executing,
        "in_long_running": ts in worker_state(a).long_running,
    }

    # the client submits x again (another function, same key): compute-task x on a
    x2 = c.submit(inc, 1, key="x")
    ctx.hold(x2)
    if not await ctx.wait_until(lambda: worker_task_state(a, "x") not in (None, "cancelled"), 10, "x resumed on a"):
        return
    ts = worker_task(a, "x")
    ctx.facts["after_resubmit"] = {
        "state": ts.state,
        "in_executing": ts in worker_state(a).executing,
        "in_long_running": ts in worker_state(a).long_running,
    }
    # the test: the scheduler receives a delayed long-running (x's occupancy drops to 0)
    got = await ctx.wait_until(lambda: _processing(ctx, a).get("x") == 0, 3, "scheduler told x is long-running")
    ctx.facts["scheduler_got_long_running"] = got
    ctx.facts["scheduler_processing_after_resubmit"] = _processing(ctx, a)

    gb.open()
    ctx.facts["x_result"] = await result_or_error(x2)
    await ctx.wait_until(lambda: worker_task_state(a, "x") == "memory", 10, "x in memory on a")
    ctx.facts["scheduler_processing_at_end"] = _processing(ctx, a)
    ctx.facts["worker_log_entries"] = len(worker_state(a).log)
    ctx.facts["worker_stimulus_log_entries"] = len(worker_state(a).stimulus_log)
