"""2025.5.0 and later: a direct ``memory->erred`` (for actors, dask/distributed beb511bbd).

Before this, ``memory->erred`` went through the implicit detour, which is where
dask/distributed issue 8548 (the seed bug) lives.
"""

from replay.machine.tables import r2024_08

SINCE = (2025, 5, 0)
PAIRS = r2024_08.PAIRS | {("memory", "erred")}
