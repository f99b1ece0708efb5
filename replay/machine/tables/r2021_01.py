"""2021.01.0 - 2021.06.0: the first table; every later one starts from it.

Scheduler transitions of distributed 2021.01.0 - 2021.06.0 (15 pairs).

Any pair not listed, and not involving ``released``, is carried out as an implicit
detour through ``released``: two log entries, the inner ``X->released`` and the outer
``released->Y``, where Y is the inner step's own recommendation for the key if it made
one, otherwise the requested state. This holds for every release.
"""

SINCE = (2021, 1, 0)
PAIRS = frozenset(
    {
        ("released", "waiting"), ("waiting", "released"), ("waiting", "processing"),
        ("waiting", "memory"), ("processing", "released"), ("processing", "memory"),
        ("processing", "erred"), ("no-worker", "released"), ("no-worker", "waiting"),
        ("released", "forgotten"), ("memory", "forgotten"), ("erred", "forgotten"),
        ("erred", "released"), ("memory", "released"), ("released", "erred"),
    }
)  # fmt: skip
