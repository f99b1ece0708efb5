"""``replay report``: a Markdown issue body that a Markdown linter accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from replay.cli import App, cli, main
from replay.render.markdown import WIDTH, code, command, escape, paragraph, table, title_line
from replay.render.theme import THEME
from tests.conftest import ROOT, TRACES, check_golden

SEED = "traces/2024.2.1/seed/dump.msgpack.gz"
FIXED = "traces/2024.3.0/seed/dump.msgpack.gz"


@pytest.fixture(autouse=True)
def in_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are given relative to the checkout: the report quotes them as given."""
    monkeypatch.chdir(ROOT)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    console = Console(width=100, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, [str(arg) for arg in args], obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def lint(text: str) -> list[str]:
    """What pymarkdownlnt says of ``text`` (default rules, GitHub tables on); skips without it."""
    api = pytest.importorskip("pymarkdown.api")
    result = api.PyMarkdownApi().enable_extension_by_identifier("markdown-tables").scan_string(text)
    assert not result.critical_errors and not result.pragma_errors
    return [f"{failure.line_number}:{failure.column_number} {failure.rule_id} {failure.rule_name}"
            f"{failure.extra_error_information}" for failure in result.scan_failures]  # fmt: skip


def _bug_reports() -> list[tuple[str, str | None]]:
    """``(buggy dump, fixed dump or None)`` of every committed scheduler bug trace."""
    pairs = []
    for expected in sorted(TRACES.glob("*/*/expected.json")):
        document = json.loads(expected.read_text())
        if document["verdict"] != "bug" or document.get("side", "scheduler") == "worker":
            continue
        directory = expected.parent
        release = document["fix"]["first_fixed"]  # None: still unfixed
        fixed = TRACES / release / directory.name / "dump.msgpack.gz" if release else None
        pairs.append((str((directory / "dump.msgpack.gz").relative_to(ROOT)),
                      str(fixed.relative_to(ROOT)) if fixed is not None and fixed.exists() else None))  # fmt: skip
    return pairs


# -- the seed pair -------------------------------------------------------------------------------


def test_the_seed_report_golden() -> None:
    code_, out, err = invoke("report", SEED, "--fixed", FIXED)
    assert (code_, err) == (0, "")
    check_golden("report/seed-2024.2.1-vs-2024.3.0.md", out)


def test_the_seed_report_passes_the_linter() -> None:
    out = invoke("report", SEED, "--fixed", FIXED)[1]
    assert lint(out) == []


def test_the_seed_report_fits_and_has_every_section() -> None:
    out = invoke("report", SEED, "--fixed", FIXED)[1]
    assert max(len(line) for line in out.splitlines()) <= WIDTH
    assert out.startswith("# `waiting-on-erred` on `g`, distributed 2024.2.1\n")
    headings = [line for line in out.splitlines() if line.startswith("#")]
    assert headings[1:] == ["## Versions", "## The sliced story", "## The cascade", "## Against a fixed release",
                            "## Reproduce"]  # fmt: skip
    assert "| `distributed` | `2024.2.1` |" in out
    assert "| 2 | 18 | `g` released → waiting | [1] waiting over [0] erred | `g`: waiting |" in out
    assert "◀ culprit" in out and "```text\n" in out and "```bash\n" in out
    assert "| A | 16 | `f` processing → erred | `g`: erred |\n| B | 16 | `f` processing → erred | none |" in out
    assert "replay slice traces/2024.2.1/seed/dump.msgpack.gz --finding 1 -o slice.jsonl\n" in out
    # plain Markdown: no escape codes, no rich markup
    assert "\x1b" not in out and "[bold" not in out and "[/" not in out


def test_the_commands_of_the_report_reproduce_what_it_says(tmp_path: Path) -> None:
    out = invoke("report", SEED, "--fixed", FIXED)[1]
    slice_file = tmp_path / "slice.jsonl"
    assert invoke("slice", SEED, "--finding", "1", "-o", slice_file)[0] == 0
    cascade = invoke("cascade", slice_file, "--event", "2", "--width", str(WIDTH))[1]
    fenced = out.split("```text\n", 1)[1].split("```", 1)[0]
    assert fenced.splitlines()[0] == cascade.splitlines()[0]
    assert "└── [0] f processing → erred  ← stimulus root" in fenced


# -- every bug trace -----------------------------------------------------------------------------


@pytest.mark.parametrize(("trace", "fixed"), _bug_reports(), ids=str)
def test_the_report_of_every_bug_trace_passes_the_linter(trace: str, fixed: str | None) -> None:
    args = ["report", trace] + (["--fixed", fixed] if fixed else [])
    code_, out, err = invoke(*args)
    assert (code_, err) == (0, "")
    assert lint(out) == []
    assert "\x1b" not in out


def test_a_bare_log_report_says_where_its_release_came_from() -> None:
    log = "traces/2024.2.1/seed/transition_log.msgpack"
    code_, out, _ = invoke("report", log, "--distributed-version", "2024.2.1")
    assert code_ == 0
    assert ("The trace carries no versions block: distributed `2024.2.1`, as given with\n`--distributed-version`."
            in out)  # fmt: skip
    assert f"replay run {log} \\\n  --distributed-version 2024.2.1\n" in out
    assert lint(out) == []


def test_report_to_a_file_and_by_key(tmp_path: Path) -> None:
    output = tmp_path / "report.md"
    code_, out, err = invoke("report", SEED, "--key", "ha", "-o", output)
    assert (code_, out) == (0, "")
    assert err.endswith(f"wrote the report to {output}\n")
    text = output.read_text()
    assert text.startswith("# `deadlock` on `ha`, distributed 2024.2.1\n")
    assert "--finding 4" in text


def test_a_report_with_nothing_to_report_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["report", FIXED])
    assert raised.value.code == 2
    assert capsys.readouterr().err == "replay: error: no finding to slice: the replay found nothing\n"


# -- Markdown pieces -----------------------------------------------------------------------------


def test_a_table_that_does_not_fit_becomes_a_list() -> None:
    rows = [["1", "`" + "long-key-" * 10 + "`"]]
    assert table(["#", "key"], rows)[0] == "| # | key |"
    listed = table(["#", "key"], rows, lambda row: f"{row[0]}: {row[1]}")
    assert listed == ["- 1:", "  `" + "long-key-" * 10 + "`"]
    assert table(["#", "key"], [["1", ""]])[2] == "| 1 | none |"


def test_code_spans_escapes_and_commands() -> None:
    assert code("g") == "`g`"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    assert escape("_a_ <b> [c] |d|") == "\\_a\\_ \\<b\\> \\[c\\] \\|d\\|"
    assert paragraph("x " * 35 + "`a long code span`") == ["x " * 34 + "x", "`a long code span`"]
    long = command("replay", "diff", "a" * 40, "b" * 40)
    assert long == ["replay diff " + "a" * 40 + " \\", "  " + "b" * 40]
    assert command("replay", "slice", "it's") == ["replay slice 'it'\"'\"'s'"]


def test_a_title_too_long_for_a_heading_shortens_the_key_alone() -> None:
    assert title_line("deadlock", "g", "distributed 2024.2.1") == "# `deadlock` on `g`, distributed 2024.2.1"
    long_key = ("random_sample-cd6a871e8dde3b81028fcdf33ff15f04", 0)
    title = title_line("dump-final-state", long_key, "distributed 2024.7.0")
    assert title == "# `dump-final-state` on `('random_sample-cd6a871e8dde3b8…`, distributed 2024.7.0"
    assert len(title) == WIDTH
