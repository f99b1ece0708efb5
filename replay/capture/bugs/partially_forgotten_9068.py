"""dask/distributed#9068 ("Partially forgotten dependencies", commit 01ea1eb1a,
first fixed in 2025.5.0; last buggy release 2025.4.1).

The regression test ``test_compute_partially_forgotten``: a one-task graph
``{key: Task(key, inc, TaskRef(lost_dep_of_key))}`` is submitted with
``c.get(graph, [key, lost_dep_of_key], sync=False)`` twice, back to back, where the
scheduler's ``keys`` set iterates as ``[key, lost_dep_of_key]``. The dependency is
in neither the graph nor the scheduler.

On 2025.4.1 ``Scheduler._find_lost_dependencies`` walks ``key`` first, finds the
missing dependency, reports both keys cancelled and discards only ``key`` from
``keys``; ``lost_dep_of_key`` (already ``seen``) stays in ``keys``, so
``_create_taskstate_from_graph`` still creates it: a ``released`` task with no
run_spec and no priority that the client wants (the zombie). The second
submission finds the zombie in ``self.tasks`` (no lost dependency any more),
creates ``key`` on top of it and recommends ``key: waiting``; ``key``
``released->waiting`` recommends the zombie ``waiting``. With validate on,
``_transition_released_waiting`` raises at ``assert ts.run_spec``; with validate
off the zombie goes ``released->waiting->processing`` and
``_add_to_processing`` -> ``_task_to_msg`` raises at ``assert ts.priority`` after
the task was already put in ``processing``. Either way the raising transition is
counted but never logged. 2025.5.0 cancels the whole graph and returns from
``update_graph`` as soon as any dependency is lost: nothing is created.

The test's set-order trick (``list({"foo", "bar"})``) depends on the per-process
string hash seed; this scenario uses the int keys ``1`` (key) and ``2``
(lost_dep_of_key) instead, whose set order ``[1, 2]`` is the same in every run.
On a release where the two submissions leave nothing behind (the fixed one) the
scenario then computes ``2`` and ``1`` for real and releases them, so the clean
trace is not empty.
"""

# ruff: noqa: PLC0415  (dask imports stay inside the scenario)

from __future__ import annotations

import asyncio
from typing import Any

from replay.capture.harness import Ctx
from replay.capture.scenarios import scenario

#: ``key`` and ``lost_dep_of_key`` of the regression test; ints hash to themselves,
#: so the scheduler's ``set`` of the two iterates as ``[KEY, LOST]`` in every process
KEY = 1
LOST = 2


def inc9068(x: int) -> int:
    return x + 1


def _update_graph_events(ctx: Ctx) -> list[Any]:
    return [
        msg
        for _, msg in ctx.s.get_events("scheduler")
        if isinstance(msg, dict) and msg.get("action") == "update-graph"
    ]


async def _outcome(fut: Any, timeout: float = 10) -> str:
    try:
        res = await asyncio.wait_for(fut.result(), timeout)
        return f"result {res!r}"
    except asyncio.TimeoutError:
        return f"no result within {timeout}s (status {fut.status})"
    except BaseException as e:  # CancelledError is a BaseException on 3.8+
        return f"{type(e).__name__}: {str(e)[:300]}"


@scenario(
    "bug-9068",
    "PR 9068: {1: Task(1, inc, TaskRef(2))} with keys [1, 2] (2 is lost) submitted twice; "
    "2025.4.1 leaves 2 as a run_spec-less released zombie after the first, the second "
    "recommends it waiting and the transition raises (unlogged)",
    timeout=120.0,
)
async def bug_9068(ctx: Ctx) -> None:
    from dask.task_spec import Task, TaskRef

    c, s = ctx.c, ctx.s
    await ctx.add_gen_cluster_workers(("w0", "w1"))

    keys = [KEY, LOST]
    ctx.facts["keys"] = keys
    ctx.facts["scheduler_set_order"] = list(set(keys))
    task = Task(KEY, inc9068, TaskRef(LOST))

    # both submissions go out back to back, as in the test
    res1 = c.get({task.key: task}, keys, sync=False)
    res2 = c.get({task.key: task}, keys, sync=False)
    ctx.hold(*res1, *res2)

    await ctx.wait_until(
        lambda: len(_update_graph_events(ctx)) >= 2, 20, "two update-graph events"
    )
    ctx.facts["update_graph_status"] = [e.get("status") for e in _update_graph_events(ctx)]
    ctx.facts["second_get_lost_dep_outcome"] = await _outcome(res2[1])
    failed = [
        {k: msg.get(k) for k in ("action", "key", "start", "finish")}
        for _, msg in s.get_events("transitions")
        if isinstance(msg, dict)
    ]
    ctx.facts["transition_failures"] = failed
    ctx.facts["tasks_after_two_submissions"] = {str(k): ts.state for k, ts in s.tasks.items()}
    ctx.facts["counter_after_two_submissions"] = s.transition_counter
    ctx.facts["entries_after_two_submissions"] = len(s.transition_log)

    if failed or s.tasks or s.transition_counter != len(s.transition_log):
        ctx.note(
            f"bug-9068 reproduced: transition failures {failed}, tasks left "
            f"{ctx.facts['tasks_after_two_submissions']}, transition_counter "
            f"{s.transition_counter} vs {len(s.transition_log)} entries; capturing as is"
        )
        ctx.facts["bug_reproduced"] = True
        return
    ctx.facts["bug_reproduced"] = False

    # Clean: nothing was created. Release the cancelled futures (the client keeps
    # their cancelled state under the same keys otherwise), then compute the
    # formerly lost dependency and the task on top of it for real.
    await ctx.release([*res1, *res2])
    ctx.held.clear()
    del res1, res2
    # Future.release drops the client's reference in a loop callback: wait for it,
    # or c.submit would hand back the cancelled future of the same key
    await ctx.wait_until(
        lambda: KEY not in c.futures and LOST not in c.futures, 10, "client forgot the keys"
    )
    dep = c.submit(inc9068, 10, key=LOST)
    ctx.facts["follow_up_dep_result"] = await _outcome(dep, 30)
    res3 = c.get({task.key: task}, [KEY], sync=False)
    ctx.facts["follow_up_result"] = await _outcome(res3[0], 30)
    await ctx.release([dep, *res3])
    await ctx.wait_forgotten(30)
