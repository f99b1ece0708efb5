"""Capture real scheduler transition logs from real ``distributed`` releases.

Run inside a virtualenv of the release to capture, with the repository root on
``PYTHONPATH``::

    python -m replay.capture --list
    python -m replay.capture seed --out traces/2024.2.1/seed --no-validate

Imports only the stdlib, ``distributed``, ``dask``, ``msgpack`` and ``yaml`` (at
run time, never at import time of this package), and keeps Python 3.10 syntax.
The full regeneration recipe is in ``replay/capture/README.md`` and
``traces/README.md``.
"""
