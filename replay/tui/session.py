"""What ``replay tui`` knows about a replayed trace: positions, jumps, and the world at any entry.

No textual here: the screens only show what a :class:`Session` computes, so it is tested
without a terminal. The state of every key after entry N is never a replay from the
start: a copy of every key's state is kept every :data:`CHECKPOINT_EVERY` entries (one
byte a key), and the state after N is the nearest copy at or before it plus the finish
states of the few entries between, which is all a replayed step does to a state.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from replay.events import Key, TaskGraph
from replay.keys import format_key
from replay.machine.graph import Graph
from replay.machine.steps import DETOUR_INNER, DETOUR_OUTER, Recommendation, Step
from replay.provenance import Culprit, Finding, ReplayResult, culprit_of
from replay.stats import key_prefix

#: Entries between two saved copies of every key's state: a jump replays at most this many.
CHECKPOINT_EVERY = 256
#: State codes are bytes: 0 is "not in the log yet", 1 to 254 name states, and every state
#: name past the 254th (only a crafted trace has that many) shares the last code.
_NOT_YET = 0
_OTHER_STATE = 255
OTHER_STATE_NAME = "(another unknown state)"
#: Worst first, for marking an entry by its worst finding.
SEVERITY_ORDER = ("error", "warning", "info")


_DIGITS = re.compile(r"(\d+)")


def natural(text: str) -> list[str | int]:
    """``('x', 10)`` after ``('x', 9)``: runs of digits compare as numbers."""
    parts: list[str | int] = []
    for number, part in enumerate(_DIGITS.split(text)):
        parts.append(int(part) if number % 2 else part)
    return parts


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A dependency or dependent of the selected key, as it stood after an entry."""

    key: Key
    #: its state after the entry (None: the log has not shown it yet)
    state: str | None
    #: the entry whose recommendations revealed the edge (None: the dump's task table)
    evidence: int | None


@dataclass(frozen=True, slots=True)
class Emitted:
    """One recommendation an entry emitted, with what the rest of the trace did with it."""

    recommendation: Recommendation
    #: rules of the findings whose culprit this recommendation is
    culprit_of: tuple[str, ...]
    #: the different request for the same key it overrode or replaced, if any
    overriding: Recommendation | None
    #: the later recommendation that replaced it before it was popped, if any
    replaced_by: Recommendation | None


class History:
    """Where the user was before each jump, newest last, like a browser's back button."""

    __slots__ = ("positions",)

    def __init__(self) -> None:
        self.positions: list[int] = []

    def remember(self, position: int) -> None:
        if not self.positions or self.positions[-1] != position:
            self.positions.append(position)

    def back(self) -> int | None:
        return self.positions.pop() if self.positions else None

    def __len__(self) -> int:
        return len(self.positions)


