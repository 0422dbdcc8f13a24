"""What a try reports as its rendered template fields: rendered values, secrets masked, capped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from couture_sdk.dag import DAG
from couture_sdk.local_runtime import LocalRuntime
from couture_sdk.operators.bash import BashOperator
from couture_sdk.operators.python import PythonOperator
from couture_sdk.rendered_fields import MAX_FIELD_LENGTH, TRUNCATED, rendered_fields
from couture_sdk.secrets_masker import SecretsMasker

from .conftest import RunTask


def test_a_bash_try_reports_its_rendered_command_with_the_secret_it_read_masked(
    runtime: LocalRuntime, run_task: RunTask
) -> None:
    runtime.variables["api_key"] = "ak-0c9d2e77"
    with DAG("rendering", start_date=datetime(2024, 1, 1, tzinfo=UTC), schedule=None):
        task = BashOperator(
            task_id="call",
            bash_command="echo 'key: {{ var.value.api_key }}' /report/{{ ds }}",
            env={"DB_PASSWORD": "{{ var.value.api_key }}x", "DAY": "{{ ds_nodash }}"},
        )
    reported: list[dict[str, Any]] = []

    result, _ = run_task(task, on_rendered=reported.append)

    assert result.state == "success", result.error
    [fields] = reported
    assert fields["bash_command"] == "echo 'key: ***' /report/2024-03-10"
    assert fields["env"] == {"DB_PASSWORD": "***", "DAY": "20240310"}
    assert "ak-0c9d2e77" not in repr(fields)


def test_a_try_whose_templates_fail_to_render_reports_nothing(run_task: RunTask) -> None:
    with DAG("rendering", start_date=datetime(2024, 1, 1, tzinfo=UTC), schedule=None):
        task = BashOperator(task_id="broken", bash_command="echo {{ nope.missing }}")
    reported: list[dict[str, Any]] = []

    result, _ = run_task(task, on_rendered=reported.append)

    assert result.state == "failed"
    assert reported == []


def test_long_fields_are_capped_after_masking_and_objects_show_as_json_data() -> None:
    masker = SecretsMasker()
    masker.add("tail-secret-123")
    with DAG("rendering", start_date=datetime(2024, 1, 1, tzinfo=UTC), schedule=None):
        task = PythonOperator(
            task_id="py",
            python_callable=lambda: None,
            # The secret straddles where the cut falls: masked first, no part of it survives.
            op_args=["x" * (MAX_FIELD_LENGTH - len(TRUNCATED) - 10) + "tail-secret-123" + "y" * 100],
            op_kwargs={"when": datetime(2024, 1, 2, tzinfo=UTC), "n": 3},
        )

    fields = rendered_fields(task, masker)

    assert isinstance(fields["op_args"], str)
    assert fields["op_args"].startswith("Truncated: ")
    assert len(fields["op_args"]) == MAX_FIELD_LENGTH
    assert "x***y" in fields["op_args"]
    assert "tail-" not in fields["op_args"]
    assert fields["op_kwargs"] == {"when": "2024-01-02T00:00:00+00:00", "n": 3}
    assert fields["templates_dict"] is None
