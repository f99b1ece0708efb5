"""2022.02.0 - 2022.04.0: ``flight->missing`` replaces ``fetch->missing`` (b581bb6f3, #5653); ``resumed->missing`` (de43b17b5, #5786)."""

from replay.worker.tables import r2021_10_0

SINCE = (2022, 2, 0)
PAIRS = (r2021_10_0.PAIRS | {("flight", "missing"), ("resumed", "missing")}) - {("fetch", "missing")}
