"""Cause chains: from a replayed step back to the recommendation that asked for it.

The machine reports *violations* (which rule, which key, which entry); this module
names each one's culprit recommendation and turns it into a :class:`Finding`.
"""

from __future__ import annotations

from collections.abc import Iterable

from replay.machine.findings import RULES, Culprit, Finding, Missing, Overrode
from replay.machine.replayer import Violation
from replay.machine.steps import Recommendation, Step


def explain(violations: Iterable[Violation]) -> list[Finding]:
    """Findings with their culprits, in the order the violations were found."""
    findings = []
    for violation in violations:
        if violation.recommendation is not None:
            culprit: Culprit | None = culprit_of_recommendation(
                violation.recommendation, violation.recommendation.key, violation.recommendation.state
            )
        elif violation.step is not None:
            culprit = culprit_of(violation.step)
        else:
            culprit = None
        findings.append(
            Finding(
                rule=violation.rule,
                severity=RULES[violation.rule].severity,
                event=violation.event,
                key=violation.key,
                stimulus_id=violation.stimulus_id,
                message=violation.message,
                culprit=culprit,
                missing=tuple(Missing(key=key, state=state) for key, state in violation.missing),
            )
        )
    return findings


def culprit_of(step: Step) -> Culprit:
    """The recommendation that sent ``step``'s key where it went.

    For the second half of a detour whose first half overrode the request, that
    overriding recommendation is the culprit and the request is what it overrode.
    A recommendation that replaced a different pending one for the same key reports
    the replaced one as overridden. A stimulus root has no emitting entry.
    """
    key = step.key
    if step.override is not None:
        cause = step.cause
        overrode = Overrode(event=cause.event if cause else None, state=cause.state if cause else "?")
        return Culprit(event=step.override.event, key=key, state=step.override.state, overrode=overrode)
    return culprit_of_recommendation(step.cause, key, step.transition.finish)


def culprit_of_recommendation(recommendation: Recommendation | None, key: object, fallback_state: str) -> Culprit:
    """A culprit from one pending recommendation (None: the stimulus root)."""
    if recommendation is None:
        return Culprit(event=None, key=key, state=fallback_state)
    replaced = recommendation.replaced
    overrode = Overrode(event=replaced.event, state=replaced.state) if replaced is not None else None
    return Culprit(event=recommendation.event, key=key, state=recommendation.state, overrode=overrode)
