"""Import errors and DAG tags are filtered per DAG: a custom role with per-DAG read sees the errors
of files defining its DAGs (the stack trace only when it may read every DAG of the file) and the
tags of its DAGs; a user who may read every DAG sees everything."""

from __future__ import annotations

import hashlib

import msgspec

from couture_common.events import DagFileProcessed, DagImportFailed, DagParsed, RoleSet

from .test_gateway import Harness, dag_spec, harness, signing_key_pem
from .test_rbac import sign_in

__all__ = ["harness", "signing_key_pem"]

REDACTED = "REDACTED - you do not have read permission on all DAGs in the file"
TRACES = {
    "/dags/shared.py": "Traceback: NameError in shared.py",
    "/dags/report.py": "Traceback: SyntaxError in report.py",
    "/dags/never_parsed.py": "Traceback: ImportError in never_parsed.py",
}


async def seed(harness: Harness) -> None:
    """``etl`` and ``payroll`` live in one file, ``report`` in another; the three files now fail."""
    for dag_id, fileloc, tags in (
        ("etl", "/dags/shared.py", ("finance",)),
        ("payroll", "/dags/shared.py", ("hr",)),
        ("report", "/dags/report.py", ("finance", "weekly")),
    ):
        spec = msgspec.structs.replace(dag_spec(dag_id, tags=tags), fileloc=fileloc)
        version = hashlib.sha256(fileloc.encode()).hexdigest()
        await harness.append(DagParsed(dag_id=dag_id, version=version, spec=spec))
    await harness.append(
        DagFileProcessed(fileloc="/dags/shared.py", version="v1", dag_ids=("etl", "payroll")),
        *(DagImportFailed(fileloc=f, version="v2", stacktrace=trace) for f, trace in TRACES.items()),
    )


async def role(harness: Harness, name: str, *dag_ids: str) -> dict[str, str]:
    permissions = (
        ("can_index", "Airflow"),
        ("can_list", "DagModelView"),
        *(("can_dag_read", dag_id) for dag_id in dag_ids),
    )
    await harness.append(RoleSet(name=name, permissions=permissions))
    return await sign_in(harness, f"{name}-user", name)


async def errors(harness: Harness, headers: dict[str, str]) -> tuple[dict[str, str], int]:
    answer = await harness.client.get("/api/v2/importErrors", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {e["filename"]: e["stack_trace"] for e in body["import_errors"]}, body["total_entries"]


async def one_error(harness: Harness, headers: dict[str, str], filename: str) -> tuple[int, str]:
    every = (await harness.get("/api/v2/importErrors")).json()["import_errors"]
    error_id = next(e["import_error_id"] for e in every if e["filename"] == filename)
    answer = await harness.client.get(f"/api/v2/importErrors/{error_id}", headers=headers)
    body = answer.json()
    return answer.status_code, body.get("stack_trace") or body["detail"]


async def test_who_may_read_every_dag_sees_every_error_in_full(harness: Harness) -> None:
    await seed(harness)
    assert await errors(harness, harness.auth) == (TRACES, 3)
    viewer = await sign_in(harness, "vic", "Viewer")
    assert await errors(harness, viewer) == (TRACES, 3)
    assert await one_error(harness, viewer, "/dags/never_parsed.py") == (200, TRACES["/dags/never_parsed.py"])


async def test_a_per_dag_role_sees_errors_of_its_files_redacted_where_it_cannot_read_every_dag(
    harness: Harness,
) -> None:
    await seed(harness)
    team_a = await role(harness, "team-a", "etl", "report")
    assert await errors(harness, team_a) == (
        {"/dags/shared.py": REDACTED, "/dags/report.py": TRACES["/dags/report.py"]},
        2,
    )
    assert await one_error(harness, team_a, "/dags/report.py") == (200, TRACES["/dags/report.py"])
    assert await one_error(harness, team_a, "/dags/shared.py") == (200, REDACTED)
    assert await one_error(harness, team_a, "/dags/never_parsed.py") == (
        403,
        "You do not have read permission on any of the DAGs in the file",
    )

    both = await role(harness, "team-shared", "etl", "payroll")
    assert await errors(harness, both) == ({"/dags/shared.py": TRACES["/dags/shared.py"]}, 1)

    nothing = await role(harness, "team-none")
    assert await errors(harness, nothing) == ({}, 0)
    assert (await one_error(harness, nothing, "/dags/report.py"))[0] == 403


async def test_dag_tags_list_only_tags_of_readable_dags(harness: Harness) -> None:
    await seed(harness)

    async def tags(headers: dict[str, str], query: str = "") -> list[str]:
        answer = await harness.client.get(f"/api/v2/dagTags{query}", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["total_entries"] == len(answer.json()["tags"])
        return list(answer.json()["tags"])

    assert await tags(harness.auth) == ["finance", "hr", "weekly"]
    assert await tags(await role(harness, "team-a", "etl", "report")) == ["finance", "weekly"]
    assert await tags(await role(harness, "team-hr", "payroll")) == ["hr"]
    assert await tags(await role(harness, "team-hr-w", "payroll"), "?tag_name_pattern=fin") == []
    assert await tags(await role(harness, "team-none")) == []
