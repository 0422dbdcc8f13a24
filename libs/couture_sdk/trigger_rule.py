"""Trigger rules: when a task runs given its upstream tasks' states."""

from __future__ import annotations

from enum import StrEnum

from couture_common.dagspec import TRIGGER_RULES


class TriggerRule(StrEnum):
    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_MIN_ONE_SUCCESS = "all_done_min_one_success"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALL_SKIPPED = "all_skipped"
    ALWAYS = "always"
    #: Old names still found in DAG files; they mean the rule they are mapped to below.
    DUMMY = "dummy"
    NONE_FAILED_OR_SKIPPED = "none_failed_or_skipped"


_ALIASES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}


def canonical_trigger_rule(rule: object) -> str:
    """The rule's current name; an unknown rule is an error naming the argument."""
    value = rule.value if isinstance(rule, TriggerRule) else rule
    if not isinstance(value, str):
        raise TypeError(f"trigger_rule must be a string, got {type(rule).__name__}")
    value = _ALIASES.get(value, value)
    if value not in TRIGGER_RULES:
        known = ", ".join(sorted(TRIGGER_RULES | _ALIASES.keys()))
        raise ValueError(f"trigger_rule {rule!r} is not a valid trigger rule; use one of: {known}")
    return value
