"""2022.04.1 - 2022.05.0: ``fetch->missing`` is back (dask/distributed 4f6926ecc, #6112)."""

from replay.worker.tables import r2022_02_0

SINCE = (2022, 4, 1)
PAIRS = r2022_02_0.PAIRS | {("fetch", "missing")}
