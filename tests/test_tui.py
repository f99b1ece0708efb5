"""``replay tui``: the session model, every key binding driven by textual's pilot, the screens, the command."""

from __future__ import annotations

import asyncio
import html
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path

import pytest
from rich.cells import cell_len

from replay.events import Key
from replay.ingest import open_trace
from replay.machine import Replayer
from replay.provenance import ReplayResult, replay_trace, trace_release
from replay.render.theme import THEME
from tests.conftest import ROOT, TRACES, check_golden, run_main

pytest.importorskip("textual")

from textual.pilot import Pilot  # noqa: E402 - after the skip

from replay.tui.app import BINDINGS, HELP, EntryList, HelpScreen, KeyList, MainScreen, Prompt, ReplayTui, parse_keys  # noqa: E402
from replay.tui.session import History, Session, natural  # noqa: E402
from replay.tui.text import Palette  # noqa: E402

SEED = TRACES / "2024.2.1/seed/dump.msgpack.gz"
LARGE = TRACES / "2026.8.0/large-graph/transition_log.msgpack"
TUPLE_KEYS = TRACES / "2021.12.0/mapreduce/dump.msgpack.gz"
SEED_VALIDATE = TRACES / "2024.2.1/seed-validate/dump.msgpack.gz"


@cache
def loaded(path: Path) -> tuple[ReplayResult, Session]:
    trace = open_trace(path)
    result = replay_trace(trace)
    return result, Session(result, trace.graph)


def session_of(path: Path) -> Session:
    return loaded(path)[1]


# -- what a screenshot says, read back from the SVG --------------------------------------

_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" clip-path="url\(#[\w-]+-line-(\d+)\)">(.*?)</text>'
)
#: rich writes a cell every 0.61 x 20 px
_CELL = 12.2


def svg_lines(svg: str) -> list[str]:
    """The text of an SVG screenshot, line by line, each chunk at its column."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for x, line, content in _SVG_TEXT.findall(svg):
        rows.setdefault(int(line), []).append((round(float(x) / _CELL), html.unescape(content).replace("\xa0", " ")))
    lines = []
    for number in range(max(rows, default=-1) + 1):
        line = ""
        for column, chunk in sorted(rows.get(number, [])):
            line += " " * (column - cell_len(line)) + chunk
        lines.append(line.rstrip())
    return lines


def screen_text(app: ReplayTui) -> str:
    return "\n".join(svg_lines(app.export_screenshot())) + "\n"


def drive(path: Path, scenario: Callable[[Pilot[None], ReplayTui, MainScreen], Awaitable[None]],
          size: tuple[int, int] = (80, 24)) -> None:  # fmt: skip
    """Run ``scenario`` against the app on ``path``, headless, at ``size``."""
    session = session_of(path)

    async def run() -> None:
        app = ReplayTui(session, Palette(THEME.styles))
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            assert app.main is not None
            await scenario(pilot, app, app.main)

    asyncio.run(run())


async def keys(pilot: Pilot[None], *pressed: str) -> None:
    await pilot.press(*pressed)
    await pilot.pause()


# -- the session: states at any entry, causes, jumps -------------------------------------


def naive_states(result: ReplayResult, position: int) -> dict[Key, str]:
    """Every key's state after entry ``position``, by replaying from the start."""
    states: dict[Key, str] = {}
    for step in result.steps[: position + 1]:
        states[step.key] = step.transition.finish
    return states


