"""The scheduler's pure domain: state as a fold of events, and ``decide(state, now) -> events``."""

from couture_scheduler.domain.decide import SchedulerPolicy, decide
from couture_scheduler.domain.fold import apply
from couture_scheduler.domain.state import SchedulerState

__all__ = ["SchedulerPolicy", "SchedulerState", "apply", "decide"]
