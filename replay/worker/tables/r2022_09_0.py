"""2022.9.0 - 2023.1.0: ``cancelled->long-running`` and ``resumed->long-running``, no ``resumed->missing`` (b8e67ca24, #6916)."""

from replay.worker.tables import r2022_08_1

SINCE = (2022, 9, 0)
PAIRS = (r2022_08_1.PAIRS | {("cancelled", "long-running"), ("resumed", "long-running")}) - {("resumed", "missing")}
