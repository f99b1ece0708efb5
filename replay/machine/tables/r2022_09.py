"""2022.9.0 - 2022.10.x: root-task queuing (dask/distributed dd81b4249).

Adds the ``queued`` state. From here on the decision to queue or to wait for a worker
is logged as a no-op entry (``waiting->waiting {k: queued}``) followed by the real step.
"""

from replay.machine.tables import r2021_08

SINCE = (2022, 9, 0)
PAIRS = (r2021_08.PAIRS | {
    ("waiting", "queued"), ("queued", "processing"), ("queued", "released"),
    ("waiting", "no-worker"), ("no-worker", "processing"),
}) - {("no-worker", "waiting")}  # fmt: skip
