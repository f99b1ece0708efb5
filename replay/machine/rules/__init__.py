"""Every rule the replay checks, one small check each, grouped by when it is checked.

* :mod:`~replay.machine.rules.log`: is each entry possible, did every cascade finish;
* :mod:`~replay.machine.rules.transitions`: at one transition (the scheduler's own
  per-transition assertions, by release, and what a transition shows about its task);
* :mod:`~replay.machine.rules.states`: a key and its neighbours, once the key settles;
* :mod:`~replay.machine.rules.end`: once the trace is over;
* :mod:`~replay.machine.rules.dump`: a dump's own task table.
"""

from __future__ import annotations

from replay.machine.rules import dump, end, log, states, transitions
from replay.machine.rules.base import Assertion, Rule, Severity, Violation, releases_text

#: The catalogue ``replay rules`` lists, by name.
RULES: dict[str, Rule] = {
    rule.name: rule for group in (states.RULES, transitions.RULES, end.RULES, log.RULES, dump.RULES) for rule in group
}

__all__ = ["RULES", "Assertion", "Rule", "Severity", "Violation", "releases_text"]
