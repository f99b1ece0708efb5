"""2022.6.0 - 2022.6.1: ``missing->waiting`` (dask/distributed d360b6311, #6404)."""

from replay.worker.tables import r2022_05_1

SINCE = (2022, 6, 0)
PAIRS = r2022_05_1.PAIRS | {("missing", "waiting")}
