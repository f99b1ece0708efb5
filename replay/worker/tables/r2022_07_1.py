"""2022.7.1 - 2022.8.0: no ``ready->error`` (ready and constrained tasks kept in heapsets, dask/distributed 32483539f, #6711)."""

from replay.worker.tables import r2022_07_0

SINCE = (2022, 7, 1)
PAIRS = r2022_07_0.PAIRS - {("ready", "error")}
