"""Trigger rules: what a task with no state becomes, given its direct upstream tasks' states.

Follows Airflow 2's TriggerRuleDep with ``flag_upstream_failed``: a rule first decides whether the
task can never run (``skipped`` / ``upstream_failed``, possibly before every upstream is done),
then whether it may run now; otherwise it waits.
"""

from __future__ import annotations

from typing import Literal

Verdict = Literal["run", "wait", "skipped", "upstream_failed"]

#: Old names Airflow still accepts.
RULE_ALIASES: dict[str, str] = {
    "dummy": "always",
    "none_failed_or_skipped": "none_failed_min_one_success",
}


def canonical_rule(rule: str) -> str:
    return RULE_ALIASES.get(rule, rule)


def evaluate(
    rule: str,
    *,
    total: int,
    success: int,
    skipped: int,
    failed: int,
    upstream_failed: int,
    done: int,
) -> Verdict:
    """The verdict for one task. ``done`` counts every finished upstream (removed ones included)."""
    if total == 0 or rule == "always":
        return "run"
    all_done = done >= total
    failures = failed + upstream_failed
    if rule == "all_success":
        if failures:
            return "upstream_failed"
        if skipped:
            return "skipped"
        return "run" if success >= total else "wait"
    if rule == "all_failed":
        if success or skipped:
            return "skipped"
        return "run" if failures >= total else "wait"
    if rule == "all_done":
        return "run" if all_done else "wait"
    if rule in ("one_success", "all_done_min_one_success"):
        if rule == "one_success" and success:
            return "run"
        if not all_done:
            return "wait"
        if success:
            return "run"
        return "skipped" if skipped >= done else "upstream_failed"
    if rule == "one_failed":
        if failures:
            return "run"
        return "skipped" if all_done else "wait"
    if rule == "one_done":
        if success or failed:
            return "run"
        return "skipped" if all_done else "wait"
    if rule in ("none_failed", "none_failed_min_one_success"):
        if failures:
            return "upstream_failed"
        if rule == "none_failed_min_one_success" and skipped >= total:
            return "skipped"
        return "run" if success + skipped >= total else "wait"
    if rule == "none_skipped":
        if skipped:
            return "skipped"
        return "run" if all_done else "wait"
    if rule == "all_skipped":
        if success or failures:
            return "skipped"
        return "run" if skipped >= total else "wait"
    raise ValueError(f"trigger_rule: unknown rule {rule!r}")
