"""``pytest --replay``: record every dask scheduler a test starts; explain the failing tests.

Off unless asked. With ``--replay``, each test runs with a fresh recording directory, and
every scheduler started during it records its transitions there (:mod:`replay.record`):

* schedulers in the test's process (``gen_cluster``, ``LocalCluster``, ``Scheduler(...)``):
  ``Scheduler.__init__`` is wrapped for the test, and the ``distributed.scheduler.preload``
  config names ``replay.record`` (for a ``distributed`` first imported during the test);
* schedulers in subprocesses (``dask scheduler``, ``SubprocessCluster``, any process that
  imports ``dask`` and starts a ``Scheduler`` without a ``preload`` argument): the same
  config through ``DASK_DISTRIBUTED__SCHEDULER__PRELOAD``/``..._PRELOAD_ARGV`` in the
  environment, and ``replay`` on their ``PYTHONPATH``.

Not recorded: a subprocess scheduler given its own ``preload`` (its argument wins over the
config), one started with a cleaned environment, one in another Python where ``replay``
cannot be imported, or on another machine.

When a test fails, each recording is replayed and the report ``replay run`` prints
(findings, culprits, cascade, story; at ``--replay-width`` columns, no colour) is added to
the test's report as a section named ``replay``. ``--replay-keep DIR`` keeps the
recordings of failing tests in ``DIR/<test id>/``; otherwise, and for passing tests,
nothing is left behind.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import shutil
import site
import sys
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

#: Recordings replayed into one report section at most (a test may start many schedulers).
MAX_REPORTS = 5
DEFAULT_WIDTH = 100
_ENV_PRELOAD = "DASK_DISTRIBUTED__SCHEDULER__PRELOAD"
_ENV_ARGV = "DASK_DISTRIBUTED__SCHEDULER__PRELOAD_ARGV"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replay", "dask scheduler recordings (replay)")
    group.addoption("--replay", action="store_true", default=False,
                    help="Record every dask scheduler each test starts (replay.record); a failing test's "
                         "report gets a 'replay' section with what 'replay run' finds in its recordings.")
    group.addoption("--replay-keep", metavar="DIR", default=None,
                    help="Keep the recordings of failing tests in DIR/<test id>/ (implies --replay).")
    group.addoption("--replay-width", metavar="COLUMNS", type=int, default=DEFAULT_WIDTH,
                    help=f"Width of the 'replay' report section (default {DEFAULT_WIDTH}).")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("replay") or config.getoption("replay_keep"):
        config.pluginmanager.register(SchedulerRecordings(config), "replay-recordings")


class SchedulerRecordings:
    """The per-session state of ``--replay``: this test's recording directory and its hooks."""

    def __init__(self, config: pytest.Config) -> None:
        keep = config.getoption("replay_keep")
        self.keep = Path(keep).resolve() if keep else None
        self.width = max(20, int(config.getoption("replay_width")))
        self.base: Path | None = None
        self.failed = False
        self.reported = False
        self.undo = contextlib.ExitStack()

    # ------------------------------------------------------------------ hooks

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
        self.start()
        try:
            return (yield)
        finally:
            self.stop(item)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.failed and self.base is not None:
            self.failed = True
            if not self.reported:
                self.reported = True
                text = self.report_text(item)
                if text is not None:
                    report.sections.append(("replay", text))
        return report

    # ------------------------------------------------------------------ one test

    def start(self) -> None:
        """A fresh directory, and every way a scheduler of this test finds it."""
        self.base = Path(tempfile.mkdtemp(prefix="replay-test-"))
        self.failed = self.reported = False
        directory = str(self.base / "scheduler-{pid}-{n}")
        preload, argv = _with_recorder(_configured("preload"), _configured("preload-argv"), directory)
        self._set_environment({_ENV_PRELOAD: repr(preload), _ENV_ARGV: repr(argv), **_python_path()})
        if "dask" in sys.modules:
            import dask

            self.undo.enter_context(dask.config.set({"distributed.scheduler.preload": preload,
                                                     "distributed.scheduler.preload-argv": argv}))  # fmt: skip
        if "distributed.scheduler" in sys.modules:
            self._wrap_scheduler_init(directory)

    def stop(self, item: pytest.Item) -> None:
        """Undo the settings; keep the recordings of a failed test if asked, else remove them."""
        self.undo.close()
        base, self.base = self.base, None
        if base is None:
            return
        _flush_in_process()
        if self.failed and self.keep is not None and any(base.iterdir()):
            target = self._kept_directory(item)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(base), str(target))
        else:
            shutil.rmtree(base, ignore_errors=True)

    def _set_environment(self, values: dict[str, str]) -> None:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)

        def restore() -> None:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

        self.undo.callback(restore)

    def _wrap_scheduler_init(self, directory: str) -> None:
        """Every ``Scheduler`` built in this process during the test gets a recorder."""
        from distributed import scheduler as scheduler_module

        from replay.record import TransitionRecorder, recorder_of

        scheduler_class: Any = scheduler_module.Scheduler  # patched, whatever its signature
        original = scheduler_class.__init__

        @functools.wraps(original)
        def recording_init(scheduler: Any, *args: Any, **kwargs: Any) -> None:
            original(scheduler, *args, **kwargs)
            if recorder_of(scheduler) is None:
                scheduler.add_plugin(TransitionRecorder(directory))

        scheduler_class.__init__ = recording_init

        def restore() -> None:
            scheduler_class.__init__ = original

        self.undo.callback(restore)

    def _kept_directory(self, item: pytest.Item) -> Path:
        assert self.keep is not None
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")[:150] or "test"
        target = self.keep / name
        number = 2
        while target.exists():
            target = self.keep / f"{name}-{number}"
            number += 1
        return target

    # ------------------------------------------------------------------ the report

    def report_text(self, item: pytest.Item) -> str | None:
        """What ``replay run`` prints for each recording of this test, one after the other
        (None when the test started no scheduler: its report gets no section)."""
        assert self.base is not None
        _flush_in_process()
        recordings = sorted(_recordings(self.base), key=_started)
        if not recordings:
            return None
        shown_as = self._kept_directory(item) if self.keep is not None else None
        parts = []
        for directory in recordings[:MAX_REPORTS]:
            where = str(shown_as / directory.name) if shown_as is not None else directory.name
            parts.append(render_recording(directory, where, self.width))
        if len(recordings) > MAX_REPORTS:
            parts.append(f"… and {len(recordings) - MAX_REPORTS} more recording(s)"
                         + ("" if self.keep is not None else " (keep them with --replay-keep DIR)"))  # fmt: skip
        elif self.keep is None:
            parts.append("(the recordings are deleted after the test: keep them with --replay-keep DIR)")
        return "\n".join(parts)


