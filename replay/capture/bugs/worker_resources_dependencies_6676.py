"""dask/distributed PR #6676 (commit 6765e6e94, first released in 2022.7.1): a task with
resource restrictions *and* dependencies to fetch runs without acquiring its resources.

Worker side. Up to 2022.7.0 ``WorkerState._transition_released_waiting`` recommended
``constrained`` only for a task with nothing to wait for; a task that first waits for
its dependencies is recommended ``ready`` when the last one lands
(``_put_key_in_memory``), and ``_transition_waiting_ready`` pushed it on the ``ready``
heap whatever its resource restrictions. ``_ensure_computing`` takes ready tasks
without ``_acquire_resources``, so the task runs ``waiting -> ready -> executing``
holding nothing, and ``_transition_executing_memory`` (``_release_resources``) then
gives back what it never took: the worker ends with more of the resource than it has
(``available_resources`` R=2 of a total of 1). From 2022.7.1 ``_transition_waiting_ready``
sends such a task to ``constrained`` (``y waiting -> waiting {y: constrained}``,
``waiting -> constrained``, ``constrained -> executing``, which acquires).

The regression test ``test_task_with_dependencies_acquires_resources``
(distributed/tests/test_worker_state_machine.py, a WorkerState test), on a real cluster:

1. worker ``a`` has resource R=1, worker ``b`` none; x runs on b and is in memory;
2. y(x) needs R=1, so it goes to a with ``who_has={x: [b]}``; a fetches x from b;
3. when x lands on a, y starts (it blocks on a gate): the test asserts
   ``available_resources == {"R": 0}`` here (2022.7.0: ``{"R": 1}``);
4. y finishes; a's ``available_resources`` (2022.7.0: ``{"R": 2}``).

Worker and scheduler validation on, as in dask's tests. At the end the scenario runs
``WorkerState.validate_state()`` on a (as dask's test teardown does) and records it.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio

from replay.capture.harness import Ctx, gate, result_or_error, validate_worker, worker_state, worker_task_state
from replay.capture.scenarios import scenario

GATE = "wbug-6676"


def inc(x: int) -> int:
    return x + 1


def gated_inc(x: int, name: str) -> int:
    gate(name).pass_through()
    return x + 1




@scenario(
    "wbug-6676",
    "PR 6676: y(x) needs resource R=1 and fetches x from another worker; 2022.7.0 runs y "
    "waiting->ready->executing without acquiring R (available R=2 of 1 at the end), "
    "2022.7.1 goes through constrained",
    config={"distributed.worker.validate": True},
    timeout=90.0,
)
async def worker_resources_dependencies_6676(ctx: Ctx) -> None:
    c = ctx.c
    g = gate(GATE)
    g.close()

    a = await ctx.add_worker(nthreads=1, resources={"R": 1}, name="a")
    b = await ctx.add_worker(nthreads=1, name="b")
    ctx.facts["a"] = a.address
    ctx.facts["b"] = b.address

    x = c.submit(inc, 1, key="x", workers=[b.address])
    ctx.hold(x)
    try:
        await asyncio.wait_for(x, 10)
    except Exception as e:
        ctx.note(f"x did not complete: {e!r}")
        ctx.facts["setup_ok"] = False
        return

    y = c.submit(gated_inc, x, GATE, key="y", resources={"R": 1})
    ctx.hold(y)
    if not await ctx.wait_gate(g):
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["setup_ok"] = worker_task_state(a, "y") == "executing" and worker_task_state(b, "y") is None
    ctx.facts["available_resources_while_y_runs"] = dict(worker_state(a).available_resources)
    ctx.facts["total_resources"] = dict(worker_state(a).total_resources)

    g.open()
    ctx.facts["y_result"] = await result_or_error(y)
    await ctx.wait_until(lambda: worker_task_state(a, "y") == "memory", 10, "y in memory on a")
    ctx.facts["available_resources_after_y"] = dict(worker_state(a).available_resources)

    ctx.facts["validate_state_a"] = validate_worker(a)