class Session:
    """A replayed trace made quick to walk: findings by entry, causes, the world at any entry."""

    def __init__(self, result: ReplayResult, task_graph: TaskGraph | None = None, *,
                 checkpoint_every: int = CHECKPOINT_EVERY) -> None:  # fmt: skip
        self.result = result
        self.steps: Sequence[Step] = result.steps
        self.checkpoint_every = max(1, checkpoint_every)
        #: every key the log shows, in order of first entry; a key's position is its id
        self.keys: list[Key] = []
        self.key_ids: dict[Key, int] = {}
        self.state_names: list[str] = [""]
        self._state_codes: dict[str, int] = {}
        #: per entry: the id of its key and the code of its finish state
        self._entry_keys = array("I")
        self._entry_finish = bytearray()
        self._checkpoints: list[bytes] = []
        #: the entries of each key (by id) and of each stimulus id, in log order
        self.key_positions: list[list[int]] = []
        self.stimulus_positions: dict[str | None, list[int]] = {}
        self.graph = Graph.from_task_graph(task_graph)
        self._replay_states()
        self.key_texts = [format_key(key) for key in self.keys]
        #: key ids in the order the world lists them: by how the key is shown, numbers by value
        self.key_order = sorted(range(len(self.keys)), key=lambda key_id: natural(self.key_texts[key_id]))
        self.start_time = next((s.transition.timestamp for s in self.steps if s.transition.timestamp is not None), None)
        self.findings_at: dict[int, list[Finding]] = {}
        #: findings the log cannot place at an entry (a transition that raised after it)
        self.unplaced: list[Finding] = []
        for finding in result.findings:
            if finding.event is None or not 0 <= finding.event < len(self.steps):
                self.unplaced.append(finding)
            else:
                self.findings_at.setdefault(finding.event, []).append(finding)
        self.finding_positions = sorted(self.findings_at)
        self._culprits: dict[tuple[int | None, Key, str], list[str]] = {}
        #: findings by the entry that emitted their culprit
        self.culprit_findings: dict[int, list[Finding]] = {}
        for finding in result.findings:
            culprit = finding.culprit
            if culprit is not None:
                if culprit.event is not None:
                    self.culprit_findings.setdefault(culprit.event, []).append(finding)
                rules = self._culprits.setdefault((culprit.event, culprit.key, culprit.state), [])
                if finding.rule not in rules:
                    rules.append(finding.rule)
        self._cached: tuple[int, bytearray] | None = None
        self._replaced_in: tuple[int, dict[int, int]] | None = None
        self._prefix_matches: dict[str, frozenset[int]] = {}

    # ------------------------------------------------------------------ building

    def _code(self, state: str) -> int:
        code = self._state_codes.get(state)
        if code is None:
            if len(self.state_names) < _OTHER_STATE:
                code = len(self.state_names)
                self.state_names.append(state)
            else:
                code = _OTHER_STATE
            self._state_codes[state] = code
        return code

    def _replay_states(self) -> None:
        """One pass over the steps: key ids, finish codes, checkpoints, each key's and stimulus's entries,
        and the inferred graph edges."""
        every = self.checkpoint_every
        key_ids = self.key_ids
        keys = self.keys
        entry_keys = self._entry_keys
        entry_finish = self._entry_finish
        checkpoints = self._checkpoints
        codes = self._state_codes
        steps = self.steps
        key_positions = self.key_positions
        stimulus_positions = self.stimulus_positions
        states = bytearray()
        current: dict[Key, str] = {}
        stimulus: object = object()
        same_stimulus: list[int] = []
        for position, step in enumerate(steps):
            if position % every == 0:
                checkpoints.append(bytes(states))
            key, _, finish, recommendations, stimulus_id, _ = step.transition
            key_id = key_ids.get(key)
            if key_id is None:
                key_id = key_ids[key] = len(keys)
                keys.append(key)
                states.append(_NOT_YET)
                key_positions.append([position])
            else:
                key_positions[key_id].append(position)
            if stimulus_id != stimulus:
                stimulus = stimulus_id
                found = stimulus_positions.get(stimulus_id)
                if found is None:
                    found = stimulus_positions[stimulus_id] = []
                same_stimulus = found
            same_stimulus.append(position)
            code = codes.get(finish)
            if code is None:
                code = self._code(finish)
            entry_keys.append(key_id)
            entry_finish.append(code)
            if recommendations:
                self._infer(position, step, recommendations, current)
            states[key_id] = code
            current[key] = finish

    def _infer(self, position: int, step: Step, recommendations: Mapping[Key, str], current: Mapping[Key, str]) -> None:
        """The edges one entry's own recommendations imply, as the replay inferred them."""
        key, start, finish = step.key, step.transition.start, step.transition.finish
        steps = self.steps
        if step.role == DETOUR_OUTER and position and steps[position - 1].role == DETOUR_INNER:
            inner = steps[position - 1].transition.recommendations
            own = [(k, s) for k, s in recommendations.items() if inner.get(k) != s]
            self.graph.infer(position, key, "released", finish, own, current)
            return
        if step.role == DETOUR_INNER:
            following = steps[position + 1] if position + 1 < len(steps) else None
            completed = following is not None and following.role == DETOUR_OUTER and following.key == key
            if not completed and step.requested is not None:
                return  # a detour that raised: its recommendations were never applied
        self.graph.infer(position, key, start, finish, recommendations.items(), current)

    # ------------------------------------------------------------------ states

    def __len__(self) -> int:
        return len(self.steps)

    def state_name(self, code: int) -> str | None:
        if code == _NOT_YET:
            return None
        if code == _OTHER_STATE:
            return OTHER_STATE_NAME
        return self.state_names[code]

    def states_after(self, position: int) -> bytearray:
        """Every key's state code after entry ``position`` (0: not in the log yet), by key id.

        The nearest checkpoint at or before it, then the finish states of the entries
        between: at most :data:`CHECKPOINT_EVERY` assignments, however long the trace.
        """
        if self._cached is not None and self._cached[0] == position:
            return self._cached[1]
        count = len(self.keys)
        if position < 0 or not self.steps:
            return bytearray(count)
        position = min(position, len(self.steps) - 1)
        block = min((position + 1) // self.checkpoint_every, len(self._checkpoints) - 1)
        states = bytearray(self._checkpoints[block])
        states.extend(bytes(count - len(states)))
        entry_keys, entry_finish = self._entry_keys, self._entry_finish
        for entry in range(block * self.checkpoint_every, position + 1):
            states[entry_keys[entry]] = entry_finish[entry]
        self._cached = (position, states)
        return states

    def state_after(self, key: Key, position: int) -> str | None:
        key_id = self.key_ids.get(key)
        if key_id is None:
            return None
        return self.state_name(self.states_after(position)[key_id])

    def world(self, position: int, prefix: str = "", state: str | None = None) -> list[int]:
        """Ids of the keys the log has shown by entry ``position``, in display order, filtered
        by key prefix (the key as shown, or its task prefix) and by state."""
        states = self.states_after(position)
        order = self.key_order
        if prefix:
            matching = self._matching_prefix(prefix)
            order = [key_id for key_id in order if key_id in matching]
        if state is None:
            return [key_id for key_id in order if states[key_id]]
        code = self._state_codes.get(state)
        if code is None:
            return []
        return [key_id for key_id in order if states[key_id] == code]

    def _matching_prefix(self, prefix: str) -> frozenset[int]:
        matching = self._prefix_matches.get(prefix)
        if matching is None:
            texts, keys = self.key_texts, self.keys
            matching = frozenset(
                key_id for key_id in range(len(keys))
                if texts[key_id].startswith(prefix) or key_prefix(keys[key_id]).startswith(prefix)
            )  # fmt: skip
            if len(self._prefix_matches) >= 8:  # the world's filter and a few searches
                self._prefix_matches.clear()
            self._prefix_matches[prefix] = matching
        return matching

    def state_counts(self, position: int, prefix: str = "") -> list[tuple[str, int]]:
        """How many keys (starting with ``prefix``) are in each state after entry ``position``, most first."""
        states = self.states_after(position)
        if prefix:
            matching = self._matching_prefix(prefix)
            states = bytearray(code for key_id, code in enumerate(states) if key_id in matching)
        counts = []
        for code in range(1, len(self.state_names)):
            count = states.count(code)
            if count:
                counts.append((self.state_names[code], count))
        other = states.count(_OTHER_STATE)
        if other:
            counts.append((OTHER_STATE_NAME, other))
        return sorted(counts, key=lambda item: -item[1])

    def states_seen(self) -> list[str]:
        """Every state name the log uses, in the order first seen."""
        return self.state_names[1:]

    def neighbours(self, key: Key, position: int) -> tuple[list[Neighbour], list[Neighbour]]:
        """Dependencies and dependents of ``key`` known by entry ``position``, with their states then."""
        states = self.states_after(position)

        def known(edges: Mapping[Key, int | None]) -> list[Neighbour]:
            shown = []
            for other, evidence in edges.items():
                if evidence is not None and evidence > position:
                    continue
                key_id = self.key_ids.get(other)
                state = None if key_id is None else self.state_name(states[key_id])
                shown.append(Neighbour(other, state, evidence))
            return sorted(shown, key=lambda neighbour: natural(format_key(neighbour.key)))

        return known(self.graph.dependencies_of(key)), known(self.graph.dependents_of(key))

    # ------------------------------------------------------------------ findings and causes

    def opening_position(self) -> int:
        """The first error finding's entry, else the first warning's, else the first entry."""
        for severity in ("error", "warning"):
            for position in self.finding_positions:
                if any(finding.severity == severity for finding in self.findings_at[position]):
                    return position
        return 0

    def worst_severity(self, position: int) -> str | None:
        findings = self.findings_at.get(position)
        if not findings:
            return None
        present = {finding.severity for finding in findings}
        return next(severity for severity in SEVERITY_ORDER if severity in present)

    def next_finding(self, position: int, forward: bool = True) -> int | None:
        """The next (or previous) entry with a finding."""
        positions = self.finding_positions
        if forward:
            after = bisect.bisect_right(positions, position)
            return positions[after] if after < len(positions) else None
        before = bisect.bisect_left(positions, position)
        return positions[before - 1] if before else None

    def culprit(self, position: int) -> Culprit:
        """The recommendation that sent entry ``position``'s key where it went."""
        return culprit_of(self.steps[position])

    def cause_position(self, position: int) -> int | None:
        """The entry that emitted the recommendation this entry was popped from (after a detour
        that overrode the request, the detour's own); None for the stimulus's own."""
        event = self.culprit(position).event
        return event if event is not None and 0 <= event < len(self.steps) else None

    def emitted(self, position: int) -> list[Emitted]:
        """What entry ``position`` recommended, and what became of each recommendation."""
        steps = self.steps
        step = steps[position]
        following = steps[position + 1] if position + 1 < len(steps) else None
        override = following.override if following is not None else None
        shown = []
        for recommendation in step.emitted:
            overriding = recommendation.replaced
            if (override is not None and following is not None and override.event == position
                    and recommendation.key == override.key and recommendation.state == override.state):  # fmt: skip
                overriding = following.cause
            rules = self._culprits.get((position, recommendation.key, recommendation.state), [])
            shown.append(Emitted(recommendation, tuple(rules), overriding, self._replacement_of(position, recommendation)))
        return shown

    def _replacement_of(self, position: int, recommendation: Recommendation) -> Recommendation | None:
        """The later recommendation of the same cascade that replaced ``recommendation`` while pending."""
        replacing = self._replacements(self.steps[position].group, position).get(id(recommendation))
        if replacing is None:
            return None
        step = self.steps[replacing]
        # a detour's second half records what its first half's recommendations replaced
        emitters = [step, self.steps[replacing - 1]] if step.role == DETOUR_OUTER else [step]
        return next((e for s in emitters for e in s.emitted if e.key == recommendation.key), None)

    def _replacements(self, group: int, position: int) -> dict[int, int]:
        """For one cascade: each replaced recommendation (by identity) and the entry that replaced it.

        Built once per cascade (the last one asked for is kept): a cascade can be tens of
        thousands of entries, and an entry can emit thousands of recommendations.
        """
        if self._replaced_in is not None and self._replaced_in[0] == group:
            return self._replaced_in[1]
        steps = self.steps
        first = position
        while first and steps[first - 1].group == group:
            first -= 1
        replaced: dict[int, int] = {}
        for later in range(first, len(steps)):
            step = steps[later]
            if step.group != group:
                break
            for recommendation in step.replaced:
                replaced[id(recommendation)] = later
        self._replaced_in = (group, replaced)
        return replaced

    # ------------------------------------------------------------------ the same key, the same stimulus, search

    @staticmethod
    def _neighbour_in(positions: list[int], position: int, forward: bool) -> int | None:
        if forward:
            after = bisect.bisect_right(positions, position)
            return positions[after] if after < len(positions) else None
        before = bisect.bisect_left(positions, position)
        return positions[before - 1] if before else None

    def key_entries(self, key: Key) -> list[int]:
        """Every entry of ``key``, in log order."""
        key_id = self.key_ids.get(key)
        return [] if key_id is None else self.key_positions[key_id]

    def stimulus_entries(self, stimulus_id: str | None) -> list[int]:
        return self.stimulus_positions.get(stimulus_id, [])

    def same_key(self, position: int, forward: bool = True) -> int | None:
        """The next (or previous) entry of the same key."""
        return self._neighbour_in(self.key_entries(self.steps[position].key), position, forward)

    def same_stimulus(self, position: int, forward: bool = True) -> int | None:
        """The next (or previous) entry of the same stimulus id."""
        return self._neighbour_in(self.stimulus_entries(self.steps[position].stimulus_id), position, forward)

    def latest_entry_of(self, key_id: int, position: int) -> int | None:
        """The last entry of the key with id ``key_id`` at or before ``position``."""
        entries = self.key_positions[key_id]
        before = bisect.bisect_right(entries, position)
        return entries[before - 1] if before else None

    def search(self, query: str, position: int) -> tuple[int | None, bool]:
        """The next entry after ``position`` whose key (as shown, or its task prefix) or stimulus
        id starts with ``query``, wrapping past the end; and whether it wrapped."""
        if not query or not self.steps:
            return None, False
        keys = self._matching_prefix(query)
        by_stimulus = self.stimulus_positions
        stimuli = {stimulus for stimulus in by_stimulus if stimulus is not None and stimulus.startswith(query)}
        candidates: list[int] = []
        by_key = self.key_positions
        for key_id in keys:
            after = self._neighbour_in(by_key[key_id], position, True)
            candidates.append(after if after is not None else by_key[key_id][0] + len(self.steps))
        for stimulus in stimuli:
            entries = by_stimulus[stimulus]
            after = self._neighbour_in(entries, position, True)
            candidates.append(after if after is not None else entries[0] + len(self.steps))
        if not candidates:
            return None, False
        best = min(candidates)
        if best >= len(self.steps):
            return best - len(self.steps), True
        return best, False

    def relative_time(self, position: int) -> float | None:
        """Seconds since the trace's first timestamp."""
        timestamp = self.steps[position].transition.timestamp
        if timestamp is None or self.start_time is None:
            return None
        return timestamp - self.start_time
