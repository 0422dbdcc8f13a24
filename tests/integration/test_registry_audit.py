"""Registry writes (and the export of every DAG file) reach the audit trail with the user who made
them, as gateway writes do: served by the gateway (standalone) and by ``couture registry`` alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from couture_common.events import UserCreated
from couture_gateway.deps import registry_editor, registry_reader
from couture_registry.api import registry_router
from couture_registry.code_bricks import CodeBrickStore
from couture_registry.service import DagFolderRegistry

from .test_auth_audit import audit_entries
from .test_auth_registry import FILES, PASSWORD_HASH, bearer, registry
from .test_gateway import Harness, harness, signing_key_pem
from .test_registry_api import dag_source, tar_gz

__all__ = ["harness", "registry", "signing_key_pem"]


@pytest.fixture
async def standalone(harness: Harness, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with the registry's routes mounted as ``couture standalone`` mounts them."""
    harness.settings.dags_path.mkdir(parents=True, exist_ok=True)
    folders = DagFolderRegistry.from_settings(harness.settings, harness.log, watch=False)
    await folders.start()
    await folders.idle()
    harness.app.include_router(
        registry_router(
            folders, CodeBrickStore(tmp_path / "bricks"), can_read=registry_reader, can_edit=registry_editor
        ),
        prefix="/api/couture",
    )
    try:
        yield harness.client
    finally:
        await folders.stop()


async def developers(harness: Harness) -> tuple[dict[str, str], dict[str, str]]:
    """Bearer headers of a Developer (may edit DAG files) and a Viewer (may not)."""
    await harness.append(
        UserCreated(username="dev", password_hash=PASSWORD_HASH, roles=("Developer",)),
        UserCreated(username="vic", password_hash=PASSWORD_HASH, roles=("Viewer",)),
    )
    return await bearer(harness, "dev"), await bearer(harness, "vic")


def by_action(entries: list[dict[str, object]]) -> dict[str, list[tuple[object, object]]]:
    """action -> [(username, outcome)] of every audit entry."""
    found: dict[str, list[tuple[object, object]]] = {}
    for entry in entries:
        found.setdefault(str(entry["action"]), []).append((entry["username"], entry["outcome"]))
    return found


async def test_every_registry_write_at_the_gateway_is_audited_with_its_user(
    harness: Harness, standalone: httpx.AsyncClient
) -> None:
    dev, vic = await developers(harness)
    uploaded = await standalone.post(
        f"{FILES}", files=[("files", ("etl.py", dag_source("etl")))], headers=dev
    )
    assert uploaded.status_code == 200, uploaded.text
    version = uploaded.json()["files"][0]["version"]
    edited = await standalone.put(
        f"{FILES}/etl.py",
        json={"content": dag_source("etl").decode() + "\n", "base_version": version},
        headers=dev,
    )
    assert edited.status_code == 200, edited.text
    archive = tar_gz(("load.py", dag_source("load")))
    imported = await standalone.post(
        "/api/couture/dags/import", files=[("sources", ("dags.tar.gz", archive))], headers=dev
    )
    assert imported.status_code == 200, imported.text
    brick = await standalone.post(
        "/api/couture/code-bricks", json={"title": "t", "code": "x = 1"}, headers=dev
    )
    assert brick.status_code == 201, brick.text
    brick_url = f"/api/couture/code-bricks/{brick.json()['id']}"
    assert (
        await standalone.put(brick_url, json={"title": "t2", "code": "x = 2"}, headers=dev)
    ).status_code == 200
    assert (await standalone.delete(brick_url, headers=dev)).status_code == 204
    assert (await standalone.delete(f"{FILES}/etl.py", headers=dev)).status_code == 204
    assert (await standalone.delete(f"{FILES}/load.py", headers=vic)).status_code == 403
    assert (await standalone.get("/api/couture/dags/export", headers=dev)).status_code == 200
    # Other reads are not recorded.
    assert (await standalone.get(FILES, headers=dev)).status_code == 200

    actions = by_action(await audit_entries(harness))
    for action in (
        "upload_dag_files",
        "save_dag_file",
        "import_dags",
        "add_code_brick",
        "update_code_brick",
        "delete_code_brick",
        "export_dags",
    ):
        assert actions[action] == [("dev", "success")], action
    # A refused write names who was refused.
    assert sorted(actions["delete_dag_file"]) == [("dev", "success"), ("vic", "denied")]
    assert "list_dag_files" not in actions


async def test_writes_to_the_registry_service_are_audited_with_their_user(
    harness: Harness, registry: httpx.AsyncClient
) -> None:
    dev, vic = await developers(harness)
    uploaded = await registry.post(FILES, files=[("files", ("etl.py", dag_source("etl")))], headers=dev)
    assert uploaded.status_code == 200, uploaded.text
    assert (await registry.delete(f"{FILES}/etl.py", headers=vic)).status_code == 403
    assert (await registry.get("/api/couture/dags/export", headers=dev)).status_code == 200
    assert (await registry.delete(f"{FILES}/etl.py", headers=dev)).status_code == 204
    # Without credentials there is no user to name: the record says which service refused.
    assert (await registry.delete(f"{FILES}/etl.py")).status_code == 401

    entries = [e for e in await audit_entries(harness) if e["action"] != "login"]
    assert [(e["action"], e["username"], e["outcome"]) for e in reversed(entries)] == [
        ("upload_dag_files", "dev", "success"),
        ("delete_dag_file", "vic", "denied"),
        ("export_dags", "dev", "success"),
        ("delete_dag_file", "dev", "success"),
        ("delete_dag_file", None, "denied"),
    ]
