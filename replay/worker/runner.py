"""Re-execute one worker's stimulus log through the ``WorkerState`` of the installed distributed.

A STANDALONE script: it imports only the standard library, msgpack and distributed, keeps
Python 3.10 syntax, and runs inside an old release's environment where replay is not
installed::

    /venv/bin/python runner.py < input.msgpack > output.msgpack

It is also imported in-process (:func:`reexecute`) when the installed distributed is the
dump's own release. The input is one msgpack map: the worker's facts (``address``,
``nthreads``, ``resources``, ``stringified_keys``: keys were strings before 2023.9.0) and its
``stimuli`` (``index``, ``cls``, ``stimulus_id``, ``key``, ``handled``, ``fields``: every
other field as the dump wrote it). The output is one msgpack map: the ``release``, per
stimulus handled the new log ``entries`` (plain lists), the ``instructions`` (class and key)
and the ``violations`` of replay's own checks, the first ``exception`` (re-execution stops
there), and what had to be ``filled`` in because a dump leaves it out.

Task keys are put back in the release's form: in the stringified era a tuple key is its
``str``; in the native era a map key spelled ``"['t', 0]"`` becomes the tuple ``('t', 0)``,
read with :func:`ast.literal_eval` (a literal parser: nothing is ever evaluated).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
import traceback
from collections import deque
from typing import Any

#: The version of the input and output documents.
FORMAT = 1
#: Fields of an event that are maps keyed by task keys, and lists of task keys.
KEY_MAPS = ("who_has", "nbytes", "data")
KEY_LISTS = ("keys",)
#: Most characters of an exception's message, and traceback lines, kept.
MESSAGE_CHARACTERS = 4000
TRACEBACK_LINES = 12
#: Tolerance of the resource accounting (the releases' own check uses the same).
RESOURCE_TOLERANCE = 1e-9


def reexecute(document: dict[str, Any]) -> dict[str, Any]:
    """Re-execute the stimuli of ``document`` (the input map) and return the output map."""
    output: dict[str, Any] = {
        "format": FORMAT,
        "release": None,
        "python": sys.version.split()[0],
        "stimuli": [],
        "exception": None,
        "filled": [],
        "error": None,
    }
    try:
        import distributed
        from distributed import worker_state_machine as machine
    except ImportError as error:
        output["error"] = f"cannot import distributed: {error}"
        return output
    release = str(getattr(distributed, "__version__", "unknown"))
    output["release"] = release
    if not hasattr(machine, "WorkerState"):
        output["error"] = f"distributed {release} has no WorkerState (it arrived in 2022.6.1)"
        return output
    Execution(machine, document, output).run()
    return output


class Execution:
    """One re-execution: a fresh WorkerState fed the stimuli one by one."""

    def __init__(self, machine: Any, document: dict[str, Any], output: dict[str, Any]) -> None:
        self.machine = machine
        self.document = document
        self.output = output
        self.stringified = bool(document.get("stringified_keys"))
        resources = document.get("resources")
        self.total_resources: dict[str, float] = dict(resources) if isinstance(resources, dict) else {}
        # each GatherDep instruction emitted so far, newest last: fills what old dumps leave out
        self.gathers: list[tuple[str, frozenset[Any], int]] = []

    def run(self) -> None:
        state = self.new_state()
        for stimulus in self.document.get("stimuli", ()):
            index = stimulus.get("index")
            record: dict[str, Any] = {"index": index, "entries": [], "instructions": [], "violations": []}
            try:
                event = self.rebuild(stimulus, state)
            except Exception as error:
                self.output["exception"] = exception_record(error, index, "rebuild", stimulus.get("key"))
                return
            self.output["stimuli"].append(record)
            try:
                instructions = state.handle_stimulus(event)
            except Exception as error:
                record["entries"] = drain(state)
                self.output["exception"] = exception_record(error, index, "handle_stimulus", failing_key(error, event))
                return
            record["entries"] = drain(state)
            record["instructions"] = [self.instruction(instruction) for instruction in instructions]
            try:
                state.validate_state()
            except Exception as error:
                self.output["exception"] = exception_record(error, index, "validate_state", failing_key(error, event))
                return
            record["violations"] = self.checks(state, event, record["entries"])

    def new_state(self) -> Any:
        """A fresh WorkerState built with the arguments this release's constructor takes."""
        state_class = self.machine.WorkerState
        accepted = inspect.signature(state_class.__init__).parameters
        arguments: dict[str, Any] = {
            "address": self.document.get("address"),
            "nthreads": self.document.get("nthreads") or 1,
            "threads": {},
            "data": {},
            "validate": True,
            "resources": dict(self.total_resources) if self.total_resources else None,
        }
        extra = self.document.get("state_options")
        if isinstance(extra, dict):
            arguments.update(extra)
        state = state_class(**{name: value for name, value in arguments.items() if name in accepted})
        # the dump's own bound kept the newest entries only; here every entry is wanted
        state.log = deque()
        state.stimulus_log = deque()
        return state

    def fill(self, index: Any, cls: str, field: str, how: str) -> None:
        """Count what was filled in, once per kind (thousands of events share one)."""
        for filled in self.output["filled"]:
            if (filled["cls"], filled["field"], filled["how"]) == (cls, field, how):
                filled["count"] += 1
                return
        self.output["filled"].append(
            {"cls": cls, "field": field, "how": how, "count": 1, "first_stimulus_index": index}
        )

    def rebuild(self, stimulus: dict[str, Any], state: Any) -> Any:
        """The event, through the release's own ``StateMachineEvent.from_dict``."""
        cls_name = str(stimulus.get("cls"))
        index = stimulus.get("index")
        event_class = self.machine.StateMachineEvent._classes.get(cls_name)
        if event_class is None:
            raise LookupError(f"this release has no event class {cls_name}")
        fields = dict(stimulus.get("fields") or {})
        known = {field.name: field for field in dataclasses.fields(event_class)}
        for name in list(fields):
            if name not in known:
                del fields[name]
                self.fill(index, cls_name, name, "dropped: not a field of this release's class")
        for name in KEY_MAPS:
            if isinstance(fields.get(name), dict):
                fields[name] = {self.key(key): value for key, value in fields[name].items()}
        for name in KEY_LISTS:
            if isinstance(fields.get(name), list | tuple):
                fields[name] = [self.key(key) for key in fields[name]]
        if "key" in known:
            fields["key"] = self.key(stimulus.get("key"))
        if "priority" in fields and isinstance(fields["priority"], list):
            fields["priority"] = tuple(fields["priority"])
        if "run_spec" in known:
            if fields.get("run_spec") is not None:
                self.fill(index, cls_name, "run_spec", "None: the dump holds only its repr")
            fields["run_spec"] = None
        self.fill_gather(index, cls_name, fields, known, set(getattr(state, "in_flight_workers", ())))
        for name, field in known.items():
            required = (
                field.init and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            )
            if required and name not in fields and name not in ("stimulus_id", "handled"):
                raise TypeError(f"{cls_name} of stimulus {index} lacks {name!r} and replay cannot tell it")
        fields["cls"] = cls_name
        fields["stimulus_id"] = stimulus.get("stimulus_id")
        fields["handled"] = stimulus.get("handled")
        event = self.machine.StateMachineEvent.from_dict(fields)
        if cls_name == "ComputeTaskEvent":
            self.fill_run_spec(index, event)
        return event

    def fill_run_spec(self, index: Any, event: Any) -> None:
        """A stand-in run_spec: the release's own dummy, or what its ``from_dict`` left."""
        dummy = getattr(type(event), "dummy_runspec", None)
        if dummy is not None:
            takes_key = len(inspect.signature(dummy).parameters) >= 1
            event.run_spec = dummy(event.key) if takes_key else dummy()
            self.fill(index, "ComputeTaskEvent", "run_spec", "ComputeTaskEvent.dummy_runspec")
        elif event.run_spec is not None:
            self.fill(index, "ComputeTaskEvent", "run_spec", "the empty SerializedTask of from_dict")
        else:
            self.fill(index, "ComputeTaskEvent", "run_spec", "None")

    def fill_gather(
        self, index: Any, cls_name: str, fields: dict[str, Any], known: dict[str, Any], in_flight: set[str]
    ) -> None:
        """``worker`` and ``total_nbytes`` of a GatherDep*Event, which dumps up to 2022.8.0 leave out.

        They come from the GatherDep instruction this re-execution emitted for the same keys
        (or, for an event without keys, for the one peer still in flight).
        """
        missing = [name for name in ("worker", "total_nbytes") if name in known and name not in fields]
        if not missing or not cls_name.startswith("GatherDep"):
            return
        wanted = frozenset(fields.get("data") or ())
        match = None
        for worker, keys, total in reversed(self.gathers):
            if (wanted and wanted <= keys) or (not wanted and worker in in_flight):
                match = (worker, total)
                break
        if match is None:
            raise TypeError(f"{cls_name} of stimulus {index} lacks {missing} and no GatherDep instruction matches it")
        for name in missing:
            value = match[0] if name == "worker" else match[1]
            fields[name] = value
            self.fill(index, cls_name, name, "from the GatherDep instruction re-executed for its keys")

    def key(self, key: Any) -> Any:
        """A task key in the release's own form (a stringified-era string is already in it)."""
        if self.stringified:
            return str(as_tuple(key)) if isinstance(key, list | tuple) else key
        if isinstance(key, str) and key[:1] in "([" and key[-1:] in ")]":
            try:
                parsed = ast.literal_eval(key)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                parsed = key
            if isinstance(parsed, list | tuple):
                key = parsed
        return as_tuple(key)

    def instruction(self, instruction: Any) -> dict[str, Any]:
        name = type(instruction).__name__
        if name == "GatherDep":
            self.gathers.append(
                (instruction.worker, frozenset(instruction.to_gather), int(getattr(instruction, "total_nbytes", 0)))
            )
        return {"cls": name, "key": plain(getattr(instruction, "key", None))}

    def checks(self, state: Any, event: Any, entries: list[Any]) -> list[dict[str, Any]]:
        """replay's own invariants after a stimulus, for what a release's validate_state misses."""
        violations = []
        resources = self.resource_violation(state, entries)
        if resources is not None:
            violations.append(resources)
        if type(event).__name__ == "SecedeEvent":
            task = state.tasks.get(event.key)
            if task is not None and task in state.executing:
                violations.append(
                    {
                        "check": "seceded-task-executing",
                        "key": plain(event.key),
                        "message": f"{event.key} ({task.state}) still counts as executing after its thread "
                        "seceded: it keeps a thread slot it no longer uses, and the scheduler is not told "
                        "it is long-running",
                    }
                )
        return violations

    def resource_violation(self, state: Any, entries: list[Any]) -> dict[str, Any] | None:
        """Available resources plus those held by running tasks must be the worker's total."""
        if not self.total_resources or not hasattr(state, "available_resources"):
            return None
        available = dict(state.available_resources)
        held: dict[str, float] = {}
        holders = []
        for task in running_tasks(state):
            restrictions = getattr(task, "resource_restrictions", None) or {}
            if restrictions:
                holders.append(task)
            for name, amount in restrictions.items():
                held[name] = held.get(name, 0.0) + amount
        balance = {
            name: available.get(name, 0.0) + held.get(name, 0.0) - total for name, total in self.total_resources.items()
        }
        if all(abs(value) < RESOURCE_TOLERANCE for value in balance.values()):
            return None
        moved = [entry[0] for entry in entries if isinstance(entry, list) and entry]
        suspects = [task.key for task in holders if task.key in moved]
        if not suspects:
            restricted = [key for key in moved if getattr(state.tasks.get(key), "resource_restrictions", None)]
            suspects = restricted[-1:]
        key = suspects[0] if suspects else None
        return {
            "check": "resources-unaccounted",
            "key": plain(key),
            "message": f"available {rounded(available)} + held by running tasks {rounded(held)} "
            f"({', '.join(str(task.key) for task in holders) or 'none'}) is not the worker's "
            f"{rounded(self.total_resources)}",
        }


