"""dask/distributed#9067 ("Ensure actors set erred state properly in case of worker
failure", commit beb511bbd, first fixed in 2025.5.0; last buggy release 2025.4.1).

The regression test ``test_actor_worker_host_leaves_gracefully``: an actor ``counter``
lives on worker b; a task ``fut`` that takes the actor runs on worker a and blocks;
b leaves. The test expects ``fut`` to fail with "Worker holding Actor was lost".

On 2025.4.1 ``remove_worker`` removes b's replica of each task b holds and recommends
a task only when no holder is left. To run ``fut``, worker a fetched ``counter`` (an
Actor handle) and reported it, so ``counter`` is still held by a: it gets no
recommendation, and the removal logs no entry. ``counter`` stays in memory with no
worker of its ``who_has`` running the actor (``validate_task_state`` asserts exactly
one), and ``fut`` finishes with the lost actor instead of erring. Only a dump shows
it: the task table (``actor``, ``who_has``) and the workers table (``actors``).
2025.5.0 recommends a task in the leaving worker's ``actors`` ``erred`` whatever other
holder it has (``memory->erred`` is new), and ``fut`` errs in the same cascade.
"""

# ruff: noqa: PLC0415  (dask imports stay inside the scenario)

from __future__ import annotations

from typing import Any

from replay.capture.harness import Ctx, gate, result_or_error
from replay.capture.scenarios import Counter, scenario

#: blocks the task that holds the actor until its worker has left
HOLDING = gate("actor-9067-holding")


def use_actor_9067(counter: Any) -> None:
    HOLDING.pass_through()


@scenario(
    "bug-9067",
    "PR 9067: an actor's worker leaves while a task holding the actor runs elsewhere; "
    "2025.4.1 recommends nothing for the actor (a still holds a handle), which stays in "
    "memory with no worker running it, and the task finishes instead of erring",
    timeout=120.0,
)
async def bug_9067(ctx: Ctx) -> None:
    c, s = ctx.c, ctx.s
    a = await ctx.add_worker(nthreads=1, name="a")
    b = await ctx.add_worker(nthreads=1, name="b")

    counter = c.submit(Counter, actor=True, workers=[b.address], allow_other_workers=True, key="counter")
    await counter
    fut = c.submit(use_actor_9067, counter, workers=[a.address], allow_other_workers=True, key="fut")
    ctx.hold(counter, fut)
    await ctx.wait_gate(HOLDING)

    await ctx.close_worker(b)
    await ctx.wait_until(lambda: b.address not in s.workers, 30, "worker b removed")
    ctx.facts["states_after_b_left"] = {str(k): ts.state for k, ts in s.tasks.items()}
    ctx.facts["actors_after_b_left"] = {
        address: sorted(str(ts.key) for ts in ws.actors) for address, ws in s.workers.items()
    }
    ctx.facts["counter_holders_after_b_left"] = sorted(ws.address for ws in s.tasks["counter"].who_has or ())
    ctx.facts["counter_after_b_left"] = s.transition_counter
    ctx.facts["entries_after_b_left"] = len(s.transition_log)
    ctx.facts["transition_failures"] = [
        {name: msg.get(name) for name in ("action", "key", "start", "finish")}
        for _, msg in s.get_events("transitions")
        if isinstance(msg, dict)
    ]
    HOLDING.open()
    outcome = await result_or_error(fut, 30)
    ctx.facts["fut_outcome"] = outcome if isinstance(outcome, str) else repr(outcome)
    ctx.facts["final_states"] = {str(k): ts.state for k, ts in s.tasks.items()}
    ctx.facts["bug_reproduced"] = ctx.facts["fut_outcome"] == "None"
