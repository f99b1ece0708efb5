"""dask/distributed PR #6673 (commit 1a28011ba, first released in 2022.7.0): a seceded
(long-running) task that is cancelled and then resubmitted crashes the worker.

Worker side. Up to 2022.6.1 ``WorkerState._transition_cancelled_waiting`` resumed a
cancelled task only if its previous state was ``executing``; for any other previous
state it asserted ``ts._previous == "flight"``. A task that called ``secede()`` is
``long-running``; the client releases it (``free-keys``: ``long-running -> cancelled``,
previous ``long-running``) and submits the same key again: the worker's
``compute-task`` recommends ``waiting`` and ``cancelled -> waiting`` raises
``AssertionError`` (a plain ``assert``, raised with or without validation). In a real
worker that exception goes through ``Worker.handle_stimulus`` (``@fail_hard``): the
worker closes and is gone from the cluster. From 2022.7.0 the task goes back to
``long-running`` (``x cancelled -> waiting`` lands in ``long-running``).

The regression test ``test_resume_executing_worker_state`` (long-running variant,
distributed/tests/test_cancelled_state.py, a WorkerState test), on a real cluster:

1. one worker ``a`` with one thread; x (key ``x``) calls ``secede()`` and blocks on a
   gate: x is ``long-running``;
2. the client releases x: ``free-keys``, x ``long-running -> cancelled``;
3. the client submits ``inc(1)`` under the same key: the scheduler sends
   ``compute-task x`` to a. 2022.6.1 raises ``AssertionError`` in
   ``_transition_cancelled_waiting``; 2022.7.0 resumes x as ``long-running``, and x
   (the old run) completes with 123 when the gate opens.

So that the crashing worker is still in the cluster dump, from step 3 on a's
``handle_stimulus`` is guarded: the scheduler's real ``compute-task`` message is built
into the same ``ComputeTaskEvent`` and handled by ``BaseWorker.handle_stimulus`` (the
``WorkerState`` and the instructions, as ``Worker.handle_stimulus`` does) but an
exception is recorded (and logged as a worker event, like ``Worker.handle_stimulus``)
instead of going on to ``@fail_hard``, which would close the worker. Nothing else
changes; on 2022.7.0 nothing raises and the guard is invisible. After the raise the
scenario stops stimulating (the gate stays shut until the artefacts are written).
Worker and scheduler validation on, as in dask's tests.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from replay.capture.harness import Ctx, gate, result_or_error, worker_state, worker_task, worker_task_state
from replay.capture.scenarios import scenario

GATE = "wbug-6673"


def seceding(name: str) -> int:
    """x: secede at once, then block on gate ``name``; return 123."""
    from distributed import secede

    secede()
    gate(name).pass_through()
    return 123


def inc(x: int) -> int:
    return x + 1





def _previous(ts: Any) -> Any:
    return getattr(ts, "previous", getattr(ts, "_previous", None))


@contextlib.contextmanager
def guarded_handle_stimulus(w: Any, raised: list[str]) -> Iterator[None]:
    """Route ``w.handle_stimulus`` to ``BaseWorker.handle_stimulus``; record a raise
    instead of letting ``@fail_hard`` close the worker."""
    from distributed.worker_state_machine import BaseWorker

    def guarded(*stims: Any) -> None:
        try:
            BaseWorker.handle_stimulus(w, *stims)
        except Exception as e:
            if hasattr(e, "to_event"):
                with contextlib.suppress(Exception):
                    topic, msg = e.to_event()
                    w.log_event(topic, msg)
            raised.append(
                f"{type(e).__name__}: {str(e)[:300]} "
                f"(stimuli {[type(s).__name__ + ' ' + str(s.stimulus_id) for s in stims]})"
            )

    w.handle_stimulus = guarded
    try:
        yield
    finally:
        with contextlib.suppress(AttributeError):
            del w.handle_stimulus


@scenario(
    "wbug-6673",
    "PR 6673: x seceded (long-running) on a 1-thread worker, is released (cancelled) and "
    "resubmitted under the same key; 2022.6.1 raises AssertionError in "
    "_transition_cancelled_waiting at the compute-task, 2022.7.0 resumes x long-running",
    config={"distributed.worker.validate": True},
    timeout=90.0,
)
async def worker_resume_long_running_6673(ctx: Ctx) -> None:
    c = ctx.c
    g = gate(GATE)
    g.close()

    a = await ctx.add_worker(nthreads=1, name="a")
    ctx.facts["a"] = a.address

    x = c.submit(seceding, GATE, key="x", pure=False)
    if not await ctx.wait_gate(g):
        ctx.facts["setup_ok"] = False
        return
    if not await ctx.wait_until(lambda: worker_task_state(a, "x") == "long-running", 10, "x long-running"):
        ctx.facts["setup_ok"] = False
        return

    # the client releases x: free-keys -> x long-running -> cancelled on the worker
    x.release()
    del x
    if not await ctx.wait_until(lambda: worker_task_state(a, "x") == "cancelled", 10, "x cancelled on a"):
        ctx.facts["setup_ok"] = False
        return
    ctx.facts["setup_ok"] = True
    ts = worker_task(a, "x")
    ctx.facts["after_release"] = {"state": ts.state, "previous": _previous(ts)}

    raised: list[str] = []
    with guarded_handle_stimulus(a, raised):
        x2 = c.submit(inc, 1, key="x")
        ctx.hold(x2)
        n0 = len(worker_state(a).stimulus_log)
        ok = await ctx.wait_until(lambda: len(worker_state(a).stimulus_log) > n0, 10, "compute-task x handled on a")
    ctx.facts["raised"] = raised
    ts = worker_task(a, "x")
    ctx.facts["after_resubmit"] = {
        "state": None if ts is None else ts.state,
        "previous": None if ts is None else _previous(ts),
    }
    if not ok:
        return
    if raised:
        ctx.note(f"wbug-6673: compute-task x raised on worker a: {raised[0]}")
        ctx.facts["failed_stimulus"] = "compute-task x"
        return

    g.open()
    ctx.facts["x_result"] = await result_or_error(x2)
    await ctx.wait_until(lambda: worker_task_state(a, "x") == "memory", 10, "x in memory on a")
