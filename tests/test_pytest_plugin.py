"""``pytest --replay`` (replay.pytest_plugin), run with pytester on real failing tests.

Each run is a pytest subprocess (``runpytest_subprocess``): the tests start real clusters.
``-p replay.pytest_plugin`` is passed explicitly (harmless where the ``pytest11`` entry
point, of the same name, is installed too). The seed bug of 2024.2.1 runs in its own venv
(``/work/venvs/d2024.2.1`` with pytest), skipped where there is none.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("distributed")

pytest_plugins = ["pytester"]

VENVS = Path(os.environ.get("VENVS", "/work/venvs"))

FAILING_GEN_CLUSTER = """
from distributed.utils_test import gen_cluster, inc


@gen_cluster(client=True)
async def test_sums_wrong(c, s, a, b):
    futures = c.map(inc, range(20))
    total = c.submit(sum, futures)
    assert await total == 0
"""

PASSING_GEN_CLUSTER = """
from distributed.utils_test import gen_cluster, inc


@gen_cluster(client=True)
async def test_sums(c, s, a, b):
    assert await c.submit(inc, 1) == 2
"""

LOCAL_AND_SUBPROCESS = """
import subprocess, sys, time, json, os
from pathlib import Path

from distributed import Client, LocalCluster

LOCAL_EXPECTED = 3  # wrong: this test fails
SUBPROCESS_EXPECTED = 2


def inc(x):
    return x + 1


def test_local_cluster():
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        assert client.submit(inc, 1).result() == LOCAL_EXPECTED


def test_subprocess_scheduler(tmp_path):
    file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        for _ in range(600):
            if file.exists():
                break
            time.sleep(0.1)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                   str(file), "--nthreads", "1", "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with Client(scheduler_file=str(file)) as client:
            client.wait_for_workers(1, timeout=60)
            assert client.submit(inc, 1).result() == SUBPROCESS_EXPECTED
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(30)
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "replay.pytest_plugin", "-p", "no:cacheprovider", *args, timeout=300)


def _leftovers() -> set[str]:
    return {path.name for path in Path(tempfile.gettempdir()).glob("replay-test-*")}


def test_a_failing_gen_cluster_test_gets_a_replay_section(pytester: pytest.Pytester) -> None:
    import distributed

    pytester.makepyfile(test_failing=FAILING_GEN_CLUSTER)
    before = _leftovers()
    result = _run(pytester, "--replay", "--replay-width", "120")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    section = output[output.index("- replay -"):]
    assert re.search(rf"scheduler-\d+-\d+\nrecording · distributed {re.escape(distributed.__version__)} · \d+ events",
                     section), section[:2000]  # fmt: skip
    assert "✓ no findings in" in section  # the release has no bug here: the test's own assertion failed
    assert "keep them with --replay-keep DIR" in section
    assert _leftovers() <= before  # nothing left behind


def test_a_failing_test_without_a_scheduler_gets_no_section(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 == 2\n")
    result = _run(pytester, "--replay")
    result.assert_outcomes(failed=1)
    assert "- replay -" not in result.stdout.str()


def test_without_the_option_nothing_is_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_failing=FAILING_GEN_CLUSTER)
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    assert "- replay -" not in result.stdout.str()


def test_keep_keeps_failing_tests_recordings_only(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_failing=FAILING_GEN_CLUSTER, test_passing=PASSING_GEN_CLUSTER)
    keep = tmp_path / "kept"
    before = _leftovers()
    result = _run(pytester, "--replay-keep", str(keep))
    result.assert_outcomes(failed=1, passed=1)
    kept = sorted(path.relative_to(keep).parts[0] for path in keep.glob("*/*/manifest.json"))
    assert kept == ["test_failing.py_test_sums_wrong"]
    recording = next(keep.glob("*/*/manifest.json")).parent
    assert f"{recording}\nrecording · distributed" in result.stdout.str()  # the report names where it is kept
    assert subprocess.run([sys.executable, "-m", "replay", "run", str(recording)], capture_output=True,
                          check=False).returncode == 0  # fmt: skip
    assert _leftovers() <= before


