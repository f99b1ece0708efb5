"""The mirror of the scheduler's pending-recommendation dict within one cascade.

The scheduler merges each transition's recommendations into one dict with
``dict.update`` and pops it last-in-first-out. The mirror does the same, so each
logged transition gets its *cause*: the pending recommendation it was popped from.

* A later recommendation for a key replaces the earlier one and keeps its place; one
  to a *different* state is recorded as a replacement (the replaced one is context
  for a culprit). One to the *same* state changes nothing: the earlier emitter stays
  the cause, as the one that first asked for it.
* A pop that would log nothing (the key is already in that state, or forgotten) is
  resolved silently.
* The stimulus's own recommendations are never logged, so an entry may come from a
  recommendation deeper in the dict than LIFO suggests (it kept the place of an unseen
  root one); an entry with nothing pending for its key is a stimulus root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from replay.events import SCHEDULER_STATES, Key
from replay.machine.steps import Recommendation, Step
from replay.machine.world import World


class QueueMirror:
    """Pending recommendations of the current cascade, and where each came from."""

    __slots__ = ("detail", "on_unknown_state", "pending", "world")

    def __init__(self, world: World, *, detail: bool, on_unknown_state: Callable[[Step, str], None]) -> None:
        self.world = world
        #: keep what each step emitted and replaced (for the views; not for findings)
        self.detail = detail
        self.on_unknown_state = on_unknown_state
        self.pending: dict[Key, Recommendation] = {}

    def pop_cause(self, key: Key, silent: list[Recommendation] | None) -> Recommendation | None:
        """The pending recommendation ``key``'s entry was popped from, after silent pops above it."""
        pending = self.pending
        states = self.world.states
        while pending:
            top_key, top = pending.popitem()
            if top_key == key:
                return top
            current = states.get(top_key)
            if current == top.state or current == "forgotten":
                if silent is not None:
                    silent.append(top)
                continue
            pending[top_key] = top  # it was last; putting it back keeps it last
            break
        return pending.pop(key, None)

    def push(
        self,
        step: Step,
        recommendations: Iterable[tuple[Key, str]],
        emitter: int,
        *,
        into: Step | None = None,
        relations: Mapping[str, str] | None = None,
    ) -> None:
        """Merge ``step``'s recommendations; with ``relations`` (the emitting step's row of
        ``RELATIONS``), also add the graph edges they imply, in the same pass.

        ``into`` is the step that records replacements (a detour's second half for the
        recommendations its first half made).
        """
        pending = self.pending
        world = self.world
        received = world.received
        detail = self.detail
        target = into if into is not None else step
        own_key = step.key
        for key, state in recommendations:
            if relations is not None:
                relation = relations.get(state)
                if relation is not None:  # Graph.add ignores a key's edge to itself
                    world.graph.add_inferred(emitter, own_key, key, state, relation, world.states)
            old = pending.get(key)
            if old is None:
                recommendation = pending[key] = Recommendation(key, state, emitter, None)
            elif old.state != state:
                recommendation = pending[key] = Recommendation(key, state, emitter, old)
                if detail:
                    target.add_replaced(old)
            else:  # the same request again: the first emitter stays the cause
                recommendation = Recommendation(key, state, emitter, old.replaced) if detail else old
            if detail:
                step.add_emitted(recommendation)
            received[key] = emitter
            if state == "waiting" and world.states.get(key) == "forgotten":
                # Only a released key is recommended waiting: this one was forgotten and
                # submitted again, which makes a new task without a log entry.
                world.states[key] = "released"
            if state not in SCHEDULER_STATES:
                self.on_unknown_state(step, state)

    def leftovers(self, unseen_state: Callable[[Key], str | None]) -> list[Recommendation]:
        """Drain what is still pending when the cascade ends: the recommendations never applied.

        One is left over when its key is in another state than it asks for (and not
        forgotten). A key the log never showed takes its state from ``unseen_state``
        (a dump's task table, or ``released`` in a complete log); when that says nothing,
        or the request is to forget a key that may never have existed, it never counts.
        """
        pending = self.pending
        states = self.world.states
        leftovers = []
        while pending:
            _, recommendation = pending.popitem()
            current = states.get(recommendation.key)
            if current is None and recommendation.state != "forgotten":
                current = unseen_state(recommendation.key)
            if current is None or current == recommendation.state or current == "forgotten":
                continue  # satisfied, gone, or a key whose state nothing tells
            leftovers.append(recommendation)
        return leftovers
