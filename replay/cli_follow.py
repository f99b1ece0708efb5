"""``replay run --follow``: print the findings of a live recording as their cascades settle."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Group
from rich.text import Text

from replay.cli_common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, App
from replay.follow import Follower
from replay.ingest.keys import parse_user_key
from replay.ingest.recording import FORMAT_NAME, RecordingTail
from replay.keys import format_key
from replay.machine import Step
from replay.provenance import Finding, ReplayResult
from replay.releases import parse_release
from replay.render.report import FindingView, anchor_of
from replay.render.text import Unbroken, clean_summary

#: Seconds between two looks at the recording.
POLL_EVERY = 0.2
#: Findings shown with their cascade (as ``run`` does).
MAX_DETAILED = 10


def follow_recording(
    app: App, trace: Path, *, as_json: bool, keys: Sequence[str], distributed_version: str | None,
    options: dict[str, Any],
) -> int:  # fmt: skip
    """Replay the recording at ``trace`` as it grows, printing each settled finding; the exit code."""
    if str(trace) == "-":
        raise click.UsageError("--follow tails a recording directory, not standard input")
    if options.get("svg") is not None or options.get("html") is not None:
        raise click.UsageError("--follow prints findings as they come: --svg and --html need a finished trace")
    if trace.exists() and not trace.is_dir():
        raise click.UsageError(f"--follow tails a recording directory (replay.record); {str(trace)!r} is a file")
    printer = _Printer(app, options.get("width"), as_json)
    tail = RecordingTail(trace, app.limits)
    try:
        if not _wait_for(tail, trace):
            return EXIT_USAGE
        manifest = tail.manifest or {}
        release = parse_release(distributed_version) or parse_release(str(manifest.get("distributed_version") or ""))
        follower = Follower(tail, release)
        version = manifest.get("distributed_version") or "release unknown"
        printer.show(Group(Unbroken((str(trace), "title")), Text(
            f"{FORMAT_NAME} · distributed {version} · checked against {follower.table} · following: each finding "
            f"is printed once its cascade settles (Ctrl-C stops)", style="muted"), Text("")))  # fmt: skip
        wanted = {parse_user_key(text) for text in keys}
        interrupted = False
        try:
            while not tail.done:
                found, read = follower.poll()
                printer.findings(_chosen(found, wanted, keys), follower.steps)
                if not read and not tail.done:
                    time.sleep(POLL_EVERY)
        except KeyboardInterrupt:
            interrupted = True
    finally:
        tail.close()
    printer.findings(_chosen(follower.finish(), wanted, keys), follower.steps)
    errors = sum(1 for finding in printer.shown if finding.severity == "error")
    warnings = sum(1 for finding in printer.shown if finding.severity == "warning")
    if as_json:
        source = {"path": str(trace), "format": FORMAT_NAME, "distributed_version": manifest.get("distributed_version"),
                  "events": follower.events}  # fmt: skip
        click.echo(json.dumps({"source": source, "summary": {"errors": errors, "warnings": warnings}}))
        return EXIT_FINDINGS if errors else EXIT_CLEAN
    ending = "stopped (Ctrl-C)" if interrupted else "the recording closed"
    lines: list[Any] = [Text(f"{ending} after {follower.events} entries", style="muted")]
    lines.extend(Text(f"note: {note}", style="muted") for note in tail.all_notes())
    if printer.shown:
        lines.append(Text(f"✗ {errors} error(s), {warnings} warning(s)",
                          style="severity.error" if errors else "severity.warning"))  # fmt: skip
    else:
        machine = follower.replayer.result()
        result = ReplayResult(metadata=tail.metadata(), notes=(), release=release, table=follower.table,
                              events=machine.events, steps=(), findings=(), final_states=machine.final_states,
                              complete_log=machine.complete_log, graph_source=machine.graph_source)  # fmt: skip
        verdict, *caveats = clean_summary(result)
        lines.append(Text(verdict, style="ok"))
        lines.extend(Text(f"  {caveat}", style="muted") for caveat in caveats)
    printer.show(Group(*lines))
    return EXIT_FINDINGS if errors else EXIT_CLEAN


def _wait_for(tail: RecordingTail, trace: Path) -> bool:
    """Wait until a recording appears in ``trace``; False when the user stopped waiting."""
    waiting = False
    try:
        while tail.refresh() is None:
            if not waiting:
                click.echo(f"waiting for a recording in {trace} (Ctrl-C to stop)", err=True)
                waiting = True
            time.sleep(POLL_EVERY)
    except KeyboardInterrupt:
        return False
    return True


def _chosen(findings: list[Finding], wanted: set[Any], keys: Sequence[str]) -> list[Finding]:
    """The findings about the ``--key`` keys (all of them without one)."""
    if not wanted:
        return findings
    return [f for f in findings if f.key in wanted or (f.key is not None and format_key(f.key) in keys)]


class _Printer:
    """Prints as ``run`` does, a piece at a time: findings with their cascade, or JSON lines."""

    def __init__(self, app: App, width: int | None, as_json: bool) -> None:
        self.console = app.make_console(width)
        self.plain = not self.console.is_terminal or self.console.color_system is None
        self.as_json = as_json
        self.shown: list[Finding] = []
        self.shown_groups: set[int] = set()

    def show(self, renderable: Any) -> None:
        if self.as_json:
            return
        with self.console.capture() as capture:
            self.console.print(renderable, crop=False)
        text = capture.get()
        if self.plain:
            text = "\n".join(line.rstrip() for line in text.split("\n"))
        self.console.file.write(text)
        self.console.file.flush()

    def findings(self, findings: list[Finding], steps: Sequence[Step]) -> None:
        by_index = {step.index: step for step in steps} if findings and steps else {}
        for finding in findings:
            self.shown.append(finding)
            if self.as_json:
                click.echo(json.dumps(finding.to_json()))
                continue
            anchor = anchor_of(finding)
            group = by_index[anchor].group if anchor in by_index else None
            cascade: list[Step] = []
            if len(self.shown) <= MAX_DETAILED and group is not None and group not in self.shown_groups:
                self.shown_groups.add(group)
                cascade = [step for step in steps if step.group == group]
            self.show(FindingView(finding, by_index, cascade))
