"""dask/distributed#8764 ("Raise an error if compute on persisted collection with released
futures", commit ea46f7245, first fixed in 2024.7.1; last buggy release 2024.7.0).

The regression test ``test_release_persisted_collection_sync``: a one-chunk dask array is
persisted, its futures are released, and once the scheduler has forgotten the chunk the
array is computed again with ``arr.compute()``, which sends the persisted graph
``{chunk: Future(chunk)}`` with ``keys={chunk}`` through ``Client.get``. The test expects
``CancelledError``.

On 2024.7.0 ``_match_graph_with_tasks`` looks for lost keys only while ``len(dsk)``
changes, starting from ``n = 0``: with nothing left of the graph but the future itself,
the loop never runs, nothing is found lost, and ``_generate_taskstates`` creates the chunk
again with ``new_task(key, None, "released")``: a task without run_spec that the client
wants, which is never runnable, gets no recommendation and logs no entry. The client
waits for ever. 2024.7.1 starts from ``n = -1`` and also counts a requested key that is
in neither the graph nor the scheduler as lost: the chunk is reported cancelled.
"""

# ruff: noqa: PLC0415  (dask imports stay inside the scenario)

from __future__ import annotations

from replay.capture.harness import Ctx, result_or_error
from replay.capture.scenarios import scenario


@scenario(
    "bug-8764",
    "PR 8764: a persisted one-chunk array whose future was released is computed again; "
    "2024.7.0 creates the forgotten chunk again as a released task without run_spec that "
    "the client wants (no entry) and the computation hangs",
    timeout=120.0,
)
async def bug_8764(ctx: Ctx) -> None:
    import dask.array as da
    from dask.base import collections_to_dsk
    from distributed import futures_of, wait

    c, s = ctx.c, ctx.s
    await ctx.add_gen_cluster_workers()

    arr = c.persist(da.random.random((10,), chunks=(10,)))
    await wait(arr)
    chunk = futures_of(arr)[0].key
    ctx.facts["chunk"] = str(chunk)
    for future in futures_of(arr):
        future.release()
    await ctx.wait_forgotten(30)

    # what arr.compute() sends: the optimised persisted graph, through Client.get
    graph = collections_to_dsk([arr], True)
    computed = c.get(graph, arr.__dask_keys__(), sync=False)
    ctx.hold(computed)
    outcome = await result_or_error(computed[0], 10)
    ctx.facts["compute_outcome"] = outcome if isinstance(outcome, str) else f"result of {type(outcome).__name__}"
    task = s.tasks.get(chunk)
    ctx.facts["chunk_after_compute"] = None if task is None else {
        "state": task.state,
        "run_spec": task.run_spec is not None,
        "who_wants": sorted(str(client) for client in task.who_wants or ()),
    }
    ctx.facts["bug_reproduced"] = task is not None and task.state == "released"
