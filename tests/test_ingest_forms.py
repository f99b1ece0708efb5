"""Every reader on real committed traces: the same run reads the same in every form."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.ingest import detect_format, open_trace
from tests.conftest import LARGE_RUNS, TRACES, forms_of

SEED_RUNS = sorted(path.parent for path in TRACES.glob("*/seed*/meta.json"))
ALL_RUNS = sorted(path.parent for path in TRACES.glob("*/*/meta.json") if path.parent.name not in LARGE_RUNS)


def test_seed_runs_are_committed() -> None:
    names = {f"{run.parent.name}/{run.name}" for run in SEED_RUNS}
    assert {"2024.2.1/seed", "2024.2.1/seed-validate", "2024.3.0/seed"} <= names


@pytest.mark.parametrize("run", ALL_RUNS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_form_gives_identical_events(run: Path) -> None:
    forms = forms_of(run)
    assert len(forms) >= (2 if run.name == "large-graph" else 4), forms
    reference = open_trace(forms[0]).materialise()
    assert reference
    for form in forms[1:]:
        assert open_trace(form).materialise() == reference, form.name


def test_seed_entries_as_captured() -> None:
    entries = open_trace(TRACES / "2024.2.1/seed/dump.msgpack.gz").materialise()
    assert len(entries) == 21
    f_erred, g_inner, g_outer = entries[16], entries[17], entries[18]
    assert (f_erred.key, f_erred.start, f_erred.finish, f_erred.recommendations) == ("f", "processing", "erred", {"g": "erred"})
    assert (g_inner.key, g_inner.start, g_inner.finish) == ("g", "memory", "released")
    assert g_inner.recommendations == {"g": "waiting", "ha": "waiting"}
    assert (g_outer.start, g_outer.finish, g_outer.stimulus_id) == ("released", "waiting", "remove_b2")


def test_dump_metadata_and_graph() -> None:
    trace = open_trace(TRACES / "2024.2.1/seed/dump.yaml", worker_logs=True)
    assert trace.metadata.format == "dump-yaml"
    assert trace.metadata.distributed_version == "2024.2.1"
    assert trace.metadata.transition_counter == 21
    assert trace.graph is not None
    assert trace.graph.tasks["g"].dependencies == ("f",)
    assert set(trace.graph.tasks["g"].dependents) == {"ha", "hb"}
    assert trace.graph.tasks["f"].state == "erred"
    kinds = {record.kind for record in trace.worker_records}
    assert kinds == {"worker-transition", "worker-event"}


@pytest.mark.parametrize("form", ["transition_log.msgpack", "dump.msgpack.gz", "dump.yaml", "story.txt", "client_story.msgpack"])
def test_tuple_and_int_keys_are_native(form: str) -> None:
    entries = open_trace(TRACES / "2026.8.0/mapreduce" / form).materialise()
    keys = {entry.key for entry in entries}
    assert ("map", 0) in keys
    assert any(isinstance(key, int) and not isinstance(key, bool) for key in keys)
    tuple_recommended = {key for entry in entries for key in entry.recommendations if isinstance(key, tuple)}
    assert tuple_recommended


@pytest.mark.parametrize("release", ["2022.5.0", "2021.12.0"])
def test_stringified_keys_become_tuples(release: str) -> None:
    trace = open_trace(TRACES / release / "mapreduce/dump.yaml")
    entries = trace.materialise()
    assert ("map", 0) in {entry.key for entry in entries}
    assert trace.metadata.stringified_keys
    assert trace.metadata.entry_fields == (6 if release == "2022.5.0" else 5)
    if release == "2021.12.0":
        assert all(entry.stimulus_id is None for entry in entries)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("transition_log.msgpack", "log-msgpack"),
        ("dump.msgpack.gz", "dump-msgpack"),
        ("dump.yaml", "dump-yaml"),
        ("story.txt", "story-text"),
        ("story_pprint.txt", "story-text"),
        ("client_story.msgpack", "client-story-msgpack"),
    ],
)
def test_format_is_detected_by_content(name: str, expected: str, tmp_path: Path) -> None:
    # The name is never trusted: the same bytes under a meaningless name read the same.
    renamed = tmp_path / "capture.bin"
    renamed.write_bytes((TRACES / "2024.2.1/seed" / name).read_bytes())
    assert open_trace(renamed).metadata.format == expected
    assert detect_format(renamed) in {"msgpack", "yaml", "text", "json-or-text"}
