"""dask/distributed#7354 (commit 7b1e26dc7, first in 2022.12.0): erred deps in released->waiting.

The PR, "Impossible use case of erred deps in transition to waiting", removed from
``transition_released_waiting`` the branch that, after ``ts.state = "waiting"``,
found a dependency with ``exception_blame`` and returned ``{key: "erred"}`` (a task
briefly ``waiting`` under an erred dependency), and made validate assert instead
that no dependency is ``erred``. Its regression test, ``test_submit_dependency_of_erred_task``
(2 workers, 1 and 2 threads), is reproduced here as it is:

    x = submit(1 / 0, key="x"); wait(x); y = submit(inc, x, key="y"); y must raise

Both futures are released at the end so that the log ends with everything forgotten.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import asyncio

from replay.capture.harness import Ctx
from replay.capture.scenarios import scenario

# --------------------------------------------------------------------------------------
# task functions (module level: the in-process workers import this module)


def div_zero() -> float:
    """The test's ``lambda: 1 / 0``."""
    return 1 / 0


def inc(x: int) -> int:
    return x + 1


# --------------------------------------------------------------------------------------


@scenario(
    "bug-7354",
    "PR 7354 regression test test_submit_dependency_of_erred_task: x=1/0 errs, then "
    "y=inc(x) is submitted and must err (2 workers, 1 and 2 threads)",
    timeout=120.0,
)
async def bug_7354(ctx: Ctx) -> None:
    from distributed import wait

    c = ctx.c
    await ctx.add_gen_cluster_workers()

    x = c.submit(div_zero, key="x")
    try:
        await asyncio.wait_for(wait(x), 30)
    except asyncio.TimeoutError:
        ctx.note("bug-7354: x did not finish within 30s")
        ctx.hold(x)
        return
    ctx.facts["x_status"] = x.status
    ctx.facts["x_state"] = ctx.s.tasks[ctx.scheduler_key("x")].state

    y = c.submit(inc, x, key="y")
    try:
        await asyncio.wait_for(y, 30)
        ctx.facts["y_raised"] = None
        ctx.note("bug-7354: y did not raise")
    except asyncio.TimeoutError:
        ctx.facts["y_raised"] = "timeout"
        ctx.facts["deadlock"] = True
        ctx.note("bug-7354: y did not finish within 30s (capturing as is)")
        ctx.hold(x, y)
        return
    except ZeroDivisionError as e:
        ctx.facts["y_raised"] = f"ZeroDivisionError: {e}"
    except Exception as e:
        ctx.facts["y_raised"] = f"{type(e).__name__}: {e}"
        ctx.note(f"bug-7354: y raised {type(e).__name__}, not ZeroDivisionError")
    ctx.facts["y_state"] = ctx.s.tasks[ctx.scheduler_key("y")].state
    await ctx.release([x, y])
    await ctx.wait_forgotten(30)


# --------------------------------------------------------------------------------------
# Not the PR's test: a path that does reach the branch #7354 removed. Client.retry of
# one erred dependency x1 of y while y's other dependency x2 is still erred:
# transition_erred_released(x1) recommends ``y: waiting`` for every erred dependent, so
# y goes erred->released->waiting. Up to 2022.11.1 transition_released_waiting found
# x2.exception_blame and recommended ``y: erred`` (y back to erred); from 2022.12.0
# (7b1e26dc7, #7354) it registers y as a waiter of the erred x2 and y never runs
# (no-validate), or its new validate assertion raises inside the retry (validate).
# Captured in traces/<release>/bug-7354-retry[-validate] on 2022.11.1, 2022.12.0 and
# 2026.8.0; the entry sequence is the same on every run (one 1-thread worker, every
# stimulus awaited before the next).

_RETRY_CALLS: dict[str, int] = {}


def fail_first_call(name: str) -> int:
    """Raise on the first call for ``name``, return 1 afterwards."""
    n = _RETRY_CALLS.get(name, 0) + 1
    _RETRY_CALLS[name] = n
    if n == 1:
        raise ZeroDivisionError(f"{name} fails on its first call")
    return 1


def always_fail(name: str) -> int:
    raise ValueError(f"{name} always fails")


def add2(a: int, b: int) -> int:
    return a + b


@scenario(
    "bug-7354-retry",
    "not the PR's test: x1 and x2 err, y=add(x1, x2) errs, client.retry([x1]) sends y "
    "erred->released->waiting while x2 is still erred (the branch #7354 removed)",
    timeout=120.0,
)
async def bug_7354_retry(ctx: Ctx) -> None:
    """2022.11.1: y's ``released->waiting`` returns ``{y: erred}`` (y briefly waiting under
    the erred x2, then erred again: self-correcting). 2022.12.0 and later: y stays
    ``waiting`` under the erred x2 and never completes; with validate on, the new
    assertion in ``transition_released_waiting`` makes the retry raise."""
    from distributed import wait

    c, s = ctx.c, ctx.s
    _RETRY_CALLS.clear()
    await ctx.add_worker(nthreads=1, name="a")
    x1 = c.submit(fail_first_call, "x1", key="x1")
    await asyncio.wait_for(wait(x1), 30)
    x2 = c.submit(always_fail, "x2", key="x2")
    await asyncio.wait_for(wait(x2), 30)
    y = c.submit(add2, x1, x2, key="y")
    await asyncio.wait_for(wait(y), 30)
    ctx.facts["states_before_retry"] = {k: s.tasks[ctx.scheduler_key(k)].state for k in ("x1", "x2", "y")}
    try:
        await asyncio.wait_for(c.retry([x1]), 30)
    except Exception as e:
        ctx.note(f"bug-7354-retry: retry raised {type(e).__name__}: {e!r:.300}")
        ctx.facts["failed_stimulus"] = "retry"
        ctx.hold(x1, x2, y)
        return
    # x1 reruns and succeeds; y must end erred (blamed on x2)
    await ctx.wait_until(lambda: s.tasks[ctx.scheduler_key("x1")].state == "memory", 10, "x1 in memory")
    ok = await ctx.wait_until(lambda: s.tasks[ctx.scheduler_key("y")].state == "erred", 5, "y erred again")
    ctx.facts["states_after_retry"] = {k: s.tasks[ctx.scheduler_key(k)].state for k in ("x1", "x2", "y")}
    if not ok:
        ts_y = s.tasks[ctx.scheduler_key("y")]
        ts_x2 = s.tasks[ctx.scheduler_key("x2")]
        ctx.facts["deadlock"] = True
        ctx.facts["y_waiting_on"] = sorted(str(d.key) for d in (ts_y.waiting_on or ()))
        ctx.facts["x2_waiters"] = sorted(str(d.key) for d in (ts_x2.waiters or ()))
        ctx.note("bug-7354-retry: y is not erred after the retry (capturing as is)")
        ctx.hold(x1, x2, y)
        return
    blame = s.tasks[ctx.scheduler_key("y")].exception_blame
    ctx.facts["y_exception_blame"] = None if blame is None else str(blame.key)
    # one key per stimulus, dependent first: releasing them together makes y's
    # released->forgotten recommend {x1, x2: forgotten} in set order (hash seed)
    for f in (y, x1, x2):
        await ctx.release([f])
    await ctx.wait_forgotten(30)
