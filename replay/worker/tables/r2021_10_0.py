"""2021.10.0 - 2022.01.x: the first table, with the cancelled and resumed states (dask/distributed a8d4ffa15, #5046).

Worker transitions of distributed 2021.10.0 (46 pairs), the first release whose worker
keeps its transitions in a table (``Worker._transitions_table``). Every later table
starts from it.
"""

SINCE = (2021, 10, 0)
PAIRS = frozenset(
    {
        ("cancelled", "error"), ("cancelled", "fetch"), ("cancelled", "forgotten"), ("cancelled", "memory"),
        ("cancelled", "released"), ("cancelled", "resumed"), ("cancelled", "waiting"),
        ("constrained", "executing"), ("constrained", "released"),
        ("error", "released"),
        ("executing", "error"), ("executing", "long-running"), ("executing", "memory"), ("executing", "released"),
        ("executing", "rescheduled"),
        ("fetch", "flight"), ("fetch", "missing"), ("fetch", "released"),
        ("flight", "error"), ("flight", "fetch"), ("flight", "memory"), ("flight", "released"),
        ("long-running", "error"), ("long-running", "memory"), ("long-running", "released"),
        ("long-running", "rescheduled"),
        ("memory", "released"),
        ("missing", "error"), ("missing", "fetch"), ("missing", "released"),
        ("ready", "error"), ("ready", "executing"), ("ready", "released"),
        ("released", "error"), ("released", "fetch"), ("released", "forgotten"), ("released", "memory"),
        ("released", "waiting"),
        ("resumed", "error"), ("resumed", "fetch"), ("resumed", "memory"), ("resumed", "released"),
        ("resumed", "waiting"),
        ("waiting", "constrained"), ("waiting", "ready"), ("waiting", "released"),
    }
)  # fmt: skip