def failing_key(error: BaseException, event: Any) -> Any:
    """The task an exception names (InvalidTransition and InvalidTaskState do), else the event's."""
    key = getattr(error, "key", None)
    return key if key is not None else getattr(event, "key", None)


def running_tasks(state: Any) -> list[Any]:
    """The tasks occupying a thread (``long_running`` held keys up to 2022.7)."""
    tasks = []
    for item in [*state.executing, *state.long_running]:
        task = state.tasks.get(item) if isinstance(item, str | tuple | int | float) else item
        if task is not None and task not in tasks:
            tasks.append(task)
    return tasks


def rounded(amounts: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 9) for name, value in amounts.items()}


def drain(state: Any) -> list[Any]:
    """The log entries written since the last call, as plain lists (the log is emptied)."""
    entries = [plain(entry) for entry in state.log]
    state.log.clear()
    return entries


def as_tuple(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(as_tuple(item) for item in value)
    return value


def plain(value: Any) -> Any:
    """``value`` with only msgpack's types: lists, maps, strings, numbers, None."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, dict):
        return {hashable(plain(key)): plain(item) for key, item in value.items()}
    return repr(value)


def hashable(value: Any) -> Any:
    return tuple(hashable(item) for item in value) if isinstance(value, list) else value


def exception_record(error: BaseException, index: Any, where: str, key: Any) -> dict[str, Any]:
    """The first exception: its type, message, where it was raised and the last frames."""
    name = type(error).__name__
    kind = name if name in ("InvalidTransition", "InvalidTaskState", "AssertionError") else "other"
    # the frames of distributed, not of this script
    frames = [frame for frame in traceback.format_tb(error.__traceback__) if __file__ not in frame]
    lines = [line for frame in frames for line in frame.rstrip("\n").split("\n")]
    return {
        "stimulus_index": index,
        "where": where,
        "type": name,
        "kind": kind,
        "message": str(error)[:MESSAGE_CHARACTERS],
        "key": plain(key),
        "traceback": lines[-TRACEBACK_LINES:],
    }


def main() -> int:
    """Read the input map from standard input, write the output map to standard output."""
    import msgpack

    document = msgpack.unpackb(sys.stdin.buffer.read(), raw=False, use_list=False, strict_map_key=False)
    output = reexecute(document if isinstance(document, dict) else {})
    sys.stdout.buffer.write(msgpack.packb(output, use_bin_type=True))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
