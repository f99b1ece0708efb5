"""``replay slice``: the smallest sub-trace that still reproduces one finding, written losslessly."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgpack
import pytest
from click.testing import CliRunner
from rich.console import Console

from replay import slice as slicing
from replay.cli import App, cli, main
from replay.errors import UsageError
from replay.events import SchedulerTransition, Trace
from replay.ingest import open_trace
from replay.provenance import Culprit, Finding, Overrode, ReplayResult, replay_trace
from replay.render.theme import THEME
from replay.slice import (
    KINDS,
    NotReproducedError,
    Slice,
    check_encoded,
    choose_finding,
    ddmin,
    encode_slice,
    finding_identity,
    read_slice_header,
    slice_trace,
)
from replay.testing import finding_line, finding_lines, graph_of, slice_as_test, table_from, trace_of
from tests.conftest import ROOT, TRACES

SEED = TRACES / "2024.2.1/seed"
SEED_DUMP = SEED / "dump.msgpack.gz"
LARGE = TRACES / "2026.8.0/benchmark-large/dump.msgpack.gz"
#: The two forms the slice is checked on: a dump (task table, counter) and a bare log (told its release).
FORMS = ("dump.msgpack.gz", "transition_log.msgpack")


def _bug_traces() -> list[tuple[str, str]]:
    """``(directory, release)`` of every committed scheduler bug trace."""
    found = []
    for expected in sorted(TRACES.glob("*/*/expected.json")):
        document = json.loads(expected.read_text())
        if document["verdict"] == "bug" and document.get("side", "scheduler") != "worker":
            found.append((str(expected.parent.relative_to(TRACES)), document["release"]))
    return found


BUG_TRACES = _bug_traces()
_TRACES: dict[tuple[str, str], tuple[Trace, ReplayResult]] = {}


def replayed(directory: str, form: str, release: str) -> tuple[Trace, ReplayResult]:
    """A bug trace read and replayed once (a bare log told its release, as a user would)."""
    if (directory, form) not in _TRACES:
        trace = open_trace(TRACES / directory / form)
        trace = replace(trace, transitions=trace.materialise())
        version = release if form == "transition_log.msgpack" else None
        _TRACES[directory, form] = (trace, replay_trace(trace, version))
    return _TRACES[directory, form]


def _cases() -> list[tuple[str, str, str, int]]:
    cases = []
    for directory, release in BUG_TRACES:
        for form in FORMS:
            _, result = replayed(directory, form, release)
            cases.extend((directory, form, release, number) for number in range(len(result.findings)))
    return cases


CASES = _cases()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    console = Console(width=100, no_color=True, force_terminal=False, theme=THEME, highlight=False)
    result = CliRunner().invoke(cli, [str(arg) for arg in args], obj=App(console=console), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def exit_code_of(*args: str | Path) -> int:
    """The exit code of the real entry point, in process (its error mapping included)."""
    with pytest.raises(SystemExit) as raised:
        main([str(arg) for arg in args])
    return int(raised.value.code or 0)


def size_bound(events: int) -> float:
    """What a slice may hold: at most 30 entries, or a fifth of the trace."""
    return max(30, 0.2 * events)


# -- what "the same finding" means ------------------------------------------------------------


def _finding(event: int | None, culprit_event: int | None, overrode_event: int | None = 16) -> Finding:
    overrode = None if overrode_event is None else Overrode(event=overrode_event, state="erred")
    culprit = Culprit(event=culprit_event, key="g", state="waiting", overrode=overrode)
    return Finding(rule="waiting-on-erred", severity="error", event=event, key="g", stimulus_id="s",
                   message="anything", culprit=culprit)  # fmt: skip


def test_the_same_finding_is_compared_through_the_origins() -> None:
    original = _finding(18, 17, 16)
    renumbered = _finding(2, 1, 0)
    assert finding_identity(renumbered, [16, 17, 18]) == finding_identity(original)
    # the same numbers but another entry of the trace behind the culprit: another finding
    assert finding_identity(renumbered, [16, 15, 18]) != finding_identity(original)
    assert finding_identity(_finding(2, 1, None), [16, 17, 18]) != finding_identity(original)
    # the message is not compared; the rule, the key and the culprit's state are
    assert finding_identity(renumbered.model_copy(update={"message": "other"}), [16, 17, 18]) == finding_identity(original)
    assert finding_identity(renumbered.model_copy(update={"rule": "deadlock"}), [16, 17, 18]) != finding_identity(original)


def test_a_finding_without_entries_is_the_same_without_them() -> None:
    counter = Finding(rule="counter-ahead", severity="error", event=None, key=None, stimulus_id=None, message="m")
    assert finding_identity(counter, []) == finding_identity(counter)


# -- ddmin -------------------------------------------------------------------------------------


def test_ddmin_finds_a_one_minimal_subset() -> None:
    needed = {3, 17, 18}
    tests: list[list[int]] = []

    def reproduces(units: list[int]) -> bool:
        tests.append(units)
        return needed <= set(units)

    assert ddmin(list(range(40)), reproduces) == [3, 17, 18]
    assert len(tests) < 200


def test_ddmin_keeps_what_an_interaction_needs() -> None:
    # either pair reproduces: the answer is one pair, and no one unit of it can go
    def reproduces(units: list[int]) -> bool:
        return {1, 2} <= set(units) or {5, 6} <= set(units)

    found = ddmin(list(range(8)), reproduces)
    assert found in ([1, 2], [5, 6])


def test_ddmin_tries_nothing_first() -> None:
    assert ddmin([1, 2, 3], lambda units: True) == []


# -- choosing the finding -----------------------------------------------------------------------


def test_the_default_is_the_first_error_finding() -> None:
    _, result = replayed("2024.2.1/seed", "dump.msgpack.gz", "2024.2.1")
    assert result.findings[0].severity == "warning"
    assert choose_finding(result) == 1
    assert choose_finding(result, key="ha") == 4
    assert choose_finding(result, number=0) == 0


@pytest.mark.parametrize(("number", "key", "message"), [
    (9, None, "no finding 9: the replay found 5 (numbered 0 to 4, as run --json lists them)"),
    (None, "hb", "no finding on key 'hb'"),
])  # fmt: skip
def test_a_finding_that_is_not_there_is_a_usage_error(number: int | None, key: str | None, message: str) -> None:
    _, result = replayed("2024.2.1/seed", "dump.msgpack.gz", "2024.2.1")
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        choose_finding(result, number, key)


# -- every committed bug trace ------------------------------------------------------------------


@pytest.mark.parametrize(("directory", "form", "release", "number"), CASES, ids=str)
def test_the_slice_of_every_finding_of_every_bug_trace_reproduces_it(
    directory: str, form: str, release: str, number: int
) -> None:
    trace, result = replayed(directory, form, release)
    version = release if form == "transition_log.msgpack" else None
    sliced = slice_trace(trace, number=number, distributed_version=version, result=result)
    assert len(sliced.origins) <= size_bound(sliced.events)
    assert sliced.search.minimal
    assert list(sliced.origins) == sorted(sliced.origins)
    # replayed on its own (no option: the slice says its release), the same finding comes out
    again = replay_trace(sliced.trace)
    target = finding_identity(result.findings[number])
    assert any(finding_identity(finding, sliced.origins) == target for finding in again.findings)
    # every entry of the slice is an entry of the trace, less the recommendations naming dropped keys
    entries = trace.materialise()
    kept = set(sliced.keys)
    for entry, origin in zip(sliced.trace.materialise(), sliced.origins):
        original = entries[origin]
        assert entry.key in kept
        assert entry._replace(recommendations={}) == original._replace(recommendations={})
        assert entry.recommendations == {key: state for key, state in original.recommendations.items() if key in kept}


@pytest.mark.parametrize(("directory", "release"), BUG_TRACES, ids=str)
def test_the_first_error_finding_of_every_bug_trace_slices_small_in_both_forms(directory: str, release: str) -> None:
    for form in FORMS:
        trace, result = replayed(directory, form, release)
        version = release if form == "transition_log.msgpack" else None
        if not result.errors:  # a bare log whose only evidence is in a dump (test_known_bugs.SILENT_LOGS)
            with pytest.raises(UsageError, match="no finding to slice"):
                slice_trace(trace, distributed_version=version, result=result)
            continue
        sliced = slice_trace(trace, distributed_version=version, result=result)
        assert sliced.original.severity == "error"
        assert len(sliced.origins) <= size_bound(sliced.events), (form, len(sliced.origins))
        for kind in KINDS:
            check_encoded(sliced, encode_slice(sliced, kind))


def test_slice_sizes_on_the_bug_traces() -> None:
    """The figures the issue asked for: entries kept by the default slice of each form."""
    sizes = {}
    for directory, release in BUG_TRACES:
        for form in FORMS:
            trace, result = replayed(directory, form, release)
            if result.errors:
                version = release if form == "transition_log.msgpack" else None
                sliced = slice_trace(trace, distributed_version=version, result=result)
                sizes[directory, form] = (len(sliced.origins), sliced.events)
    assert sizes[("2024.2.1/seed", "dump.msgpack.gz")] == (3, 21)
    assert sizes[("2022.12.0/bug-7402", "dump.msgpack.gz")] == (5, 50)
    assert all(kept <= size_bound(events) for kept, events in sizes.values())


# -- what is kept stays consistent ---------------------------------------------------------------


def test_a_task_table_keeps_the_rows_of_kept_keys_only() -> None:
    trace, result = replayed("2024.2.1/seed", "dump.msgpack.gz", "2024.2.1")
    sliced = slice_trace(trace, result=result)
    graph = sliced.trace.graph
    assert graph is not None and graph.source == "dump"
    kept = set(sliced.keys)
    assert set(graph.tasks) == kept == {"f", "g"}
    for task in graph.tasks.values():
        for references in (task.dependencies, task.dependents, task.waiters or (), task.waiting_on or ()):
            assert set(references) <= kept
    assert graph.tasks["g"].dependencies == ("f",)
    assert graph.tasks["f"].dependents == ("g",)  # ha and hb dropped
    assert sliced.dropped_rows == 2


def test_a_counter_ahead_keeps_the_counter_difference() -> None:
    trace, result = replayed("2024.2.1/seed-validate", "dump.msgpack.gz", "2024.2.1")
    number = next(position for position, f in enumerate(result.findings) if f.rule == "counter-ahead")
    sliced = slice_trace(trace, number=number, result=result)
    counter = sliced.trace.metadata.transition_counter
    assert trace.metadata.transition_counter is not None and counter is not None
    assert counter - len(sliced.origins) == trace.metadata.transition_counter - sliced.events == 1
    assert sliced.finding.rule == "counter-ahead" and sliced.finding.key == "g"


def test_a_counter_ahead_the_log_shows_no_cause_of_is_the_counter_alone() -> None:
    trace, result = replayed("2022.11.1/bug-7348", "dump.msgpack.gz", "2022.11.1")
    sliced = slice_trace(trace, result=result)
    assert (sliced.original.rule, sliced.original.key, len(sliced.origins)) == ("counter-ahead", None, 0)
    assert sliced.trace.metadata.transition_counter == 1
    assert finding_lines(sliced.trace) == ["counter-ahead@? ?"]


def test_a_bare_log_slice_carries_the_release_it_was_replayed_as() -> None:
    trace, result = replayed("2024.2.1/seed", "transition_log.msgpack", "2024.2.1")
    assert trace.metadata.distributed_version is None
    sliced = slice_trace(trace, distributed_version="2024.2.1", result=result)
    assert sliced.trace.metadata.distributed_version == "2024.2.1"
    assert sliced.trace.graph is None


def test_other_findings_say_whether_the_trace_has_them() -> None:
    trace, result = replayed("2024.2.1/seed", "dump.msgpack.gz", "2024.2.1")
    sliced = slice_trace(trace, result=result)
    others = {(finding.rule, finding.key): also for finding, also in sliced.other_findings()}
    assert others == {("detour-override", "g"): True, ("dependency-erred-or-forgotten", "g"): True,
                      ("deadlock", "g"): True, ("leaked-task", "g"): False}  # fmt: skip


def test_the_first_step_widens_when_the_cause_chain_is_not_enough() -> None:
    # y is stuck waiting on x, which waits on w, which erred: the deadlock's chain runs two hops
    # from y, through x, which no recommendation and no cause names, only the task graph
    trace = trace_of(
        ("w", "released", "waiting", {}, "graph"),
        ("x", "released", "waiting", {}, "graph"),
        ("y", "released", "waiting", {}, "graph"),
        ("w", "waiting", "processing", {}, "graph"),
        ("w", "processing", "erred", {}, "failed"),
        graph=graph_of(x=["w"], y=["x"]),
    )
    result = replay_trace(trace, "2024.2.1")
    number = next(p for p, f in enumerate(result.findings) if f.rule == "deadlock" and f.key == "y")
    sliced = slice_trace(trace, number=number, distributed_version="2024.2.1", result=result)
    assert set(sliced.keys) == {"w", "x", "y"}
    assert sliced.search.start == "two hops"
    assert sliced.keys["w"] == "a dependency of x"


def test_a_capped_search_still_reproduces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slicing, "MAX_REPLAYS", 2)
    trace, result = replayed("2022.12.0/bug-7402", "dump.msgpack.gz", "2022.12.0")
    sliced = slice_trace(trace, result=result)
    assert not sliced.search.minimal
    assert sliced.header()["search"]["max_replays"] == 2
    target = finding_identity(sliced.original)
    assert any(finding_identity(f, sliced.origins) == target for f in replay_trace(sliced.trace).findings)


# -- the written slice ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_written_slice_is_replays_own_format_with_its_header(kind: str, tmp_path: Path) -> None:
    trace, result = replayed("2024.2.1/seed", "dump.msgpack.gz", "2024.2.1")
    sliced = slice_trace(trace, result=result)
    path = tmp_path / f"slice.{kind}"
    path.write_bytes(encode_slice(sliced, kind))
    read = open_trace(path)
    assert read.metadata.format == f"replay-{kind}"
    assert read.materialise() == sliced.trace.materialise()
    assert read.graph == sliced.trace.graph
    header = read_slice_header(path)
    assert header is not None
    assert header == json.loads(json.dumps(sliced.header()))
    assert header["entries"] == [16, 17, 18]
    assert header["finding"]["in_trace"] == result.findings[1].to_json()
    assert header["finding"]["in_slice"]["event"] == 2
    assert [item["key"] for item in header["keys"]] == ["g", "f"]
    assert header["keys"][0]["why"] == "the finding's key"
    assert header["dropped"] == {"entries": 18, "keys": 2, "stimuli": 5, "recommendations": 2, "task_rows": 2,
                                 "worker_records": 0}  # fmt: skip
    assert header["transition_counter"] == {"trace": 21, "slice": 3}
    assert header["search"]["start"] == "cause chain" and header["search"]["minimal"] is True


def test_the_msgpack_slice_puts_its_header_after_the_graph(tmp_path: Path) -> None:
    trace, result = replayed("2024.2.1/seed", "dump.msgpack.gz", "2024.2.1")
    document = msgpack.unpackb(encode_slice(slice_trace(trace, result=result), "msgpack"), strict_map_key=False)
    assert list(document) == ["format", "version", "metadata", "graph", "slice", "worker_records", "transitions"]


def test_a_slice_that_does_not_reproduce_is_refused() -> None:
    trace, result = replayed("2024.2.1/seed", "dump.msgpack.gz", "2024.2.1")
    sliced = slice_trace(trace, result=result)
    broken = replace(sliced, trace=replace(sliced.trace, transitions=sliced.trace.materialise()[:2]))
    with pytest.raises(NotReproducedError, match="does not reproduce finding 1 \\(waiting-on-erred\\)"):
        check_encoded(broken, encode_slice(broken, "jsonl"))


# -- the command ---------------------------------------------------------------------------------


def test_the_command_writes_a_slice_every_command_reads(tmp_path: Path) -> None:
    output = tmp_path / "seed.jsonl"
    code, out, err = invoke("slice", SEED_DUMP, "-o", output)
    assert (code, out) == (0, "")
    assert err == (f"slice of 3 of 21 entries, 2 key(s), 1 stimulus run(s); reproduces waiting-on-erred at entry 2 "
                   f"(entry 18 of the trace) on g; wrote {output}\n")  # fmt: skip
    assert not (tmp_path / "seed.jsonl.partial").exists()
    code, out, _ = invoke("run", output, "--json")
    assert code == 1
    assert [f["rule"] for f in json.loads(out)["findings"]][:2] == ["detour-override", "waiting-on-erred"]
    for args in (("story", output, "g"), ("cascade", output, "--event", "2"), ("timeline", output),
                 ("stats", output), ("info", output), ("diff", output, output)):  # fmt: skip
        assert invoke(*args)[0] == 0, args
    assert invoke("convert", output, "--to", "msgpack", "-o", tmp_path / "again.msgpack")[0] == 0


@pytest.mark.parametrize(("name", "kind"), [("s.msgpack", "replay-msgpack"), ("s.json", "replay-json"),
                                            ("s.txt", "replay-jsonl")])  # fmt: skip
def test_the_format_follows_the_suffix(name: str, kind: str, tmp_path: Path) -> None:
    assert invoke("slice", SEED_DUMP, "-o", tmp_path / name)[0] == 0
    assert open_trace(tmp_path / name).metadata.format == kind


def test_finding_and_key_choose_the_finding(tmp_path: Path) -> None:
    assert invoke("slice", SEED_DUMP, "--key", "ha", "-o", tmp_path / "ha.jsonl")[0] == 0
    header = read_slice_header(tmp_path / "ha.jsonl")
    assert header is not None and header["finding"]["number"] == 4
    assert header["finding"]["in_slice"]["rule"] == "deadlock" and header["finding"]["in_slice"]["key"] == "ha"
    assert invoke("slice", SEED_DUMP, "--finding", "0", "-o", tmp_path / "w.jsonl")[0] == 0
    header = read_slice_header(tmp_path / "w.jsonl")
    assert header is not None and header["finding"]["in_trace"]["rule"] == "detour-override"


def test_a_bare_log_needs_its_release_only_once(tmp_path: Path) -> None:
    output = tmp_path / "log.jsonl"
    assert invoke("slice", SEED / "transition_log.msgpack", "--distributed-version", "2024.2.1", "-o", output)[0] == 0
    code, out, _ = invoke("run", output)
    assert code == 1
    assert "distributed 2024.2.1 · 3 events" in out


@pytest.mark.parametrize("args", [
    ("--finding", "9"), ("--key", "zzz"), ("--key", "hb"), ("--finding", "1", "--key", "g"),
])  # fmt: skip
def test_no_such_finding_exits_2(args: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "never.jsonl"
    assert exit_code_of("slice", SEED_DUMP, *args, "-o", output) == 2
    assert capsys.readouterr().err.startswith("replay: error: ")
    assert not output.exists()


def test_a_trace_without_error_findings_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    silent = TRACES / "2022.11.1/bug-7348/transition_log.msgpack"
    assert exit_code_of("slice", silent, "--distributed-version", "2022.11.1", "-o", tmp_path / "s.jsonl") == 2
    assert capsys.readouterr().err == "replay: error: no finding to slice: the replay found nothing\n"


def test_a_slice_that_does_not_reproduce_exits_3_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    encode = slicing.encode_slice

    def losing_an_entry(sliced: Slice, kind: str) -> bytes:
        shorter = replace(sliced.trace, transitions=sliced.trace.materialise()[:-1])
        return encode(replace(sliced, trace=shorter), kind)

    monkeypatch.setattr(slicing, "encode_slice", losing_an_entry)
    output = tmp_path / "never.jsonl"
    assert exit_code_of("slice", SEED_DUMP, "-o", output) == 3
    assert capsys.readouterr().err == (
        f"replay: error: {SEED_DUMP}: the slice, written and read back, does not reproduce finding 1 (waiting-on-erred)\n"
    )
    assert not output.exists() and not list(tmp_path.iterdir())


def test_an_output_that_cannot_be_written_exits_3(tmp_path: Path) -> None:
    assert exit_code_of("slice", SEED_DUMP, "-o", tmp_path / "missing" / "s.jsonl") == 3


def test_standard_input_and_output() -> None:
    dump = SEED_DUMP.read_bytes()
    done = subprocess.run([sys.executable, "-m", "replay", "slice", "-", "-o", "-"], input=dump, capture_output=True,
                          cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    header = json.loads(done.stdout.split(b"\n", 1)[0])
    assert header["slice"]["source"]["path"] == "<stdin>"
    assert header["slice"]["entries"] == [16, 17, 18]


@pytest.mark.parametrize("command", ["slice", "report"])
def test_help_has_examples_and_exit_codes(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert "Examples:" in out and "Exit codes: 0 done" in out
    assert "3, writing nothing, when the slice does not reproduce the finding" in " ".join(out.split())


# -- the large trace -----------------------------------------------------------------------------


#: The entry of benchmark-large given one more recommendation, so that the trace holds a finding:
#: ('bench2-sum', 0, 1999) finishes and at once recommends itself released (an unwanted run).
INJECTED_AT = 140319
INJECTED_KEY = ("bench2-sum", 0, 1999)


def injected_large_trace() -> Trace:
    trace = open_trace(LARGE)
    entries = list(trace.materialise())
    entry = entries[INJECTED_AT]
    assert entry.key == INJECTED_KEY and (entry.start, entry.finish) == ("processing", "memory")
    entries[INJECTED_AT] = entry._replace(recommendations={**entry.recommendations, INJECTED_KEY: "released"})
    return replace(trace, transitions=tuple(entries))


@pytest.mark.skipif(not LARGE.exists(), reason="benchmark-large is not in this checkout")
def test_a_finding_injected_into_the_large_trace_slices_to_a_few_entries() -> None:
    trace = injected_large_trace()
    sliced = slice_trace(trace)
    assert sliced.events == 172_272
    assert finding_line(sliced.original) == (
        "unwanted-run@140308 ('bench2-sum', 0, 1999) <- [140307] ('bench2-sum', 0, 1999): processing"
    )
    assert sliced.origins == (140307, 140308, 140319, 140320)
    assert sliced.search.start == "cause chain" and sliced.search.minimal
    assert sliced.search.replayed_entries < 1_000
    check_encoded(sliced, encode_slice(sliced, "msgpack"))


# -- a slice as a regression test ----------------------------------------------------------------


def test_generated_seed_regression() -> None:
    """A slice of traces/2024.2.1/seed/dump.msgpack.gz: 3 of 21 entries, reproducing finding 1 (waiting-on-erred)."""
    trace = trace_of(
        ("f", "processing", "erred", {"g": "erred"}, "remove_b2"),
        ("g", "memory", "released", {"g": "waiting"}, "remove_b2"),
        ("g", "released", "waiting", {"g": "waiting"}, "remove_b2"),
        graph=table_from({
            "f": {"state": "erred", "dependents": ("g",), "who_wants": ("Client-1180395b-e962-11f1-9c35-02fc00000001",), "waiters": ("g",)},
            "g": {"state": "waiting", "dependencies": ("f",), "waiting_on": ("f",)},
        }),
        counter=3,
        workers=("tcp://127.0.0.1:45895",),
    )
    assert "waiting-on-erred@2 g <- [1] g: waiting (over [0] erred)" in finding_lines(trace, "2024.2.1")


def test_the_generated_seed_regression_is_what_slice_as_test_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    sliced = slice_trace(open_trace(Path("traces/2024.2.1/seed/dump.msgpack.gz")))
    source = slice_as_test(sliced.trace, sliced.finding, name="test_generated_seed_regression")
    assert source == inspect.getsource(test_generated_seed_regression)


def _run_generated(source: str) -> str:
    namespace: dict[str, Any] = {"trace_of": trace_of, "finding_lines": finding_lines, "table_from": table_from}
    exec(compile(source, "<generated>", "exec"), namespace)  # noqa: S102 - the test's own generated source
    tests = [name for name in namespace if name.startswith("test_")]
    assert len(tests) == 1
    namespace[tests[0]]()
    return tests[0]


@pytest.mark.parametrize(("directory", "release"), BUG_TRACES, ids=str)
def test_every_bug_trace_slice_becomes_a_passing_regression_test(directory: str, release: str) -> None:
    for form in FORMS:
        trace, result = replayed(directory, form, release)
        if not result.errors:
            continue
        version = release if form == "transition_log.msgpack" else None
        sliced = slice_trace(trace, distributed_version=version, result=result)
        name = _run_generated(slice_as_test(sliced.trace, sliced.finding))
        assert name.startswith(f"test_{sliced.finding.rule.replace('-', '_')}_on_")


def test_generated_sources_spell_odd_keys_as_python() -> None:
    entries = [SchedulerTransition(("x", 1.5, ("y",)), "released", "waiting", {'q"uote': "waiting"}, None, 0.0),
               SchedulerTransition('q"uote', "released", "waiting", {}, None, 1.0)]  # fmt: skip
    trace = replace(trace_of(), transitions=tuple(entries))
    result = replay_trace(trace)
    finding = Finding(rule="r", severity="error", event=0, key=("x", 1.5, ("y",)), stimulus_id=None, message="m")
    source = slice_as_test(trace, finding, name="test_odd")
    assert "((\"x\", 1.5, (\"y\",)), \"released\", \"waiting\", {'q\"uote': \"waiting\"}, None)," in source
    assert "assert \"r@0 ('x', 1.5, ('y',))\" in finding_lines(trace, None)" in source
    assert result.events == 2