@pytest.mark.parametrize("path", [SEED, LARGE, TUPLE_KEYS], ids=["seed", "large", "tuple-keys"])
@pytest.mark.parametrize("every", [1, 7, 256])
def test_states_at_any_entry_equal_a_replay_from_the_start(path: Path, every: int) -> None:
    result, _ = loaded(path)
    trace = open_trace(path)
    session = Session(result, trace.graph, checkpoint_every=every)
    count = len(result.steps)
    assert len(session._checkpoints) == -(-count // every)
    positions = sorted({0, 1, every - 1, every, every + 1, count // 2, count - 2, count - 1} & set(range(count)))
    for position in reversed(positions):  # backwards too: nothing carries over from the last answer
        expected = naive_states(result, position)
        states = session.states_after(position)
        shown = {session.keys[key_id]: session.state_name(states[key_id]) for key_id in session.world(position)}
        assert shown == expected, position
    assert {session.keys[k]: session.state_after(session.keys[k], count - 1) for k in session.world(count - 1)} == {
        key: state for key, state in result.final_states.items() if key in session.key_ids
    }


@pytest.mark.parametrize("path", [SEED, LARGE, TUPLE_KEYS, SEED_VALIDATE], ids=["seed", "large", "tuple-keys", "validate"])
def test_the_graph_is_the_one_the_replay_inferred(path: Path) -> None:
    trace = open_trace(path)
    replayer = Replayer(trace_release(trace), trace.graph)
    replayer.run(trace.iter_transitions())
    session = session_of(path)
    assert session.graph.dependencies == replayer.world.graph.dependencies
    assert session.graph.dependents == replayer.world.graph.dependents


def test_seed_opens_at_the_first_error_and_its_cause_is_the_detour() -> None:
    session = session_of(SEED)
    assert session.opening_position() == 18
    assert session.cause_position(18) == 17
    culprit = session.culprit(18)
    assert (culprit.event, culprit.state, culprit.overrode and culprit.overrode.event) == (17, "waiting", 16)
    g_waiting, ha_waiting = session.emitted(17)
    assert (g_waiting.recommendation.key, g_waiting.recommendation.state) == ("g", "waiting")
    assert "waiting-on-erred" in g_waiting.culprit_of
    assert g_waiting.overriding is not None
    assert (g_waiting.overriding.state, g_waiting.overriding.event) == ("erred", 16)
    assert ha_waiting.culprit_of == ("deadlock",)
    assert session.cause_position(16) is None  # f processing -> erred: the stimulus itself


def test_opening_falls_back_to_the_first_warning_then_the_first_entry() -> None:
    validate = session_of(SEED_VALIDATE)
    errors = [p for p in validate.finding_positions if validate.worst_severity(p) == "error"]
    assert validate.opening_position() == (errors[0] if errors else validate.finding_positions[0])
    assert session_of(LARGE).opening_position() == 0
    result, _ = loaded(SEED)
    warnings_only = Session(result.only(f for f in result.findings if f.severity == "warning"))
    assert warnings_only.opening_position() == 17


def test_findings_keys_stimuli_and_search() -> None:
    session = session_of(SEED)
    assert session.finding_positions == [17, 18, 20]
    assert session.next_finding(18) == 20
    assert session.next_finding(18, forward=False) == 17
    assert session.next_finding(20) is None
    assert session.key_entries("g") == [2, 6, 7, 17, 18]
    assert session.same_key(18, forward=False) == 17
    assert session.same_key(18) is None
    assert session.same_stimulus(16) == 17
    assert session.same_stimulus(16, forward=False) is None
    assert session.search("remove_b2", 0) == (16, False)
    assert session.search("g", 18) == (2, True)  # wraps past the end
    assert session.search("ha", 4) == (9, False)
    assert session.search("nothing", 0) == (None, False)
    assert session.latest_entry_of(session.key_ids["f"], 13) == 13


def test_world_filters_and_neighbours() -> None:
    session = session_of(SEED)
    names = [session.keys[k] for k in session.world(18)]
    assert names == ["f", "g", "ha", "hb"]
    assert [session.keys[k] for k in session.world(18, state="erred")] == ["f", "hb"]
    assert [session.keys[k] for k in session.world(18, prefix="h")] == ["ha", "hb"]
    assert session.world(18, state="memory") == []
    assert [session.keys[k] for k in session.world(3)] == ["f", "g", "hb"]
    dependencies, dependents = session.neighbours("g", 18)
    assert [(n.key, n.state) for n in dependencies] == [("f", "erred")]
    assert [(n.key, n.state) for n in dependents] == [("ha", "processing"), ("hb", "erred")]
    assert session.state_counts(18) == [("erred", 2), ("waiting", 1), ("processing", 1)]


def test_inferred_edges_appear_at_the_entry_that_revealed_them() -> None:
    session = session_of(LARGE)
    key = session.steps[0].key
    dependencies, _ = session.neighbours(key, 0)
    assert dependencies and all(n.evidence == 0 for n in dependencies)
    evidence = min(e for e in session.graph.dependents_of(dependencies[0].key).values() if e is not None)
    assert evidence == 0


def test_world_lists_keys_with_numbers_in_order_and_by_task_prefix() -> None:
    session = session_of(TUPLE_KEYS)
    last = len(session) - 1
    maps = [session.key_texts[k] for k in session.world(last, prefix="map")]
    assert maps[:3] == ["('map', 0)", "('map', 1)", "('map', 2)"]
    assert natural("('x', 10)") > natural("('x', 9)")


def test_history_is_a_stack() -> None:
    history = History()
    for position in (3, 3, 7):
        history.remember(position)
    assert len(history) == 2
    assert (history.back(), history.back(), history.back()) == (7, 3, None)


def test_a_crafted_trace_with_many_state_names_shares_one_code() -> None:
    from replay.events import SchedulerTransition, Trace, TraceMetadata

    transitions = tuple(
        SchedulerTransition(f"k{n}", "released", f"state-{n}", {}, "s", float(n)) for n in range(300)
    )
    trace = Trace(metadata=TraceMetadata(path="crafted", format="log-json"), transitions=transitions)
    session = Session(replay_trace(trace))
    assert session.state_after("k10", 299) == "state-10"
    assert session.state_after("k299", 299) == "(another unknown state)"


# -- every binding, driven by the pilot ---------------------------------------------------


def test_help_names_every_binding() -> None:
    shown = {key for keys_, _ in HELP for key in keys_.split()}
    names = {"slash": "/", "question_mark": "?", "down": "↓", "up": "↑"}
    for binding in BINDINGS:
        for key in binding.key.split(","):
            assert names.get(key, key) in shown, key


#: Every key of :data:`BINDINGS`, and the pilot test that presses it.
PRESSED: set[str] = set()


def tour(path: Path) -> None:
    """Press every binding on ``path``, from the middle of the log, checking where each goes."""
    session = session_of(path)
    last = len(session) - 1
    middle = session.finding_positions[-1] if session.finding_positions else last // 2

    async def scenario(pilot: Pilot[None], app: ReplayTui, main: MainScreen) -> None:
        entries = main.query_one(EntryList)
        opening = session.opening_position()
        assert main.position == opening

        async def press(*pressed: str) -> None:
            PRESSED.update(pressed)
            await keys(pilot, *pressed)

        async def go(position: int) -> None:
            await press("g", *str(position), "enter")
            assert main.position == position

        async def reset() -> None:  # back to the middle without keys (g is pressed above)
            main.go_to(middle)
            await pilot.pause()

        await go(middle)
        assert entries.position == middle
        assert app.position == middle
        # back: to where g came from
        await press("b")
        assert main.position == opening
        await reset()

        expected_moves = {
            "j": min(middle + 1, last), "down": min(middle + 1, last),
            "k": max(middle - 1, 0), "up": max(middle - 1, 0),
            "home": 0, "end": last,
            "n": session.next_finding(middle) or middle,
            "N": session.next_finding(middle, forward=False) or middle,
            "c": session.cause_position(middle) or middle,
            "t": session.same_key(middle) or middle,
            "T": session.same_key(middle, forward=False) or middle,
            "s": session.same_stimulus(middle) or middle,
            "S": session.same_stimulus(middle, forward=False) or middle,
        }  # fmt: skip
        for key, target in expected_moves.items():
            await press(key)
            assert main.position == target, (key, main.position, target)
            await reset()
        await press("pagedown")
        assert main.position > middle or middle == last
        await press("pageup")
        assert main.position <= middle

        # c, then b comes back
        await reset()
        await press("c")
        await press("b")
        if session.cause_position(middle) is not None:
            assert main.position == middle

        # search: the start of the first entry's key; an empty answer repeats the last search
        query = session.key_texts[session.key_ids[session.steps[0].key]][:4]
        await press("slash", *query, "enter")
        expected, _ = session.search(query, middle)
        assert main.position == expected
        await press("slash", "enter")
        assert main.position == session.search(query, expected)[0]
        await reset()

        # d and u scroll the detail
        detail = main.query_one("#detail-scroll")
        await press("d")
        scrolled = detail.scroll_offset.y
        await press("u")
        assert detail.scroll_offset.y <= scrolled

        # tab without the world stays on the entries
        await press("tab")
        assert entries.has_focus

        # the world: w, f, F, tab, enter
        await press("w")
        world = main.query_one("#world")
        key_list = main.query_one(KeyList)
        assert world.display and not main.query_one("#detail-scroll").display
        current_key = session.steps[middle].key
        assert key_list.selected_key_id == session.key_ids[current_key]
        prefix = session.key_texts[session.key_ids[current_key]][:3]
        await press("f", *prefix, "enter")
        assert main.prefix == prefix
        assert key_list.rows and all(k in session._matching_prefix(prefix) for k in key_list.rows)
        await press("f", "ctrl+u", "enter")  # an empty prefix: every key again
        assert main.prefix == ""
        await press("F")
        first_state = session.states_seen()[0]
        assert main.state_filter == first_state
        states = session.states_after(middle)
        assert all(session.state_name(states[k]) == first_state for k in key_list.rows)
        for _ in session.states_seen():
            await press("F")
        assert main.state_filter is None
        await press("tab")
        assert key_list.has_focus
        await press("end")
        chosen = key_list.selected_key_id
        assert chosen is not None
        await press("enter")
        assert main.position == session.latest_entry_of(chosen, middle)
        await press("tab")
        assert entries.has_focus
        await press("w")
        assert not world.display

        # help, then quit
        await press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "keys of replay tui" in text and "go to the cause" in text
        await press("question_mark")
        assert app.screen is main
        await press("q")
        assert app.quitting

    drive(path, scenario)


@pytest.mark.parametrize("path", [SEED, LARGE], ids=["seed", "large"])
def test_every_binding_on_a_real_trace(path: Path) -> None:
    tour(path)
    every = {key for binding in BINDINGS for key in binding.key.split(",")}
    assert every <= PRESSED


def test_prompts_say_what_went_wrong_and_escape_cancels() -> None:
    async def scenario(pilot: Pilot[None], app: ReplayTui, main: MainScreen) -> None:
        await keys(pilot, "g", "9", "9", "enter")
        assert main.position == 18
        assert "no entry '99': entries are 0 to 20" in main.message.plain
        await keys(pilot, "g")
        assert isinstance(app.screen, Prompt)
        await keys(pilot, "1", "escape")
        assert app.screen is main and main.position == 18
        await keys(pilot, "slash", "z", "z", "enter")
        assert "no key or stimulus id starts with 'zz'" in main.message.plain
        await keys(pilot, "n")
        assert main.position == 20
        await keys(pilot, "n")
        assert main.message.plain == "no later finding"
        await keys(pilot, "b", "b", "b")
        assert main.message.plain == "nothing to go back to"
        await keys(pilot, "g", "1", "6", "enter", "c")
        assert main.position == 16
        assert "stimulus itself" in main.message.plain

    drive(SEED, scenario)


def test_clicking_an_entry_selects_it() -> None:
    async def scenario(pilot: Pilot[None], app: ReplayTui, main: MainScreen) -> None:
        entries = main.query_one(EntryList)
        top = round(entries.scroll_offset.y)
        await pilot.click(EntryList, offset=(5, 1))
        await pilot.pause()
        assert main.position == top + 1

    drive(SEED, scenario)


def test_an_empty_log_opens_and_every_key_is_harmless(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    trace = open_trace(empty)
    session = Session(replay_trace(trace), trace.graph)

    async def run() -> None:
        app = ReplayTui(session)
        async with app.run_test() as pilot:
            await pilot.pause()
            await keys(pilot, "j", "k", "n", "N", "c", "b", "g", "t", "T", "s", "S", "w", "f", "F", "tab", "enter",
                       "d", "u", "home", "end", "pagedown", "slash")  # fmt: skip
            assert app.main is not None
            assert "no entries" in app.main.message.plain
            assert app.position is None

    asyncio.run(run())


# -- the screens -------------------------------------------------------------------------


def golden_screen(name: str, path: Path, pressed: tuple[str, ...], size: tuple[int, int] = (80, 24)) -> list[str]:
    """The screen after ``pressed``, compared with tests/golden/tui/NAME.txt."""
    shown: list[str] = []

    async def scenario(pilot: Pilot[None], app: ReplayTui, main: MainScreen) -> None:
        await keys(pilot, *pressed)
        text = screen_text(app)
        shown.extend(text.splitlines())
        check_golden(f"tui/{name}.txt", text)

    drive(path, scenario, size)
    assert len(shown) == size[1]
    assert all(cell_len(line) <= size[0] for line in shown)
    return shown


def test_golden_seed_opens_at_the_error() -> None:
    lines = golden_screen("seed-opening", SEED, ())
    assert lines[0].startswith("replay tui dump.msgpack.gz · 2024.2.1 · [18] of 21 · ✗ 4 errors ⚠ 1 warning")
    assert any(line.startswith("✗▶ 18 ") for line in lines)
    assert any(line.startswith("cause     g: waiting from [17] g memory → released, overriding g: erred from")
               for line in lines)  # fmt: skip


def test_golden_seed_cause_shows_the_culprit_beside_what_it_overrode() -> None:
    lines = golden_screen("seed-cause", SEED, ("c",))
    assert any(line.startswith("⚠▶ 17 ") for line in lines)
    assert "emitted    → g: waiting ◀ culprit, overriding g: erred from [16]" in lines


def test_golden_seed_world_and_help() -> None:
    lines = golden_screen("seed-world", SEED, ("w",))
    assert any(line.startswith("▶•g ") and "waiting" in line for line in lines)
    golden_screen("seed-help", SEED, ("question_mark",))


def test_golden_large_graph() -> None:
    golden_screen("large-graph-middle", LARGE, ("g", *"15600", "enter"))
    golden_screen("large-graph-world", LARGE, ("g", *"15600", "enter", "w", "f", *"lg-sum", "enter", "F"))


def test_golden_other_sizes() -> None:
    golden_screen("seed-cause-120x30", SEED, ("c",), size=(120, 30))
    lines = golden_screen("seed-wide-160x40", SEED, ("c",), size=(160, 40))
    assert any("emitted    → g: waiting ◀ culprit, overriding g: erred from [16]" in line for line in lines)
    assert any("▶•g " in line for line in lines)  # the world beside the detail


# -- the command -------------------------------------------------------------------------


def test_keys_and_screenshot_on_the_seed_show_the_cause_of_the_error(tmp_path: Path) -> None:
    picture = tmp_path / "s.svg"
    code, out, err = run_main("tui", str(SEED), "--keys", "c", "--screenshot", str(picture))
    assert (code, err) == (0, "")
    assert out == "entry 17  g memory → released  remove_b2\n"
    lines = svg_lines(picture.read_text())
    selected = [line for line in lines if "▶" in line[:3]]
    assert len(selected) == 1 and selected[0].startswith("⚠▶ 17 ") and "g    memory     → released" in selected[0]
    culprit = next(line for line in lines if "◀ culprit" in line and "g: waiting" in line)
    assert culprit.startswith("emitted    → g: waiting ◀ culprit, overriding g: erred from [16]")
    assert any(line.startswith("[17] g memory → released") for line in lines)


def test_keys_alone_run_headless_and_say_where_they_ended() -> None:
    code, out, err = run_main("tui", str(SEED), "--keys", "g3<enter>tt")  # hb's entries: 3, 8, 10
    assert (code, err) == (0, "")
    assert out == "entry 10  hb processing → erred  remove_b1\n"
    code, out, _ = run_main("tui", str(SEED), "--keys", "nq")
    assert (code, out) == (0, "entry 20  ha released → waiting  remove_b2\n")


def test_screenshot_when_q_quits_first_and_at_another_size(tmp_path: Path) -> None:
    picture = tmp_path / "q.svg"
    code, _, _ = run_main("tui", str(SEED), "--keys", "kq", "--screenshot", str(picture), "--size", "100x30")
    assert code == 0
    lines = svg_lines(picture.read_text())
    assert len(lines) == 30
    assert any(line.startswith("⚠▶ 17 ") for line in lines)


def test_no_color_draws_no_colour(tmp_path: Path) -> None:
    picture = tmp_path / "plain.svg"
    code, _, _ = run_main("tui", str(SEED), "--screenshot", str(picture), env={"NO_COLOR": "1"})
    assert code == 0
    svg = picture.read_text()
    colours = set(re.findall(r"(?:fill|color): ?#([0-9a-f]{6})", svg))
    assert colours
    for colour in colours:
        red, green, blue = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
        assert max(red, green, blue) - min(red, green, blue) <= 8, colour  # greys only
    assert any(line.startswith("✗▶ 18 ") for line in svg_lines(svg))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--keys", "<entr>"), "unknown key <entr>"),
        (("--size", "80by24"), "is not COLUMNSxROWS"),
        (("--size", "20x5"), "too small"),
    ],
)
def test_bad_options_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    code, _, err = run_main("tui", str(SEED), *args)
    assert code == 2
    assert message in err


def test_a_screenshot_that_cannot_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    code, _, err = run_main("tui", str(SEED), "--screenshot", str(tmp_path / "missing" / "s.svg"))
    assert code == 3
    assert err.startswith("replay: error: ") and err.count("\n") == 1


def test_without_a_terminal_it_asks_for_one() -> None:
    code, _, err = run_main("tui", str(SEED))
    assert code == 2
    assert err == "replay: error: replay tui needs a terminal (or --keys / --screenshot to run without one)\n"


def test_unreadable_input_exits_3(tmp_path: Path) -> None:
    broken = tmp_path / "broken.msgpack"
    broken.write_bytes(b"\x00\x01garbage")
    code, _, err = run_main("tui", str(broken), "--keys", "q")
    assert code == 3
    assert err.startswith("replay: error: ") and err.count("\n") == 1


def test_parse_keys() -> None:
    assert parse_keys("g17<enter>") == ["g", "1", "7", "enter"]
    assert parse_keys("/('x', 0)<enter>") == ["/", "(", "'", "x", "'", ",", " ", "0", ")", "enter"]
    assert parse_keys("<lt>a<") == ["<", "a", "<"]
    assert parse_keys("a<b c>") == ["a", "<", "b", " ", "c", ">"]
    with pytest.raises(ValueError, match="unknown key <entr>"):
        parse_keys("<entr>")


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)


def test_without_textual_tui_says_how_to_install_it_and_exits_3() -> None:
    done = python(
        "import sys\n"
        "sys.modules['textual'] = None  # as if it were not installed\n"
        "from replay.cli import main\n"
        f"main(['tui', {str(SEED)!r}, '--keys', 'q'])\n"
    )
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == "replay: error: replay tui needs textual: pip install 'dask-replay[tui]'\n"


def test_no_other_command_imports_textual() -> None:
    done = python(
        "import sys, importlib\n"
        "from replay.cli import cli, main\n"
        "for name in ('replay.cli_views', 'replay.cli_diff', 'replay.cli_tui', 'replay.cli_slice',\n"
        "             'replay.cli_worker', 'replay.cli_reconcile', 'replay.cli_scan'):\n"
        "    importlib.import_module(name)\n"
        "for args in (['--help'], ['tui', '--help'], ['run', " + repr(str(SEED)) + ", '--json']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('textual' in sys.modules, file=sys.stderr)\n"
    )
    assert done.stderr.strip().splitlines()[-1] == "False", done.stderr
    assert "tui " in done.stdout and "Walk through TRACE" in done.stdout


def test_only_the_tui_package_and_its_command_import_textual() -> None:
    importers = set()
    for path in sorted((ROOT / "replay").rglob("*.py")):
        if re.search(r"^\s*(from|import) textual\b", path.read_text(), re.MULTILINE):
            importers.add(path.relative_to(ROOT).as_posix())
    assert importers == {"replay/tui/app.py"}
