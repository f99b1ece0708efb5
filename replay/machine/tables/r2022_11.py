"""2022.11.0 - 2024.7.x: ``no-worker->memory`` removed (dask/distributed 02b9430f7)."""

from replay.machine.tables import r2022_09

SINCE = (2022, 11, 0)
PAIRS = r2022_09.PAIRS - {("no-worker", "memory")}
