"""Command line of ``python -m replay.capture`` (argparse only: runs in old venvs)."""

# ruff: noqa: PLC0415  (scenarios and the harness load only once the arguments are parsed)

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .harness import ARTEFACTS, UNBOUNDED_LOG


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m replay.capture",
        description="Capture a real scheduler transition log (and dumps, stories) from an "
        "in-process distributed cluster running one scenario.",
    )
    p.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    p.add_argument("--list", action="store_true", help="list scenarios and exit")
    p.add_argument("--out", type=Path, help="directory to write the artefacts into")
    p.add_argument(
        "--validate",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="set distributed.scheduler.validate (default: off)",
    )
    p.add_argument(
        "--worker-saturation",
        default=None,
        help="distributed.scheduler.worker-saturation, e.g. 1.1 or inf "
        "(default: the scenario's choice, else the release's default)",
    )
    p.add_argument(
        "--log-length",
        default=None,
        help=f"scheduler log maxlen: an int, or 'default' for the release's default "
        f"(default: the scenario's choice: {UNBOUNDED_LOG} except 'truncated')",
    )
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=ARTEFACTS,
        help="do not write this artefact (repeatable)",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        choices=ARTEFACTS,
        help="write only these artefacts (repeatable; overrides scenario defaults)",
    )
    p.add_argument(
        "--gzip-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write transition_log.msgpack.gz instead of transition_log.msgpack",
    )
    p.add_argument("--timeout", type=float, default=None, help="scenario timeout in seconds")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    # the in-process workers (and nanny subprocesses) must import this package
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    pp = os.environ.get("PYTHONPATH", "")
    if root not in pp.split(os.pathsep):
        os.environ["PYTHONPATH"] = root + (os.pathsep + pp if pp else "")

    from .scenarios import SCENARIOS

    if args.list:
        width = max(len(n) for n in SCENARIOS)
        for name, scn in SCENARIOS.items():
            print(f"{name:<{width}}  {scn.description}")
        return 0
    if not args.scenario or args.out is None:
        print("error: give a SCENARIO and --out DIR (or --list)", file=sys.stderr)
        return 2
    scn = SCENARIOS.get(args.scenario)
    if scn is None:
        print(f"error: unknown scenario {args.scenario!r}; see --list", file=sys.stderr)
        return 2

    artefacts = set(args.only) if args.only else set(ARTEFACTS) - set(scn.default_skip)
    artefacts -= set(args.skip)

    if args.log_length is None:
        log_length = scn.log_length
    elif args.log_length == "default":
        log_length = None
    else:
        log_length = int(args.log_length)

    from .harness import run

    rc = run(
        scn,
        args.out,
        validate=args.validate,
        artefacts=artefacts,
        gzip_log=scn.gzip_log if args.gzip_log is None else args.gzip_log,
        timeout=args.timeout or scn.timeout,
        saturation=args.worker_saturation or scn.saturation,
        log_length=log_length,
    )
    print(f"[capture] wrote {args.out}", file=sys.stderr, flush=True)
    return rc
