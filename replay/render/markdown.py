"""``replay report``: a Markdown issue body for dask's tracker.

Plain Markdown (GitHub's), no rich markup: prose wrapped at :data:`WIDTH` columns, every
key, state and path in a code span, tables of few, short columns, the cascade as a fenced
text block rendered without colour, the commands in a fenced bash block whose long lines
are continued with backslashes. The one sentence, the versions and the commands speak of
the trace's own entry numbers; the sliced story and the cascade of the slice's (the
story's ``log`` column maps one to the other).
"""

from __future__ import annotations

import re
import shlex
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from replay.diff import TraceDiff, summary_line
from replay.events import Key, SchedulerTransition
from replay.keys import format_key, stimulus_name
from replay.machine.steps import DETOUR_INNER, NO_OP, Step
from replay.provenance import Culprit, Finding
from replay.render.cascade import CascadeView
from replay.render.report import anchor_of
from replay.render.theme import THEME
from replay.slice import Slice, package_versions

#: Columns of prose, code blocks and tables (markdownlint's and pymarkdown's default).
WIDTH = 80
#: Recommendations shown per entry before summing up the rest.
MAX_RECOMMENDATIONS = 4
#: Rows of a diff table, and findings listed, before summing up the rest.
MAX_ROWS = 10
#: Where the slice of the commands is written.
SLICE_FILE = "slice.jsonl"
#: A code span, to keep whole when wrapping (a space in it stands in as :data:`_KEEP`).
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_KEEP = "\x00"
#: Characters that mean something to Markdown in running text.
_SPECIAL = set("\\`*_[]<>|~#")


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """Everything one report shows, with the command line's own spelling of paths and options."""

    trace_path: str
    sliced: Slice
    #: the dump's ``versions`` block (None: the input has none)
    versions: Mapping[str, Any] | None = None
    distributed_version: str | None = None
    fixed_path: str | None = None
    fixed_version: str | None = None
    diff: TraceDiff | None = None


# ------------------------------------------------------------------------- Markdown pieces


def escape(text: str) -> str:
    """Running text with Markdown's special characters escaped."""
    return "".join("\\" + char if char in _SPECIAL else char for char in text)


