"""2022.05.1 - 2022.05.2: ``cancelled->missing`` and ``released->missing`` (70e5c9081, #6248); no ``cancelled->resumed`` (7c57fdc07, #6217).

The same release changed how a two-step transition runs and is counted (see
:data:`replay.worker.tables.OWN_RECOMMENDATIONS_POPPED_SINCE` and
:data:`replay.worker.tables.EVERY_CALL_COUNTED_SINCE`).
"""

from replay.worker.tables import r2022_04_1

SINCE = (2022, 5, 1)
PAIRS = (r2022_04_1.PAIRS | {("cancelled", "missing"), ("released", "missing")}) - {("cancelled", "resumed")}
