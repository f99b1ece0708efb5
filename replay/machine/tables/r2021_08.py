"""2021.08.0 - 2022.8.x: adds ``no-worker->memory`` (dask/distributed f59e4343e)."""

from replay.machine.tables import r2021_06

SINCE = (2021, 8, 0)
PAIRS = r2021_06.PAIRS | {("no-worker", "memory")}