def test_local_cluster_and_subprocess_schedulers_are_recorded(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """An in-process LocalCluster, and a ``dask scheduler`` started by the test in its own process."""
    pytester.makepyfile(test_clusters=LOCAL_AND_SUBPROCESS)
    keep = tmp_path / "kept"
    result = _run(pytester, "--replay-keep", str(keep))
    result.assert_outcomes(failed=1, passed=1)  # the subprocess cluster computes right
    output = result.stdout.str()
    assert output.count("- replay -") == 1
    assert "recording · distributed" in output
    manifests = sorted(keep.glob("*/*/manifest.json"))
    assert [path.parent.parent.name for path in manifests] == ["test_clusters.py_test_local_cluster"]


def test_a_subprocess_scheduler_of_a_failing_test_is_replayed(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_clusters=LOCAL_AND_SUBPROCESS.replace("SUBPROCESS_EXPECTED = 2", "SUBPROCESS_EXPECTED = 5"))
    keep = tmp_path / "kept"
    result = _run(pytester, "--replay-keep", str(keep), "-k", "subprocess")
    result.assert_outcomes(failed=1, deselected=1)
    manifests = list(keep.glob("*/*/manifest.json"))
    assert len(manifests) == 1
    recording = manifests[0].parent
    assert recording.name.startswith("scheduler-") and recording.name != f"scheduler-{os.getpid()}-0"
    assert f"{recording}\nrecording · distributed" in result.stdout.str()


SEED_8548 = '''
"""dask/distributed#8548 (fixed in 2024.3.0): f errs while g sits in memory on a worker that
survives; the detour through released sends g to waiting under an erred f, and ha waits for ever."""

import asyncio
import threading

import dask
from dask import delayed
from distributed import Worker
from distributed.utils_test import gen_cluster, inc

ENTERED = {name: threading.Event() for name in ("f", "ha", "hb")}
OPEN = {name: threading.Event() for name in ("f", "ha", "hb")}


def gated(x, name):
    ENTERED[name].set()
    OPEN[name].wait(20)
    return x


async def until(predicate, timeout=10):
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


@gen_cluster(client=True, nthreads=[], scheduler_kwargs={"validate": False},
             config={"distributed.scheduler.allowed-failures": 0})
async def test_erred_dependency_does_not_deadlock(c, s):
    OPEN["f"].set()
    async with Worker(s.address, nthreads=1, resources={"a": 1}) as a:
        b1 = await Worker(s.address, nthreads=1, resources={"b": 1})
        with dask.annotate(resources={"b": 1}):
            f = delayed(gated)(1, "f", dask_key_name="f")
            g = delayed(inc)(f, dask_key_name="g")
            hb = delayed(gated)(g, "hb", dask_key_name="hb")
        with dask.annotate(resources={"a": 1}):
            ha = delayed(gated)(g, "ha", dask_key_name="ha")
        ff, fha, fhb = c.compute([f, ha, hb])
        await until(lambda: ENTERED["ha"].is_set() and ENTERED["hb"].is_set())
        await until(lambda: any(ws.address == a.address for ws in s.tasks["g"].who_has))
        OPEN["f"].clear()
        ENTERED["f"].clear()
        await s.remove_worker(address=b1.address, stimulus_id="remove_b1")
        OPEN["hb"].set()
        await b1.close()
        async with Worker(s.address, nthreads=1, resources={"b": 1}) as b2:
            await until(ENTERED["f"].is_set)
            await s.remove_worker(address=b2.address, stimulus_id="remove_b2")
            OPEN["f"].set()
        OPEN["ha"].set()
        # fixed releases finish ha (with f's error); 2024.2.1 leaves it waiting for ever
        await until(lambda: fha.status != "pending", timeout=5)
'''


def test_the_seed_bug_on_its_buggy_release_names_the_culprit(tmp_path: Path) -> None:
    python = VENVS / "d2024.2.1" / "bin" / "python"
    if not python.exists() or subprocess.run([str(python), "-c", "import pytest, pydantic, rich"],
                                             capture_output=True, check=False).returncode:  # fmt: skip
        pytest.skip(f"no venv of distributed 2024.2.1 with pytest, pydantic and rich at {python.parent.parent}")
    (tmp_path / "test_seed_8548.py").write_text(SEED_8548)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [str(python), "-m", "pytest", "-p", "replay.pytest_plugin", "--replay", "--replay-width", "200",
         "-p", "no:cacheprovider", "test_seed_8548.py"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = done.stdout
    assert done.returncode == 1, output[-3000:]
    section = output[output.index("- replay -"):]
    assert "recording · distributed 2024.2.1" in section
    assert re.search(r"ERROR waiting-on-erred  event \d+  g  remove_b2", section), section[:3000]
    assert re.search(r"culprit: g: waiting emitted by \[\d+\] g memory → released, overriding g: erred from "
                     r"\[\d+\] f processing → erred", section), section[:3000]  # fmt: skip
