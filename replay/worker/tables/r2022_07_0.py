"""2022.7.0: ``cancelled->rescheduled`` (dask/distributed ff250f2b2, #6339)."""

from replay.worker.tables import r2022_06_0

SINCE = (2022, 7, 0)
PAIRS = r2022_06_0.PAIRS | {("cancelled", "rescheduled")}
