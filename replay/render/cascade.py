"""The tree of one stimulus: each transition nested under the recommendation that caused it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from rich.tree import Tree

from replay.machine.findings import Culprit
from replay.machine.steps import DETOUR_INNER, DETOUR_OUTER, Recommendation, Step
from replay.render.text import event_text, key_text, recommendations_text, state_text, transition_text


def _parent_of(step: Step, inner_of: dict[int, Step]) -> int | None:
    if step.role == DETOUR_OUTER and step.index in inner_of:
        return inner_of[step.index].index
    if step.cause is not None:
        return step.cause.event
    return None


def _is_culprit(recommendation: Recommendation | None, culprit: Culprit | None) -> bool:
    return (
        recommendation is not None
        and culprit is not None
        and recommendation.event == culprit.event
        and recommendation.key == culprit.key
        and recommendation.state == culprit.state
    )


class CascadeView:
    """One stimulus's steps as a tree; ``culprit`` is highlighted where it appears."""

    def __init__(self, steps: Sequence[Step], culprit: Culprit | None = None, title: str | None = None) -> None:
        self.steps = list(steps)
        self.culprit = culprit
        self.title = title

    def _label(self, step: Step) -> Text:
        transition = step.transition
        label = Text.assemble(event_text(step.index), " ", transition_text(transition))
        if step.role == DETOUR_INNER:
            label.append("  detour 1/2", style="muted")
        elif step.role == DETOUR_OUTER:
            label.append("  detour 2/2", style="muted")
        cause = step.cause
        if step.override is not None:
            culprit = _is_culprit(step.override, self.culprit)
            label.append("  asked ")
            label.append(cause.state if cause else "?", style="overridden")
            label.append(" → went ")
            label.append_text(state_text(step.override.state))
            label.append(f" by [{step.override.event}]'s own ", style="muted")
            label.append(f"{step.override.state}", style="culprit" if culprit else "")
        elif cause is None:
            label.append("  ← stimulus root", style="muted")
        else:
            label.append("  ← ")
            rec = Text.assemble(key_text(cause.key), ": ", state_text(cause.state))
            if _is_culprit(cause, self.culprit):
                rec.stylize("culprit")
            label.append_text(rec)
            label.append(f" from [{cause.event}]", style="muted")
            if cause.replaced is not None:
                label.append("  replaced ", style="muted")
                label.append(f"{cause.replaced.state} from [{cause.replaced.event}]", style="overridden")
        if transition.recommendations:
            label.append("  ")
            label.append_text(recommendations_text(transition.recommendations))
        return label

    def tree(self) -> Tree:
        by_index = {step.index: step for step in self.steps}
        inner_of = {}
        for step in self.steps:
            if step.role == DETOUR_INNER and step.index + 1 in by_index:
                following = by_index[step.index + 1]
                if following.role == DETOUR_OUTER and following.key == step.key:
                    inner_of[following.index] = step
        stimulus = self.steps[0].stimulus_id if self.steps else None
        root = Tree(Text.assemble(self.title or "cascade ", Text(str(stimulus), style="stimulus")))
        nodes: dict[int, Tree] = {}
        for step in self.steps:
            parent_index = _parent_of(step, inner_of)
            parent = nodes.get(parent_index) if parent_index is not None else None
            node = (parent or root).add(self._label(step))
            nodes[step.index] = node
            for silent in step.silent:
                note = Text.assemble(
                    "· ", key_text(silent.key), f": {silent.state} popped, nothing to do", style="noop"
                )
                (parent or root).add(note)
            for replaced in step.replaced:
                node.add(
                    Text.assemble(
                        Text(f"{_fmt(replaced)} from [{replaced.event}]", style="replaced"),
                        " replaced by this step's ",
                        Text(_new_state(step, replaced), style="bold"),
                    )
                )
        return root

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.tree()


def _fmt(recommendation: Recommendation) -> str:
    from replay.ingest.keys import format_key

    return f"{format_key(recommendation.key)}: {recommendation.state}"


def _new_state(step: Step, replaced: Recommendation) -> str:
    for emitted in step.emitted:
        if emitted.key == replaced.key:
            return f"{_fmt(emitted)}"
    return "?"
