"""replay: a log-replay debugger for the Dask distributed scheduler's task state machine.

Kept import-light on purpose: ``python -m replay.capture`` runs inside old
``distributed`` environments that may not have the core dependencies.
"""

__version__ = "0.1.0"
