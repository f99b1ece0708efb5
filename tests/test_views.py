"""``replay story``, ``cascade``, ``timeline``, ``stats``: golden text, exit codes, export."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli
from replay.render.theme import THEME
from tests.conftest import LARGE_RUNS, TRACES, check_golden, run_main

BUGGY = TRACES / "2024.2.1/seed/dump.msgpack.gz"
FIXED = TRACES / "2024.3.0/seed/dump.msgpack.gz"
LARGE = TRACES / "2026.8.0/large-graph/transition_log.msgpack"
TUPLE_KEYS = TRACES / "2021.12.0/mapreduce/dump.msgpack.gz"
ANSI = re.compile(r"\x1b\[")


def invoke(*args: str, width: int = 100) -> tuple[int, str, str]:
    """A command through click with a fixed-width colourless console: exit code, stdout, stderr."""
    console = Console(width=width, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, list(args), obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def golden(name: str, *args: str) -> str:
    code, out, err = invoke(*args)
    assert (code, err) == (0, "")
    check_golden(f"views/{name}.txt", out.replace(str(TRACES), "traces"))
    return out


# -- golden text on the seed traces --------------------------------------------------------


@pytest.mark.parametrize("trace", [BUGGY, FIXED], ids=["buggy", "fixed"])
def test_golden_views_on_seed(trace: Path) -> None:
    version = trace.parent.parent.name
    golden(f"story-g-ha-{version}", "story", str(trace), "g", "ha")
    golden(f"cascade-remove_b2-{version}", "cascade", str(trace), "remove_b2")
    golden(f"cascade-remove_b1-{version}", "cascade", str(trace), "remove_b1")
    golden(f"timeline-{version}", "timeline", str(trace))
    golden(f"timeline-time-{version}", "timeline", str(trace), "--by", "time")
    golden(f"stats-{version}", "stats", str(trace))


def test_golden_timeline_large_graph_groups_by_prefix() -> None:
    out = golden("timeline-large-graph", "timeline", str(LARGE))
    lanes = [line for line in out.splitlines() if line.startswith("lg-")]
    assert [lane.split(" (")[0] for lane in lanes] == ["lg-sum", "lg-leaf"]
    assert "lg-sum (2605 keys)" in out


def test_cascade_of_the_seed_bug_shows_the_override_at_a_glance() -> None:
    _, out, _ = invoke("cascade", str(BUGGY), "remove_b2")
    lines = out.splitlines()

    def line_of(fragment: str) -> int:
        return next(number for number, line in enumerate(lines) if fragment in line)

    f_erred = line_of("[16] f processing → erred")
    replaced = line_of("✗ g: erred  replaced by g: waiting from [17]")
    inner = line_of("[17] g memory → released")
    culprit = line_of("→ g: waiting ◀ culprit")
    g_waiting = line_of("[18] g released → waiting")
    ha_released = line_of("[19] ha processing → released")
    ha_waiting = line_of("[20] ha released → waiting")
    assert f_erred < replaced < inner < culprit < g_waiting < ha_released < ha_waiting
    assert "replacing g: erred from [16]" in lines[culprit] + lines[culprit + 1]
    assert "asked erred, went waiting" in lines[g_waiting]
    # nesting: each transition sits deeper than the recommendation that caused it
    indent = [len(line) - len(line.lstrip("│ ├└─")) for line in lines]
    assert indent[f_erred] < indent[replaced] < indent[inner] < indent[culprit] < indent[g_waiting]


def test_cascade_of_the_fixed_run_has_no_culprit() -> None:
    _, out, _ = invoke("cascade", str(FIXED), "remove_b2")
    assert "[16] f processing → erred" in out
    assert "culprit" not in out
    assert "replaced by" not in out


def test_cascade_marks_no_op_entries() -> None:
    _, out, _ = invoke("cascade", str(BUGGY), "remove_b1")
    assert "[13] f waiting → waiting  asked processing  · no-op" in out


def test_cascade_by_event_and_unique_prefix() -> None:
    _, by_prefix, _ = invoke("cascade", str(BUGGY), "worker-status")
    _, by_event, _ = invoke("cascade", str(BUGGY), "--event", "15")
    assert "cascade worker-status-change-1795674283.8249278" in by_prefix
    assert by_prefix == by_event


def test_cascade_limit_elides_the_rest() -> None:
    code, out, _ = invoke("cascade", str(LARGE), "update-graph", "--limit", "20")
    assert code == 0
    assert "… 10379 more transitions (--limit 0 shows all)" in out
    assert len(re.findall(r"\[\d+\] ", out)) >= 20


def test_story_shows_requested_cause_and_findings_inline() -> None:
    _, out, _ = invoke("story", str(BUGGY), "g")
    lines = out.splitlines()
    row = next(number for number, line in enumerate(lines) if line.startswith("[18]"))
    assert "released → waiting (detour 2/2)" in lines[row]
    assert " erred " in lines[row]  # asked for erred, went waiting
    assert "waiting from [17], over erred" in lines[row]
    assert "⚠ error waiting-on-erred" in lines[row + 2]
    assert "── remove_b2 ──" in out


def test_story_of_a_tuple_key_typed_as_python_does() -> None:
    code, out, err = invoke("story", str(TUPLE_KEYS), "('map', 0)")
    assert (code, err) == (0, "")
    assert out.startswith("story of ('map', 0)")
    assert "released → waiting" in out


def test_timeline_keys_and_prefixes() -> None:
    code, out, _ = invoke("timeline", str(LARGE), "--keys", "('lg-sum', 0, 0),lg-leaf")
    assert code == 0
    lanes = out.splitlines()[2:4]
    assert lanes[0].startswith("('lg-sum', 0, 0)    ")
    assert lanes[1].startswith("lg-leaf (2600 keys) ")
    assert len(out.splitlines()) == 7  # title, ruler, two lanes, axis, two legend lines


def test_timeline_puts_keys_with_findings_first_and_limits_rows() -> None:
    _, out, _ = invoke("timeline", str(BUGGY), "--limit", "2")
    lanes = [line.split()[0] for line in out.splitlines()[2:4]]
    assert lanes == ["g", "ha"]
    assert "… 2 more rows" in out


def test_stats_counts() -> None:
    _, out, _ = invoke("stats", str(BUGGY))
    assert re.search(r"released → waiting\s+7\b", out)
    assert re.search(r"task-finished\s+5\s+2\b", out)
    assert re.search(r"\bf\s+9\s+1\b", out)


# -- exit codes, errors, plain output, export --------------------------------------------


def test_unknown_key_is_a_usage_error_on_one_line() -> None:
    code, out, err = run_main("story", str(BUGGY), "gg")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("replay: error: no key 'gg' in the trace; close: g")


def test_ambiguous_stimulus_lists_the_candidates() -> None:
    code, out, err = run_main("cascade", str(BUGGY), "remove_b")
    assert code == 2
    assert out == ""
    assert err == "replay: error: stimulus 'remove_b' is ambiguous, 2 candidates: remove_b1, remove_b2\n"


def test_unknown_stimulus_and_event() -> None:
    assert run_main("cascade", str(BUGGY), "nothing")[0] == 2
    assert run_main("cascade", str(BUGGY), "--event", "99")[0] == 2
    assert run_main("cascade", str(BUGGY))[0] == 2


def test_unreadable_input_exits_3(tmp_path: Path) -> None:
    broken = tmp_path / "broken.msgpack"
    broken.write_bytes(b"\x00\x01\x02garbage")
    for command in ("story", "cascade", "timeline", "stats"):
        extra = ["g"] if command in ("story", "cascade") else []
        code, out, err = run_main(command, str(broken), *extra)
        assert code == 3, command
        assert out == ""
        assert err.startswith("replay: error: ") and err.count("\n") == 1


def test_plain_output_when_not_a_terminal_or_no_color() -> None:
    for env in ({"NO_COLOR": None}, {"NO_COLOR": "1", "FORCE_COLOR": None}):
        code, out, err = run_main("timeline", str(BUGGY), "--width", "90", env=env)
        assert code == 0
        assert err == ""
        assert not ANSI.search(out)
        assert max(len(line) for line in out.splitlines()) <= 90


def test_no_color_on_a_forced_terminal_keeps_colour_away() -> None:
    arguments = ("cascade", str(BUGGY), "remove_b2", "--no-pager")
    _, coloured, _ = run_main(*arguments, env={"FORCE_COLOR": "1", "NO_COLOR": None})
    _, plain, _ = run_main(*arguments, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert re.search(r"\x1b\[[0-9;]*3[0-7]m", coloured)  # a foreground colour
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|4[0-7]|38;|48;)", plain)


def test_export_svg_and_html_of_what_was_printed(tmp_path: Path) -> None:
    svg, html = tmp_path / "cascade.svg", tmp_path / "cascade.html"
    code, out, _ = run_main("cascade", str(BUGGY), "remove_b2", "--svg", str(svg), "--html", str(html))
    assert code == 0
    assert "[18] g released → waiting" in out
    picture = svg.read_text().replace("&#160;", " ")
    assert picture.startswith("<svg") and "replay cascade remove_b2" in picture
    assert "waiting" in picture and "culprit" in picture
    page = re.sub(r"<[^>]+>", "", html.read_text())
    assert "[18] g released → waiting" in page and "◀ culprit" in page


# -- every view on every committed trace -------------------------------------------------


def _trace_directories() -> list[Path]:
    return sorted(path for path in TRACES.glob("*/*") if path.is_dir() and path.name not in LARGE_RUNS)


def _one_form(directory: Path) -> Path:
    for name in ("dump.msgpack.gz", "transition_log.msgpack", "dump.yaml", "story.txt"):
        if (directory / name).exists():
            return directory / name
    pytest.skip(f"no trace form in {directory}")
    raise AssertionError  # unreachable: skip raises


@pytest.mark.parametrize("directory", _trace_directories(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_view_runs_on_every_trace(directory: Path) -> None:
    trace = str(_one_form(directory))
    started = time.process_time()
    code, out, _ = invoke("stats", trace)
    assert code == 0 and "transitions per edge" in out and "longest cascades" in out
    code, out, _ = invoke("timeline", trace)
    assert code == 0 and out.startswith("timeline") and "│" not in out
    code, out, _ = invoke("cascade", trace, "--event", "0", width=200)
    first_key = re.search(r"\[0\] (.+?) [a-z-]+ → [a-z-]+", out)
    assert code == 0 and first_key is not None
    code, out, _ = invoke("story", trace, first_key.group(1))
    assert code == 0 and out.startswith(f"story of {first_key.group(1)}")
    assert time.process_time() - started < 60  # CPU seconds, a wide margin: a runaway, not a speed goal


def test_views_on_the_large_graph_are_quick() -> None:
    for args in (("timeline",), ("stats",), ("cascade", "update-graph"), ("story", "('lg-sum', 0, 0)")):
        started = time.process_time()
        code, _, _ = invoke(args[0], str(LARGE), *args[1:])
        assert code == 0
        assert time.process_time() - started < 20, args  # CPU seconds, a wide margin (about 1 s alone)


def test_story_times_count_from_the_first_timestamp_in_run_and_story_alike(tmp_path: Path) -> None:
    """A first entry without a timestamp does not take the times away from ``run``'s story."""
    import json

    log = tmp_path / "log.json"
    log.write_text(json.dumps([["x", "released", "waiting", {}, "s1", None],
                               ["x", "processing", "memory", {}, "s2", 10.5]]))  # fmt: skip
    _, run_out, _ = invoke("run", str(log))
    _, story_out, _ = invoke("story", str(log), "x")
    assert "continuity" in run_out
    assert "+0.000s" in story_out
    assert "+0.000s" in run_out
