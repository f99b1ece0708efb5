"""2024.8.0 - 2025.4.x: tasks can fail from no-worker and queued (``no-workers-timeout``, 879e5924c)."""

from replay.machine.tables import r2022_11

SINCE = (2024, 8, 0)
PAIRS = r2022_11.PAIRS | {("no-worker", "erred"), ("queued", "erred")}
