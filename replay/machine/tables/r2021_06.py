"""2021.06.1 - 2021.07.x: erred tasks are no longer forgotten directly (dask/distributed 5e5b9835a)."""

from replay.machine.tables import r2021_01

SINCE = (2021, 6, 1)
PAIRS = r2021_01.PAIRS - {("erred", "forgotten")}