def render_recording(directory: Path, shown_as: str, width: int = DEFAULT_WIDTH) -> str:
    """The text of ``replay run DIRECTORY`` at ``width`` columns, without colour, the
    recording named ``shown_as``."""
    from dataclasses import replace

    from rich.console import Console

    from replay.errors import ReplayError
    from replay.ingest import open_trace
    from replay.provenance import replay_trace
    from replay.render.report import RunReport
    from replay.render.theme import THEME

    try:
        trace = open_trace(directory)
        trace = replace(trace, metadata=trace.metadata.model_copy(update={"path": shown_as}))
        result = replay_trace(trace)
    except ReplayError as error:
        return f"{shown_as}: replay: error: {error}\n"
    output = io.StringIO()
    console = Console(file=output, width=width, theme=THEME, highlight=False, soft_wrap=False, no_color=True,
                      color_system=None, force_terminal=False, force_jupyter=False)  # fmt: skip
    console.print(RunReport(result), crop=False)
    return "\n".join(line.rstrip() for line in output.getvalue().split("\n"))


def _recordings(base: Path) -> Iterator[Path]:
    from replay.ingest.recording import is_recording

    for child in base.iterdir():
        if is_recording(child):
            yield child


def _started(directory: Path) -> tuple[float, str]:
    import json

    try:
        started = json.loads((directory / "manifest.json").read_text()).get("started")
    except (OSError, ValueError):
        started = None
    return (started if isinstance(started, int | float) else float("inf"), directory.name)


def _flush_in_process() -> None:
    """Write what the recorders of this process still buffer (only if any was loaded)."""
    record = sys.modules.get("replay.record")
    if record is not None:
        with contextlib.suppress(Exception):
            record.flush_live()


def _configured(name: str) -> Any:
    """``distributed.scheduler.NAME`` as configured now (None when dask is not loaded)."""
    dask = sys.modules.get("dask")
    if dask is None:
        return None
    return dask.config.get(f"distributed.scheduler.{name}", default=None)


def _with_recorder(preload: Any, argv: Any, directory: str) -> tuple[list[str], list[list[str]]]:
    """The preload setting plus ``replay.record``, with one argument list per preload."""
    modules = [preload] if isinstance(preload, str) else [str(module) for module in preload or ()]
    modules = [module for module in modules if module != "replay.record"]
    arguments: list[list[str]]
    if not argv:
        arguments = [[] for _ in modules]
    elif isinstance(argv[0], str):
        arguments = [[str(part) for part in argv] for _ in modules]
    else:
        arguments = [[str(part) for part in parts] for parts in argv][: len(modules)]
        arguments += [[] for _ in range(len(modules) - len(arguments))]
    return [*modules, "replay.record"], [*arguments, ["--replay-dir", directory]]


def _python_path() -> dict[str, str]:
    """``PYTHONPATH`` with the directory ``replay`` is imported from, when a plain
    interpreter would not find it there (a checkout on ``sys.path``, not an install)."""
    root = str(Path(__file__).resolve().parent.parent)
    installed = {str(Path(path).resolve()) for path in [*site.getsitepackages(), site.getusersitepackages()]}
    current = os.environ.get("PYTHONPATH", "")
    if root in installed or root in current.split(os.pathsep):
        return {}
    return {"PYTHONPATH": root + (os.pathsep + current if current else "")}
