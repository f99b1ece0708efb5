"""dask/distributed#7396 (fixed by PR #7402 in 2022.12.1): queuing leaks released tasks.

Up to 2022.12.0 a task leaving ``processing`` (``_exit_processing_common``) picked
the next queued tasks for the freed worker slots *inside the transition* and
recommended them ``processing``. When a client releases a whole batch at once
(``client.close()`` → ``remove_client`` → one ``client_releases_keys``), the
queued tasks already have a pending ``forgotten`` recommendation; the
``processing`` recommendation made by the processing task's own release replaces
it (``recommendations.update``), so queued tasks that nobody wants go
``queued->processing``, run, come back ``processing->memory->released`` and stay in
the scheduler forever. The fix (2022.12.1) selects queued tasks in the stimulus,
after every other transition (``stimulus_queue_slots_maybe_opened``).

Regression test: ``test_forget_tasks_while_processing`` (10 blocked tasks on one
1-thread worker, ``await c.close()``, ``assert not s.tasks``).
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio
from typing import Any

from replay.capture.harness import Ctx, gate
from replay.capture.scenarios import scenario

NTASKS = 10
GATE = "bug-7402"


def blocked(i: int, name: str) -> int:
    """Run on the worker: block until the scenario opens gate ``name``."""
    gate(name).pass_through()
    return i


def _wstate(w: Any) -> Any:
    """The worker's state machine (``Worker.state`` since 2022.6.1)."""
    return getattr(w, "state", w)


@scenario(
    "bug-7402",
    "issue 7396 / PR 7402: 10 rootish tasks on one 1-thread worker (2 processing, 8 queued); "
    "a second client releases them all in one client_releases_keys (processing keys last, "
    "so popped first); 2022.12.0 overrides the queue head's 'forgotten' with 'processing': "
    "2 leaked tasks run and stay in the scheduler as released",
    timeout=120.0,
)
async def bug_7402(ctx: Ctx) -> None:
    from distributed import Client

    s = ctx.s
    g = gate(GATE)
    w = await ctx.add_worker(nthreads=1, name="w0")

    # the client that owns the futures (the regression test closes it)
    c2 = await asyncio.wait_for(Client(s.address, asynchronous=True, name="c2"), 60)
    try:
        keys = [f"leak-{i}" for i in range(NTASKS)]
        futs = c2.map(blocked, range(NTASKS), name=GATE, key=keys)
        ctx.hold(*futs)
        skeys = [ctx.scheduler_key(k) for k in keys]

        def states() -> dict[str, str]:
            return {k: s.tasks[k].state for k in skeys if k in s.tasks}

        ok = await ctx.wait_gate(g) and await ctx.wait_until(
            lambda: (
                len(s.tasks) == NTASKS
                and sum(st == "processing" for st in states().values()) >= 1
                and sum(st == "queued" for st in states().values()) >= 1
                and sum(st in ("processing", "queued") for st in states().values()) == NTASKS
            ),
            20,
            "tasks processing and queued",
        )
        ctx.facts["states_before_release"] = states()
        if not ok:
            ctx.note("bug-7402: setup did not reach the expected state")
            ctx.facts["setup_ok"] = False
            return
        ctx.facts["setup_ok"] = True

        def prio(k: str) -> Any:
            return s.tasks[k].priority

        processing = sorted((k for k in skeys if s.tasks[k].state == "processing"), key=prio)
        queued = sorted((k for k in skeys if s.tasks[k].state == "queued"), key=prio)
        # remove_client releases cs.wants_what (a set: order depends on the hash
        # seed). Release the same keys in ONE stimulus, in a fixed order: queued
        # keys first, processing keys last. Recommendations are popped LIFO, so the
        # processing tasks leave processing while the queued tasks still have their
        # pending 'forgotten' recommendation.
        order = queued + processing
        ctx.facts["release_order"] = order
        ctx.facts["queued_in_priority_order"] = queued
        ctx.facts["processing_before_release"] = processing
        try:
            s.client_releases_keys(keys=order, client=c2.id, stimulus_id="release-all")
        except Exception as e:
            ctx.note(f"release-all raised {type(e).__name__}: {e!r:.300}")
            ctx.facts["failed_stimulus"] = "release-all"
            return
        ctx.facts["states_after_release"] = {str(k): ts.state for k, ts in s.tasks.items()}
        leaked = [k for k, ts in s.tasks.items() if ts.state == "processing"]
        ctx.facts["leaked_processing"] = leaked

        # let the worker see free-keys (and any compute-task) before the gate opens,
        # so the cancelled task finishes as cancelled (no stray task-finished)
        ws = _wstate(w)
        first = processing[0]
        await ctx.wait_until(
            lambda: first not in ws.tasks or ws.tasks[first].state in ("cancelled", "released"),
            10,
            f"{first} cancelled on the worker",
        )
        await ctx.wait_until(lambda: all(k in ws.tasks for k in leaked), 10, "leaked tasks on the worker")
        g.open()
        # the leaked tasks run and come back: processing->memory->released
        await ctx.wait_until(
            lambda: not any(ts.state == "processing" for ts in s.tasks.values()),
            20,
            "no task processing",
        )
        await asyncio.sleep(0.2)
        left = {str(k): ts.state for k, ts in s.tasks.items()}
        ctx.facts["tasks_left_at_end"] = left
        ctx.facts["who_wants_left"] = {
            str(k): sorted(cs.client_key for cs in (ts.who_wants or ())) for k, ts in s.tasks.items()
        }
        ctx.facts["leaked"] = bool(left)
        if left:
            ctx.note(f"bug-7402: tasks nobody wants left in the scheduler: {left}")
    finally:
        # the client's close releases nothing more (its wants_what is empty)
        try:
            await asyncio.wait_for(c2.close(), 20)
        except Exception as e:  # pragma: no cover - best effort
            ctx.note(f"closing c2 failed: {e!r}")
        await asyncio.sleep(0.1)
        ctx.facts["tasks_left_after_client_close"] = {str(k): ts.state for k, ts in s.tasks.items()}
