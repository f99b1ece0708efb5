"""dask/distributed PR #6914 (commit dc874a46a, first released in 2022.8.1): a task that
is cancelled while executing and resubmitted with *different* resource restrictions
gives back the new amount, not the one it took.

Worker side. Up to 2022.8.0 ``WorkerState._handle_compute_task`` overwrote
``ts.resource_restrictions`` with the new ``ComputeTaskEvent``'s for a task in any
state it (re)initialises, including ``cancelled`` whose previous state is ``executing``.
``_transition_cancelled_waiting`` then only puts the task back in ``executing`` (the
old run goes on, holding what it acquired: R=1), and when it finishes
``_transition_executing_memory`` -> ``_release_resources`` gives back the *new*
restriction (R=0.4): the worker is left with R=0.4 of 1 available for good, and a later
task needing R=1 that the scheduler sends to it stays ``constrained`` forever (the
cluster deadlocks). From 2022.8.1 the restrictions of a cancelled/resumed task whose
previous state is executing or long-running are kept.

The regression test ``test_resumed_with_different_resources``
(distributed/tests/test_resources.py, a WorkerState test: "manual cancellation from
the client, followed by resubmit"), on a real cluster:

1. one worker ``a`` with one thread and resource R=1; x (key ``x``, R=1) starts and
   blocks on a gate;
2. the client releases x: ``free-keys``, x ``executing -> cancelled`` (R still held);
3. the client submits x again under the same key with R=0.4: ``compute-task x``,
   x ``cancelled -> executing`` (the old run resumes);
4. the gate opens, x finishes: the test asserts ``available_resources == {"R": 1}``
   (2022.8.0: ``{"R": 0.4}``);
5. the consequence on a real cluster: z (R=1) is submitted; the scheduler sends it to a
   (it counts R=1 free there); 2022.8.0 keeps z ``constrained`` forever, 2022.8.1 runs it.

Worker and scheduler validation on, as in dask's tests (per-transition worker validation
does not check resources in these releases). At the end the scenario runs
``WorkerState.validate_state()`` on a (as dask's test teardown does) and records it.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio

from replay.capture.harness import (
    Ctx,
    gate,
    result_or_error,
    validate_worker,
    worker_state,
    worker_task,
    worker_task_state,
)
from replay.capture.scenarios import scenario

GATE = "wbug-6914"


def gated(x: int, name: str) -> int:
    gate(name).pass_through()
    return x


def inc(x: int) -> int:
    return x + 1





@scenario(
    "wbug-6914",
    "PR 6914: x (R=1) executing on a 1-thread worker with R=1 is released, then resubmitted "
    "under the same key with R=0.4; 2022.8.0 gives back 0.4 when the old run ends (R=0.4 "
    "of 1 left) and a later z (R=1) stays constrained forever",
    config={"distributed.worker.validate": True},
    timeout=90.0,
)
async def worker_resumed_resources_6914(ctx: Ctx) -> None:
    c = ctx.c
    g = gate(GATE)
    g.close()

    a = await ctx.add_worker(nthreads=1, resources={"R": 1}, name="a")
    ctx.facts["a"] = a.address

    x = c.submit(gated, 1, GATE, key="x", resources={"R": 1})
    if not await ctx.wait_gate(g):
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["available_while_x_runs"] = dict(worker_state(a).available_resources)

    # the client releases x: free-keys -> x executing -> cancelled on the worker
    x.release()
    del x
    if not await ctx.wait_until(lambda: worker_task_state(a, "x") == "cancelled", 10, "x cancelled on a"):
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["setup_ok"] = True

    # ... and submits it again under the same key, with a different resource restriction
    x2 = c.submit(inc, 1, key="x", resources={"R": 0.4})
    ctx.hold(x2)
    if not await ctx.wait_until(lambda: worker_task_state(a, "x") not in (None, "cancelled"), 10, "x resumed on a"):
        return
    ts = worker_task(a, "x")
    ctx.facts["after_resubmit"] = {
        "state": ts.state,
        "resource_restrictions": dict(ts.resource_restrictions),
        "available_resources": dict(worker_state(a).available_resources),
    }

    g.open()
    ctx.facts["x_result"] = await result_or_error(x2)
    await ctx.wait_until(lambda: worker_task_state(a, "x") == "memory", 10, "x in memory on a")
    ctx.facts["available_after_x"] = dict(worker_state(a).available_resources)

    # the consequence: a task needing all of R
    z = c.submit(inc, 10, key="z", resources={"R": 1})
    ctx.hold(z)
    try:
        ctx.facts["z_result"] = await asyncio.wait_for(z, 5)
    except asyncio.TimeoutError:
        ctx.facts["z_result"] = "timeout"
        ctx.facts["deadlock"] = True
        ctx.note("wbug-6914: z did not complete within 5s: deadlock (capturing as is)")
    except Exception as e:
        ctx.facts["z_result"] = f"{type(e).__name__}: {e}"
    ctx.facts["z_on_a"] = worker_task_state(a, "z")
    ctx.facts["available_at_end"] = dict(worker_state(a).available_resources)
    ctx.facts["validate_state_a"] = validate_worker(a)
