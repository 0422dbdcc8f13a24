"""PythonOperator and its branching / short-circuiting variants."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from couture_sdk import _validation as v
from couture_sdk.baseoperator import BaseOperator


def callable_kwargs(
    fn: Callable[..., Any], op_args: Sequence[Any], context: dict[str, Any]
) -> dict[str, Any]:
    """Airflow 2's rule: a callable taking ``**kwargs`` gets the whole context; otherwise only the
    context entries it names, leaving out the parameters op_args already fills."""
    parameters = list(inspect.signature(fn).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return dict(context)
    named = {
        p.name for p in parameters[len(op_args) :] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return {k: value for k, value in context.items() if k in named}


class PythonOperator(BaseOperator):
    template_fields: ClassVar[tuple[str, ...]] = ("templates_dict", "op_args", "op_kwargs")
    ui_color: ClassVar[str] = "#ffefeb"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        provide_context: bool = True,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = f"task '{self.task_id}'"
        if not callable(python_callable):
            raise TypeError(
                f"python_callable of {who} must be callable, got {type(python_callable).__name__}"
            )
        self.python_callable = python_callable
        self.op_args = list(v.check_optional(op_args, (list, tuple), field="op_args", owner=who) or ())
        self.op_kwargs = v.as_dict(op_kwargs, field="op_kwargs", owner=who)
        self.templates_dict = v.check_optional(templates_dict, dict, field="templates_dict", owner=who)
        if templates_exts:
            self.template_ext = tuple(templates_exts)  # type: ignore[misc]
        # Airflow 2 always passes the context; provide_context is kept for 1.10 DAG files.
        self.provide_context = provide_context
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: dict[str, Any]) -> Any:
        context.update(self.op_kwargs)
        context["templates_dict"] = self.templates_dict
        kwargs = callable_kwargs(self.python_callable, self.op_args, context)
        result = self.python_callable(*self.op_args, **kwargs)
        if self.show_return_value_in_logs:
            print(f"Done. Returned value was: {result}", flush=True)
        return result

    def spec_extra(self) -> dict[str, Any]:
        return {"python_callable": getattr(self.python_callable, "__qualname__", repr(self.python_callable))}


class BranchPythonOperator(PythonOperator):
    """The callable returns the task id (or ids) to follow; other direct downstream tasks skip."""

    def execute(self, context: dict[str, Any]) -> Any:
        branch = super().execute(context)
        if branch is not None and not isinstance(branch, str | list | tuple | set):
            raise TypeError(
                f"{self} must return a task id, a list of task ids or None, got {type(branch).__name__}"
            )
        self.skip_all_except(context["ti"], branch)
        return branch


class ShortCircuitOperator(PythonOperator):
    """A falsy result skips what follows: every descendant when ignore_downstream_trigger_rules,
    otherwise the direct downstream tasks, letting trigger rules decide the rest."""

    ui_color: ClassVar[str] = "#ffefeb"

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = v.check_type(
            ignore_downstream_trigger_rules,
            bool,
            field="ignore_downstream_trigger_rules",
            owner=f"task '{self.task_id}'",
        )

    def execute(self, context: dict[str, Any]) -> Any:
        condition = super().execute(context)
        if condition:
            print("Proceeding with downstream tasks...", flush=True)
            return condition
        ti = context["ti"]
        if self.ignore_downstream_trigger_rules:
            ti.skip_downstream = tuple(sorted(self.get_flat_relative_ids()))
            ti.skip_all_descendants = True
        else:
            ti.skip_downstream = tuple(sorted(self.downstream_task_ids))
        print(
            f"Condition result is {condition!r}: skipping {', '.join(ti.skip_downstream) or 'nothing'}",
            flush=True,
        )
        return condition
