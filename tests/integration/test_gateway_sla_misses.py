"""Browse → SLA Misses over the REST API: what the scheduler recorded, newest first, readable DAGs only."""

from __future__ import annotations

from datetime import timedelta

from couture_common.events import SlaMissed

from .test_gateway import START, Harness, harness, signing_key_pem
from .test_rbac import role_body, sign_in

__all__ = ["harness", "signing_key_pem"]


async def missed(h: Harness, dag_id: str, run_id: str, task_id: str, hours: int) -> None:
    await h.append(
        SlaMissed(
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            logical_date=START,
            deadline=START + timedelta(hours=hours),
        ),
        actor="service:scheduler",
    )


async def test_sla_misses_are_listed_newest_first_filtered_and_only_for_readable_dags(
    harness: Harness,
) -> None:
    h = harness
    for dag_id in ("etl", "payroll"):
        await h.add_dag(dag_id)
        await h.accept_run(dag_id, "scheduled__1")
    await missed(h, "etl", "scheduled__1", "extract", 1)
    await missed(h, "payroll", "scheduled__1", "load", 2)
    await missed(h, "etl", "scheduled__1", "load", 3)
    # Redelivered: recorded once.
    await missed(h, "etl", "scheduled__1", "load", 3)

    every = (await h.get("/api/couture/slaMisses")).json()
    assert every["total_entries"] == 3
    assert [(m["dag_id"], m["task_id"]) for m in every["sla_misses"]] == [
        ("etl", "load"),
        ("payroll", "load"),
        ("etl", "extract"),
    ]
    first = every["sla_misses"][0]
    assert first["dag_run_id"] == "scheduled__1"
    assert first["deadline"] == (START + timedelta(hours=3)).isoformat().replace("+00:00", "Z")

    etl = (await h.get("/api/couture/slaMisses", params={"dag_id": "etl", "order_by": "deadline"})).json()
    assert [m["task_id"] for m in etl["sla_misses"]] == ["extract", "load"]
    paged = (await h.get("/api/couture/slaMisses", params={"limit": 1, "offset": 1})).json()
    assert [m["dag_id"] for m in paged["sla_misses"]] == ["payroll"]
    assert paged["total_entries"] == 3
    bad = await h.get("/api/couture/slaMisses", params={"order_by": "secret"})
    assert bad.status_code == 400

    role = role_body("team-a", ("can_list", "SlaMissModelView"), ("can_dag_read", "etl"))
    assert (await h.post("/api/couture/security/roles", json=role)).status_code == 201
    team = await sign_in(h, "tess", "team-a")
    mine = (await h.client.get("/api/couture/slaMisses", headers=team)).json()
    assert {m["dag_id"] for m in mine["sla_misses"]} == {"etl"}
    assert mine["total_entries"] == 2
    hidden = await h.client.get("/api/couture/slaMisses", headers=team, params={"dag_id": "payroll"})
    assert hidden.json() == {"sla_misses": [], "total_entries": 0}
    public = await sign_in(h, "pat", "Public")
    assert (await h.client.get("/api/couture/slaMisses", headers=public)).status_code == 403
