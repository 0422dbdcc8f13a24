"""Given ``ti.rendered`` events, the rendered_task_instance_fields rows (one per try)."""

from __future__ import annotations

from couture_common.events import DagRunDeleted, TaskInstanceRendered
from couture_gateway.readmodels.tables import rendered_task_instance_fields as rendered_table

from .builders import ReadModels
from .test_run_models import RUN, a_created_run, a_try


def rendered(try_number: int, command: str, run_id: str = RUN) -> TaskInstanceRendered:
    return TaskInstanceRendered(
        dag_id="etl",
        run_id=run_id,
        task_id="extract",
        try_number=try_number,
        rendered_fields={"bash_command": command, "env": {"TOKEN": "***"}},
    )


async def test_each_try_keeps_what_it_rendered(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(*a_try("extract", 1, "up_for_retry"), rendered(1, "echo 2024-01-01"))
    await models.given(rendered(2, "echo 2024-01-02"))

    rows = await models.rows(rendered_table)

    assert [(r["try_number"], r["rendered_fields"]["bash_command"]) for r in rows] == [
        (1, "echo 2024-01-01"),
        (2, "echo 2024-01-02"),
    ]
    assert rows[0]["rendered_fields"]["env"] == {"TOKEN": "***"}


async def test_a_redelivered_rendered_event_changes_nothing(models: ReadModels) -> None:
    await a_created_run(models)
    await models.given(rendered(1, "echo once"))
    before = await models.dump()

    await models.given(rendered(1, "echo once"))

    after = await models.dump()
    assert after[rendered_table.name] == before[rendered_table.name]


async def test_deleting_a_run_deletes_its_rendered_fields_and_late_ones_are_dropped(
    models: ReadModels,
) -> None:
    await a_created_run(models)
    await models.given(rendered(1, "echo before"))
    await models.given(DagRunDeleted(dag_id="etl", run_id=RUN), actor="user:alice")
    assert await models.rows(rendered_table) == []

    await models.given(rendered(2, "echo late"))

    assert await models.rows(rendered_table) == []


async def test_rendered_fields_of_an_unknown_run_are_not_kept(models: ReadModels) -> None:
    await models.given(rendered(1, "echo nowhere", run_id="manual__never"))

    assert await models.rows(rendered_table) == []
