"""2023.1.1 and later: no ``resumed->waiting`` (dask/distributed ea11c1775, #7490); unchanged through 2026.8.0.

2023.1.1 - 2026.8.0 (50 pairs): the table of every release since, checked tag by tag
up to 2026.7.1 and in the 2026.8.0 wheel.
"""

from replay.worker.tables import r2022_09_0

SINCE = (2023, 1, 1)
PAIRS = r2022_09_0.PAIRS - {("resumed", "waiting")}