def code(text: str) -> str:
    """A code span holding ``text`` exactly (a longer fence when it holds backticks)."""
    fence = "`"
    while fence in text:
        fence += "`"
    padding = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def cell(text: str) -> str:
    """A table cell: pipes escaped (GitHub reads ``\\|`` as a pipe even in a code span)."""
    return text.replace("|", "\\|").replace("\n", " ")


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], describe: Callable[[Sequence[str]], str] | None = None
) -> list[str]:
    """A GitHub table, each line as short as its cells allow; empty cells read ``none``.

    A table whose lines do not fit :data:`WIDTH` columns (long keys) is given as a list
    instead, one item per row as ``describe`` words it.
    """
    rows = [[item or "none" for item in row] for row in rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend("| " + " | ".join(cell(item) for item in row) + " |" for row in rows)
    if describe is None or max(len(line) for line in lines) <= WIDTH:
        return lines
    return [line for row in rows for line in item(describe(row))]


def item(text: str) -> list[str]:
    """One list item, wrapped at :data:`WIDTH` columns."""
    return [("- " if position == 0 else "  ") + line for position, line in enumerate(paragraph(text, WIDTH - 2))]


def paragraph(text: str, width: int = WIDTH) -> list[str]:
    """Prose wrapped at ``width`` columns (words and code spans never broken)."""
    protected = _CODE_SPAN.sub(lambda match: match.group(0).replace(" ", _KEEP), text)
    lines = textwrap.wrap(protected, width=width, break_long_words=False, break_on_hyphens=False)
    return [line.replace(_KEEP, " ") for line in lines]


def fenced(language: str, lines: Iterable[str]) -> list[str]:
    return [f"```{language}", *lines, "```"]


def command(*words: str) -> list[str]:
    """One shell command, quoted, continued with backslashes past :data:`WIDTH` columns
    (an option stays on the line of its value)."""
    quoted = [shlex.quote(word) for word in words]
    units: list[str] = []
    for position, word in enumerate(quoted):
        if position and units and units[-1].startswith("-") and " " not in units[-1] and not word.startswith("-"):
            units[-1] += " " + word
        else:
            units.append(word)
    lines: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 1 + len(unit) > WIDTH - 2:
            lines.append(current + " \\")
            current = "  " + unit
        else:
            current = f"{current} {unit}" if current else unit
    lines.append(current)
    return lines


# ------------------------------------------------------------------------- words


def key_code(key: Key | None) -> str:
    return "an unknown key" if key is None else code(format_key(key))


def transition_words(transition: SchedulerTransition) -> str:
    """```g` memory → released``."""
    return f"{key_code(transition.key)} {transition.start} → {transition.finish}"


def recommendations_words(recommendations: Mapping[Key, str]) -> str:
    if not recommendations:
        return ""
    items = [f"{key_code(key)}: {state}" for key, state in list(recommendations.items())[:MAX_RECOMMENDATIONS]]
    extra = len(recommendations) - MAX_RECOMMENDATIONS
    return ", ".join(items) + (f", … +{extra}" if extra > 0 else "")


def entry_words(event: int | None, steps: Mapping[int, Step]) -> str:
    """``entry 17 (`g` memory → released)``, or ``the stimulus itself``."""
    if event is None:
        return "the stimulus itself"
    step = steps.get(event)
    return f"entry {event}" + ("" if step is None else f" ({transition_words(step.transition)})")


def culprit_words(culprit: Culprit, steps: Mapping[int, Step]) -> str:
    """``the recommendation `g: waiting` emitted by entry 17 (…), over `g: erred` from entry 16``."""
    text = f"the recommendation {code(f'{format_key(culprit.key)}: {culprit.state}')} emitted by {entry_words(culprit.event, steps)}"
    if culprit.overrode is not None:
        overrode = code(f"{format_key(culprit.key)}: {culprit.overrode.state}")
        text += f", which replaced {overrode} from {entry_words(culprit.overrode.event, steps)}"
    return text


def release_of(inputs: ReportInputs) -> str:
    version = inputs.sliced.trace.metadata.distributed_version
    return f"distributed {version}" if version else "an unknown release of distributed"


def finding_sentence(inputs: ReportInputs) -> str:
    """The finding in one sentence, numbered as in the trace."""
    sliced = inputs.sliced
    finding = sliced.original
    where = "" if finding.event is None else f" at entry {finding.event}"
    message = escape(finding.message.rstrip("."))
    sentence = (f"On {release_of(inputs)}, replay reports {code(finding.rule)} ({finding.severity}) on "
                f"{key_code(finding.key)}{where}: {message}")  # fmt: skip
    # The slice's steps are numbered as in the slice: name the trace's entries by their transitions.
    steps = {sliced.origins[step.index]: step for step in sliced.result.steps}
    if finding.culprit is not None:
        sentence += f"; the culprit is {culprit_words(finding.culprit, steps)}"
    for missing in finding.missing:
        sentence += f"; {code(f'{format_key(missing.key)}: {missing.state}')} was never recommended"
    return sentence + "."


# ------------------------------------------------------------------------- sections


def versions_section(inputs: ReportInputs) -> list[str]:
    lines = ["## Versions", ""]
    if inputs.versions is None:
        version = inputs.sliced.trace.metadata.distributed_version
        if inputs.distributed_version:
            said = f"distributed {code(inputs.distributed_version)}, as given with {code('--distributed-version')}"
        elif version:
            said = f"distributed {code(version)}, as the trace says"
        else:
            said = "no release (the rules of every release were checked)"
        return [*lines, *paragraph(f"The trace carries no versions block: {said}.")]
    rows = package_versions(inputs.versions)
    differing = any(others for _, _, others in rows)
    header = ["package", "scheduler", "workers"] if differing else ["package", "version"]
    body = []
    for name, own, others in rows:
        row = [code(name), code(own) if own is not None else "none"]
        if differing:
            row.append(", ".join(code(other) for other in others) or "same")
        body.append(row)
    lines.extend(table(header, body))
    if not differing:
        lines.extend(["", *paragraph("From the dump's versions block; every worker runs the same versions.")])
    return lines


def _cause_words(step: Step) -> str:
    """``[1] waiting over [0] erred``: the recommendation the entry was popped from; ``stimulus`` for a root."""
    if step.override is not None:
        text = f"{_reference(step.override.event)} {step.override.state}"
        if step.cause is not None:
            text += f" over {_reference(step.cause.event)} {step.cause.state}"
        return text
    cause = step.cause
    text = "stimulus" if cause is None else f"{_reference(cause.event)} {cause.state}"
    if cause is not None and cause.replaced is not None:
        text += f" over {_reference(cause.replaced.event)} {cause.replaced.state}"
    if step.role == DETOUR_INNER:
        text += " (detour)"
    elif step.role == NO_OP:
        text += " (no-op)"
    return text


def _reference(event: int | None) -> str:
    return "stimulus" if event is None else f"[{event}]"


def _story_item(row: Sequence[str]) -> str:
    index, origin, transition, cause, recommends = row
    return f"{index} (log {origin}): {transition}; cause {cause}; recommends {recommends}"


def _entry_item(row: Sequence[str]) -> str:
    run, index, transition, recommends = row
    return f"{run} {index}: {transition}; recommends {recommends}"


def _path_item(row: Sequence[str]) -> str:
    key, a_path, b_path = row
    return f"{key}: A {a_path}; B {b_path}"


def story_section(inputs: ReportInputs) -> list[str]:
    sliced = inputs.sliced
    finding = sliced.finding
    keys = ", ".join(key_code(key) for key in sliced.keys)
    lines = ["## The sliced story", ""]
    count = len(sliced.origins)
    kept = (f"{code('replay slice')} keeps {count} of the trace's {sliced.events:,} entries"
            f"{' (keys ' + keys + ')' if keys else ''}: the fewest it found that still reproduce the finding.")  # fmt: skip
    if not count:
        kept += " The log holds no evidence of it: the dump's counter alone shows it."
    lines.extend(paragraph(kept))
    if not count:
        return lines
    culprit = finding.culprit
    where = f"The finding is at entry {finding.event} of the slice" if finding.event is not None else "The finding has no entry"
    if culprit is not None and culprit.event is not None:
        where += (f"; its culprit, {code(f'{format_key(culprit.key)}: {culprit.state}')}, was emitted by "
                  f"entry {culprit.event}")  # fmt: skip
    lines.extend(["", *paragraph(
        f"{where}. {code('#')} numbers the slice's entries, {code('log')} the trace's; the cause is the "
        "recommendation each entry was popped from, with the entry that emitted it."
    )])  # fmt: skip
    runs: list[list[Step]] = []
    for step in sliced.result.steps:
        if runs and runs[-1][-1].stimulus_id == step.stimulus_id:
            runs[-1].append(step)
        else:
            runs.append([step])
    for run in runs:
        lines.extend(["", f"Stimulus {code(stimulus_name(run[0].stimulus_id))}:", ""])
        rows = []
        for step in run:
            rows.append([
                str(step.index), str(sliced.origins[step.index]), transition_words(step.transition),
                _cause_words(step), recommendations_words(step.transition.recommendations),
            ])  # fmt: skip
        lines.extend(table(["#", "log", "transition", "cause", "recommends"], rows, _story_item))
    others = sliced.other_findings()
    if others:
        lines.extend(["", *paragraph("The slice shows other findings too:"), ""])
        for other, also in others:
            where = "" if other.event is None else f" at slice entry {other.event}"
            whence = "also in the trace" if also else "only in the slice: dropping the other keys made it"
            lines.extend(textwrap.wrap(f"- {code(other.rule)} on {key_code(other.key)}{where}, {whence}", width=WIDTH,
                                       subsequent_indent="  ", break_long_words=False, break_on_hyphens=False))  # fmt: skip
    return lines


def cascade_text(steps: Sequence[Step], finding: Finding) -> list[str]:
    """The cascade as plain text at :data:`WIDTH` columns, the culprit marked."""
    console = Console(width=WIDTH, theme=THEME, no_color=True, highlight=False, force_terminal=False,
                      color_system=None, soft_wrap=False)  # fmt: skip
    with console.capture() as capture:
        console.print(CascadeView(steps, finding.culprit, findings=[finding]), crop=False)
    return [line.rstrip() for line in capture.get().rstrip("\n").split("\n")]


def cascade_section(inputs: ReportInputs) -> list[str]:
    sliced = inputs.sliced
    finding = sliced.finding
    lines = ["## The cascade", ""]
    anchor = anchor_of(finding)
    steps = sliced.result.steps
    group = next((step.group for step in steps if step.index == anchor), None)
    if group is None:
        return [*lines, *paragraph("No entry of the log is tied to this finding: there is no cascade to show.")]
    chosen = [step for step in steps if step.group == group]
    stimulus = stimulus_name(chosen[0].stimulus_id)
    lines.extend(paragraph(
        f"Stimulus {code(stimulus)} in the slice, each transition under the recommendation that caused it; "
        f"◀ marks the culprit ({code(f'replay cascade {SLICE_FILE} --event {anchor}')} shows it in colour):"
    ))  # fmt: skip
    return [*lines, "", *fenced("text", cascade_text(chosen, finding))]


def _path_words(path: Sequence[str], common: int) -> str:
    """``… processing → released → waiting``: the states from the last one both runs share."""
    start = max(0, common - 1)
    shown = " → ".join(path[start:]) if path else "(no entries)"
    return ("… " if start else "") + shown


def diff_section(inputs: ReportInputs) -> list[str]:
    diff = inputs.diff
    if diff is None or inputs.fixed_path is None:
        return []
    fixed_release = diff.b.metadata.distributed_version or inputs.fixed_version or "an unknown release"
    lines = ["## Against a fixed release", ""]
    lines.extend(paragraph(
        f"{code('replay diff')} of this trace (A) and {code(inputs.fixed_path)} (B, distributed "
        f"{code(fixed_release)}): {escape(summary_line(diff))}."
    ))  # fmt: skip
    first = diff.first_divergence
    if first is not None:
        lines.extend(["", *paragraph(f"Where they part, stimulus {code(diff.stimulus_of(first))}:"), ""])
        rows = []
        for side, index in (("A", first.a), ("B", first.b)):
            entry = diff.entry("a" if side == "A" else "b", index)
            if entry is None or index is None:
                rows.append([side, "none", "(no entry)", "none"])
            else:
                rows.append([side, str(index), transition_words(entry), recommendations_words(entry.recommendations)])
        lines.extend(table(["run", "#", "transition", "recommends"], rows, _entry_item))
    if diff.keys:
        lines.extend(["", *paragraph(f"Keys whose states differ ({len(diff.keys)}):"), ""])
        rows = [[key_code(difference.key), _path_words(difference.a_path, difference.common),
                 _path_words(difference.b_path, difference.common)] for difference in diff.keys[:MAX_ROWS]]  # fmt: skip
        lines.extend(table(["key", "A", "B"], rows, _path_item))
        if len(diff.keys) > MAX_ROWS:
            lines.extend(["", f"… and {len(diff.keys) - MAX_ROWS} more."])
    for label, findings in (("A", diff.a_only_findings), ("B", diff.b_only_findings)):
        if not findings:
            continue
        lines.extend(["", f"Findings only in {label}:", ""])
        for finding in findings[:MAX_ROWS]:
            where = "" if finding.event is None else f" at entry {finding.event}"
            lines.append(f"- {code(finding.rule)} on {key_code(finding.key)}{where}")
        if len(findings) > MAX_ROWS:
            lines.append(f"- … and {len(findings) - MAX_ROWS} more")
    return lines


def commands_section(inputs: ReportInputs) -> list[str]:
    sliced = inputs.sliced
    version = ["--distributed-version", inputs.distributed_version] if inputs.distributed_version else []
    choice = ["--finding", str(sliced.number)]
    lines = ["## Reproduce", ""]
    lines.extend(paragraph(
        f"With replay installed (the {code('dask-replay')} distribution), from the directory the paths are relative to:"
    ))  # fmt: skip
    commands = [
        command("replay", "run", inputs.trace_path, *version),
        command("replay", "slice", inputs.trace_path, *choice, *version, "-o", SLICE_FILE),
        command("replay", "run", SLICE_FILE),
    ]
    anchor = anchor_of(sliced.finding)
    if anchor is not None:
        commands.append(command("replay", "cascade", SLICE_FILE, "--event", str(anchor)))
    fixed = ["--fixed", inputs.fixed_path] if inputs.fixed_path else []
    fixed_version = ["--fixed-version", inputs.fixed_version] if inputs.fixed_path and inputs.fixed_version else []
    if inputs.fixed_path:
        versions = (["--a-version", inputs.distributed_version] if inputs.distributed_version else []) + (
            ["--b-version", inputs.fixed_version] if inputs.fixed_version else []
        )
        commands.append(command("replay", "diff", inputs.trace_path, inputs.fixed_path, *versions))
    commands.append(command("replay", "report", inputs.trace_path, *choice, *version, *fixed, *fixed_version,
                            "-o", "report.md"))  # fmt: skip
    return [*lines, "", *fenced("bash", [line for lines_of in commands for line in lines_of])]


def title_line(rule: str, key: Key | None, release: str) -> str:
    """``# `rule` on `key`, release``, the key shortened with an ellipsis when the line would pass
    :data:`WIDTH` (a heading cannot wrap; the first paragraph names the key in full)."""
    title = f"# {code(rule)} on {key_code(key)}, {release}"
    if key is None or len(title) <= WIDTH:
        return title
    text = format_key(key)
    keep = max(len(text) - (len(title) - WIDTH) - 1, 8)
    return f"# {code(rule)} on {code(text[:keep] + '…')}, {release}"


def issue_body(inputs: ReportInputs) -> str:
    """The whole report, ending with one newline."""
    finding = inputs.sliced.original
    parts = [
        [title_line(finding.rule, finding.key, release_of(inputs))],
        paragraph(finding_sentence(inputs)),
        versions_section(inputs),
        story_section(inputs),
        cascade_section(inputs),
        diff_section(inputs),
        commands_section(inputs),
    ]
    lines: list[str] = []
    for part in parts:
        if part:
            if lines:
                lines.append("")
            lines.extend(part)
    return "\n".join(lines) + "\n"
