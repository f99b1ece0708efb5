"""Capture scenarios of known, fixed dask scheduler bugs: one module per bug.

Each module reproduces the regression test that the fixing PR added, in words and
with the harness's real cluster, and registers itself with ``@scenario``. Every
module in this package is imported when the scenarios load, so a new bug is one
new file. Python 3.10 syntax: these run inside venvs of old releases.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every bug module (each registers its scenario)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
