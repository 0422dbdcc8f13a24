"""Running one try of a task inside a task process: render, execute, push the result, and turn
whatever happened into a :class:`TaskResult`. Nothing raised by user code escapes."""

from __future__ import annotations

import json
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Literal

import msgspec

from couture_sdk.baseoperator import BaseOperator
from couture_sdk.context import Context, set_current_context
from couture_sdk.exceptions import AirflowFailException, AirflowSkipException, AirflowTaskTimeout
from couture_sdk.rendered_fields import rendered_fields
from couture_sdk.taskinstance import XCOM_RETURN_KEY, TaskInstance

TaskState = Literal["success", "failed", "skipped"]


class TaskResult(msgspec.Struct, frozen=True, kw_only=True):
    state: TaskState
    #: The traceback text when the task failed.
    error: str | None = None
    #: Tasks to mark skipped because a branch was not taken or a short circuit fired.
    skip_downstream: tuple[str, ...] = ()
    #: ShortCircuitOperator: the skips above cover every descendant, whatever their trigger rules.
    skip_all_descendants: bool = False
    #: AirflowFailException: fail now, whatever retries are left.
    no_retry: bool = False


#: Receives the try's rendered template fields (masked, capped) once rendering succeeded.
RenderedSink = Callable[[dict[str, Any]], None]


def execute_task(task: BaseOperator, context: Context, on_rendered: RenderedSink | None = None) -> TaskResult:
    ti = context.get("ti")
    if not isinstance(ti, TaskInstance):
        return TaskResult(
            state="failed",
            error="The task's context has no task instance ('ti'); build it with build_context",
        )
    set_current_context(context)
    try:
        result = _run(task, context, ti, on_rendered)
    finally:
        set_current_context(None)
    _run_callback(task, result, ti, context)
    return result


def _run(
    task: BaseOperator, context: Context, ti: TaskInstance, on_rendered: RenderedSink | None
) -> TaskResult:
    try:
        task.render_template_fields(context)
        if on_rendered is not None:
            on_rendered(rendered_fields(task))
        if task.on_execute_callback is not None:
            task.on_execute_callback(context)
        with _timeout(task):
            task.pre_execute(context)
            value = task.execute(context)
            task.post_execute(context, value)
        if task.do_xcom_push and value is not None:
            _push_return_value(task, ti, value)
    except AirflowSkipException as exc:
        print(f"Task skipped: {exc}", flush=True)
        return TaskResult(state="skipped")
    except AirflowFailException:
        return TaskResult(state="failed", error=traceback.format_exc(), no_retry=True)
    except BaseException:  # a task's failure is data, never an escape
        return TaskResult(state="failed", error=traceback.format_exc())
    return TaskResult(
        state="success",
        skip_downstream=ti.skip_downstream,
        skip_all_descendants=ti.skip_all_descendants,
    )


def _push_return_value(task: BaseOperator, ti: TaskInstance, value: Any) -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"The value returned by {task} cannot be stored as an XCom: it must be JSON-serialisable "
            f"({exc}). Return JSON data, or set do_xcom_push=False."
        ) from None
    ti.xcom_push(XCOM_RETURN_KEY, value)


@contextmanager
def _timeout(task: BaseOperator) -> Iterator[None]:
    """execution_timeout with SIGALRM, as Airflow does; only the main thread can take signals."""
    limit = task.execution_timeout
    if limit is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        task.on_kill()
        raise AirflowTaskTimeout(
            f"Timeout, PID: {threading.get_native_id()}: ran past execution_timeout {limit}"
        )

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(limit.total_seconds(), 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_callback(task: BaseOperator, result: TaskResult, ti: TaskInstance, context: Context) -> None:
    """on_success / on_retry / on_failure, in the task process like Airflow; a callback's own
    error is reported in the log and never changes the task's state."""
    callback: Callable[[Context], Any] | None
    if result.state == "success":
        callback = task.on_success_callback
    elif result.state == "failed":
        will_retry = not result.no_retry and ti.try_number <= ti.max_tries
        callback = task.on_retry_callback if will_retry else task.on_failure_callback
        context["exception"] = result.error
    else:
        return
    if callback is None:
        return
    try:
        callback(context)
    except BaseException:  # see the docstring
        print(f"Error in a callback of {task}:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
