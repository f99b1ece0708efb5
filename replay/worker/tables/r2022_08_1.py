"""2022.8.1: ``resumed->rescheduled`` (3369af0c4, #6913); no ``cancelled->forgotten`` (58a5a3ce3, #6699)."""

from replay.worker.tables import r2022_07_1

SINCE = (2022, 8, 1)
PAIRS = (r2022_07_1.PAIRS | {("resumed", "rescheduled")}) - {("cancelled", "forgotten")}
