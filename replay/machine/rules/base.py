"""What every rule is: a name, a severity, the releases it holds for, and its violations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from replay.events import Key
from replay.machine.steps import Recommendation, Step
from replay.releases import Release, format_release

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Assertion:
    """Where the scheduler of a release range checks the same thing itself, with validate on."""

    since: Release | None
    until: Release | None
    #: the function holding it, e.g. ``_transition_released_waiting``
    where: str
    code: str
    #: checked once the cascade ends (``validate_key``), not inside the transition
    at_cascade_end: bool = False

    def covers(self, release: Release) -> bool:
        return (self.since is None or release >= self.since) and (self.until is None or release < self.until)

    def text(self) -> str:
        return f"{self.where}: {self.code}"


@dataclass(frozen=True, slots=True)
class Rule:
    """A named check, listed by ``replay rules``.

    ``since``/``until`` bound the releases it holds for (None: unbounded); ``assertions``
    say which releases check the same thing themselves, and how.
    """

    name: str
    severity: Severity
    description: str
    #: when the replay checks it, in words
    when: str = ""
    since: Release | None = None
    until: Release | None = None
    assertions: tuple[Assertion, ...] = ()

    def assertion_of(self, release: Release | None) -> Assertion | None:
        """The assertion ``release`` makes of this rule, if it makes one."""
        if release is None:
            return None
        return next((assertion for assertion in self.assertions if assertion.covers(release)), None)

    def validate_note(self, release: Release | None) -> str:
        """What the scheduler does here with validate on, in words."""
        assertion = self.assertion_of(release)
        if assertion is not None:
            when = "when the cascade ends" if assertion.at_cascade_end else "here"
            return f"with validate on, {format_release(release)} raises {when} ({assertion.text()})"  # type: ignore[arg-type]
        if release is not None:
            return f"no validate-mode assertion of {format_release(release)} checks this"
        if self.assertions:
            ranges = "; ".join(f"{releases_text(a.since, a.until)}: {a.text()}" for a in self.assertions)
            return f"with validate on, the scheduler raises ({ranges})"
        return "no release's validate mode checks this"

    def holds_for(self, release: Release | None) -> bool:
        """Whether the rule applies to ``release`` (an unknown release: only rules of every release)."""
        if release is None:
            return self.since is None and self.until is None
        return (self.since is None or release >= self.since) and (self.until is None or release < self.until)

    @property
    def releases(self) -> str:
        """The releases it holds for, in words."""
        return releases_text(self.since, self.until)


def releases_text(since: Release | None, until: Release | None) -> str:
    """``every release``, ``2022.12.0 and later``, ``before 2022.11.0`` or ``2021.8.0 - before 2022.11.0``."""
    if since is None and until is None:
        return "every release"
    if until is None:
        return f"{format_release(since)} and later" if since is not None else "every release"
    if since is None:
        return f"before {format_release(until)}"
    return f"{format_release(since)} - before {format_release(until)}"


@dataclass(slots=True)
class Violation:
    """A broken rule, before provenance names its culprit."""

    rule: Rule
    #: None only when the log cannot tell which key (a counter ahead of a log with nothing pending)
    key: Key | None
    event: int | None
    stimulus_id: str | None
    message: str
    #: the step whose cause chain explains it
    step: Step | None = None
    #: or the recommendation to blame directly (failures the log cannot show)
    recommendation: Recommendation | None = None
    #: recommendations the scheduler should have made and did not
    missing: list[tuple[Key, str]] = field(default_factory=list)
