"""``python -m replay.capture SCENARIO --out DIR``: see replay/capture/README.md."""

import os
import sys

from .cli import main

if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # worker threads blocked in a scenario must never keep a capture alive
    os._exit(rc)
