"""Sanity-check captured trace directories: ``python -m replay.capture.check traces/``.

Loads every artefact the way a reader must (msgpack with ``use_list=False`` and
``strict_map_key=False``; yaml with ``safe_load``) and prints one line per
directory: release, scenario, entries, fields per entry, and any problem.
Exits 1 if an artefact listed in meta.json cannot be read.
"""

# ruff: noqa: PLC0415  (msgpack / yaml are imported only when a trace needs them)

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any


def load_msgpack(path: Path) -> Any:
    """A whole msgpack file (gunzipped when named ``.gz``), arrays as tuples."""
    import msgpack

    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return msgpack.unpackb(data, use_list=False, strict_map_key=False, raw=False)


def find_log(directory: Path) -> Path | None:
    """The bare log a capture wrote: ``transition_log.msgpack``, or ``.msgpack.gz``."""
    for name in ("transition_log.msgpack", "transition_log.msgpack.gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def check_dir(d: Path) -> list[str]:
    problems: list[str] = []
    meta = json.loads((d / "meta.json").read_text())
    log_path = find_log(d)
    log = None if log_path is None else load_msgpack(log_path)
    if log is None:
        problems.append("no bare log")
    elif len(log) != meta["entries"]:
        problems.append(f"log has {len(log)} entries, meta says {meta['entries']}")
    if (d / "dump.msgpack.gz").exists():
        state = load_msgpack(d / "dump.msgpack.gz")
        tl = state["scheduler"]["transition_log"]
        if log is not None and len(tl) != len(log):
            problems.append(f"dump log has {len(tl)} entries, bare log {len(log)}")
    if (d / "dump.yaml").exists():
        import yaml

        with (d / "dump.yaml").open() as fh:
            y = yaml.safe_load(fh)
        if len(y["scheduler"]["transition_log"]) != meta.get("dump_log_entries"):
            problems.append("yaml dump log length differs from the msgpack dump's")
    if (d / "client_story.msgpack").exists():
        load_msgpack(d / "client_story.msgpack")
    fields = {len(e) for e in log} if log else set()
    print(
        f"{d}: {meta['distributed_version']} {meta['scenario']} validate={meta['validate']} "
        f"entries={meta['entries']} counter={meta.get('transition_counter')} "
        f"fields={sorted(fields)} {'; '.join(problems) or 'ok'}"
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    roots = [Path(a) for a in (argv if argv is not None else sys.argv[1:])] or [Path("traces")]
    bad = 0
    for root in roots:
        for meta in sorted(root.rglob("meta.json")):
            try:
                bad += bool(check_dir(meta.parent))
            except Exception as e:
                print(f"{meta.parent}: cannot read: {type(e).__name__}: {e}")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
