"""The tree of one stimulus: each transition nested under the recommendation that caused it.

A step's node holds the recommendations it emitted; each recommendation's node holds the
transitions popped from it. Markers are words as well as styles, so the tree reads the
same without colour: ``✗ … replaced by …`` (struck through), ``· no-op`` (dimmed),
``◀ culprit`` (highlighted), ``⚠ rule`` for findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from rich.tree import Tree

from replay.events import Key
from replay.keys import format_key, stimulus_name
from replay.machine.steps import DETOUR_INNER, DETOUR_OUTER, NO_OP, Recommendation, Step
from replay.provenance import Culprit, Finding
from replay.render.text import event_reference, event_text, key_text, state_text, transition_text

#: Recommendations without a transition beneath them shown per step before summing up the rest.
MAX_QUIET_RECOMMENDATIONS = 8

_Where = tuple[int | None, Key]


def _is_culprit(recommendation: Recommendation, culprit: Culprit) -> bool:
    return (
        recommendation.event == culprit.event
        and recommendation.key == culprit.key
        and recommendation.state == culprit.state
    )


def _recommendation_text(recommendation: Recommendation) -> str:
    return f"{format_key(recommendation.key)}: {recommendation.state} from {event_reference(recommendation.event)}"


@dataclass(slots=True)
class _Marks:
    """What happened to one emitted recommendation, gathered from the whole cascade."""

    replaced_by: Recommendation | None = None
    replacing: Recommendation | None = None
    silent: bool = False


class CascadeView:
    """One stimulus's steps as a tree; the culprits (of ``culprit`` and ``findings``) are highlighted."""

    def __init__(
        self,
        steps: Sequence[Step],
        culprit: Culprit | None = None,
        title: str | None = None,
        *,
        findings: Sequence[Finding] = (),
        limit: int | None = None,
    ) -> None:
        self.steps = list(steps)
        self.findings = list(findings)
        self.culprit = culprit
        self.title = title
        self.limit = limit

    def _shown(self) -> list[Step]:
        if self.limit is None or self.limit <= 0:
            return self.steps
        return self.steps[: self.limit]

    def tree(self, max_depth: int = 12) -> Tree:
        """The tree; nodes deeper than ``max_depth`` hang at that depth, their cause spelled out."""
        steps = self._shown()
        shown = {step.index for step in steps}
        findings_at: dict[int | None, list[Finding]] = {}
        for finding in self.findings:
            findings_at.setdefault(finding.event, []).append(finding)

        marks: dict[_Where, _Marks] = {}
        for step in steps:
            for emitted in step.emitted:
                marks[(step.index, emitted.key)] = _Marks()
        parents: dict[int, _Where | int | None] = {}
        previous: Step | None = None
        for step in steps:
            parents[step.index] = self._parent(step, previous, marks)
            previous = step
            for replaced in step.replaced:
                mark = marks.get((replaced.event, replaced.key))
                if mark is not None:
                    mark.replaced_by = next((e for e in step.emitted if e.key == replaced.key), None)
            for silent in step.silent:
                mark = marks.get((silent.event, silent.key))
                if mark is not None:
                    mark.silent = True
            if step.override is not None and step.cause is not None:
                overridden = marks.get((step.cause.event, step.cause.key))
                if overridden is not None:
                    overridden.replaced_by = step.override
                replacing = marks.get((step.override.event, step.override.key))
                if replacing is not None:
                    replacing.replacing = step.cause
            if step.cause is not None and step.cause.replaced is not None:
                replacing = marks.get((step.cause.event, step.cause.key))
                if replacing is not None:
                    replacing.replacing = step.cause.replaced

        with_children = {parent for parent in parents.values() if isinstance(parent, tuple)}
        stimulus = self.steps[0].stimulus_id if self.steps else None
        heading = Text.assemble(self.title or "cascade ", Text(stimulus_name(stimulus), style="stimulus"))
        if self.steps:
            count = len(self.steps)
            heading.append(f"  events {self.steps[0].index} to {self.steps[-1].index}, "
                           f"{count} transition{'s' if count != 1 else ''}", style="muted")  # fmt: skip
        root = Tree(heading)
        depth_of: dict[int, tuple[int, Tree]] = {id(root): (0, root)}

        def add(container: Tree, label: Text, cause: str | None) -> Tree:
            depth, anchor = depth_of[id(container)]
            if depth >= max_depth:
                container = anchor
                depth -= 1
                if cause is not None:
                    label.append(f"  ⤷ {cause}", style="muted")
            child = container.add(label)
            depth_of[id(child)] = (depth + 1, child if depth + 1 < max_depth else container)
            return child

        step_nodes: dict[int, Tree] = {}
        recommendation_nodes: dict[_Where, Tree] = {}
        for step in steps:
            parent = parents[step.index]
            if isinstance(parent, tuple):
                container = recommendation_nodes.get(parent, root)
            elif isinstance(parent, int):
                container = step_nodes.get(parent, root)
            else:
                container = root
            cause = None if step.cause is None else f"under {_recommendation_text(step.cause)}"
            node = add(container, self._step_label(step, parent, shown, findings_at.get(step.index, [])), cause)
            step_nodes[step.index] = node
            quiet = 0
            for emitted in step.emitted:
                mark = marks[(step.index, emitted.key)]
                has_children = (step.index, emitted.key) in with_children
                rules = self._culprit_of(emitted)
                remarkable = mark.replaced_by or mark.replacing or rules is not None
                if not has_children and not remarkable:
                    quiet += 1
                    if quiet > MAX_QUIET_RECOMMENDATIONS:
                        continue
                recommendation_nodes[(step.index, emitted.key)] = add(
                    node, self._recommendation_label(emitted, mark, rules), f"from [{step.index}]"
                )
            if quiet > MAX_QUIET_RECOMMENDATIONS:
                add(node, Text(f"… {quiet - MAX_QUIET_RECOMMENDATIONS} more recommendations", style="muted"), None)
        hidden = len(self.steps) - len(steps)
        if hidden:
            root.add(Text(f"… {hidden} more transitions (--limit 0 shows all)", style="muted"))
        for finding in findings_at.get(None, []):
            root.add(Text(f"⚠ {finding.rule}: {finding.message}", style=f"severity.{finding.severity}"))
        return root

    @staticmethod
    def _parent(step: Step, previous: Step | None, marks: dict[_Where, _Marks]) -> _Where | int | None:
        """The recommendation node (event, key) or step node (event) the step hangs under."""
        if step.role == DETOUR_OUTER and previous is not None and previous.key == step.key \
                and previous.role == DETOUR_INNER:  # fmt: skip
            if step.override is not None:
                return (step.override.event, step.override.key)
            if (previous.index, step.key) in marks:
                return (previous.index, step.key)
            return previous.index
        if step.cause is None:
            return None
        return (step.cause.event, step.cause.key)

    def _step_label(self, step: Step, parent: _Where | int | None, shown: set[int], findings: list[Finding]) -> Text:
        transition = step.transition
        label = Text.assemble(event_text(step.index), " ", transition_text(transition))
        if step.role == DETOUR_INNER:
            label.append("  detour 1/2 through released", style="muted")
        elif step.role == DETOUR_OUTER:
            label.append("  detour 2/2", style="muted")
        if step.override is not None and step.cause is not None:
            label.append("  asked ")
            label.append(step.cause.state, style="overridden")
            label.append(", went ")
            label.append_text(state_text(transition.finish))
        elif step.requested is not None and step.requested != transition.finish and step.role != DETOUR_INNER:
            label.append("  asked ")
            label.append_text(state_text(step.requested))
        if parent is None:
            label.append("  ← stimulus root", style="muted")
        elif isinstance(parent, tuple) and parent[0] not in shown and step.cause is not None:
            label.append(f"  ← {_recommendation_text(step.cause)}", style="muted")
        if step.role == NO_OP:
            label.append("  · no-op", style="noop")
            label.stylize("noop")
        for finding in findings:
            label.append("  ")
            label.append(f"⚠ {finding.rule}", style=f"severity.{finding.severity}")
        return label

    def _culprit_of(self, recommendation: Recommendation) -> list[str] | None:
        """The rules whose culprit ``recommendation`` is (empty: the culprit given), else None."""
        rules = [f.rule for f in self.findings if f.culprit is not None and _is_culprit(recommendation, f.culprit)]
        if rules:
            return list(dict.fromkeys(rules))
        if self.culprit is not None and _is_culprit(recommendation, self.culprit):
            return []
        return None

    def _recommendation_label(self, recommendation: Recommendation, mark: _Marks, rules: list[str] | None) -> Text:
        """``rules``: what :meth:`_culprit_of` says of ``recommendation``."""
        body = Text.assemble(key_text(recommendation.key), ": ", state_text(recommendation.state))
        if rules is not None:
            body.stylize("culprit")
            label = Text.assemble("→ ", body, " ")
            label.append("◀ culprit" + (f" ({', '.join(rules)})" if rules else ""), style="severity.error")
        elif mark.replaced_by is not None:
            body.stylize("overridden")
            label = Text.assemble("✗ ", body)
        elif mark.silent:
            body.stylize("noop")
            return Text.assemble(Text("· ", style="noop"), body, Text("  · no-op, already there", style="noop"))
        else:
            label = Text.assemble("→ ", body)
        if mark.replaced_by is not None:
            label.append("  replaced by ")
            label.append(_recommendation_text(mark.replaced_by), style="bold")
        if mark.replacing is not None:
            label.append("  replacing ", style="muted")
            label.append(_recommendation_text(mark.replacing), style="overridden")
        return label

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.tree(max_depth=max(4, (options.max_width - 50) // 4))
