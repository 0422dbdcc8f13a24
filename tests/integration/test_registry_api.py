"""The registry's HTTP routes over a real registry, SQLite log and subprocess parser.

The app is the smallest one a gateway would build: the router under /api/couture with its own
authentication plugged in (here: an ``X-User`` header; no header may read, not write).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException

from couture_common.eventlog import Record
from couture_common.eventlog.sqlite import SqliteEventLog
from couture_common.events import DagFileProcessed, DagFileRemoved, DagParsed
from couture_common.settings import Settings
from couture_common.topics import DAG
from couture_registry.api import registry_router
from couture_registry.app import create_app
from couture_registry.blobstore import LocalBlobStore, dag_file_version
from couture_registry.code_bricks import CodeBrickStore
from couture_registry.dag_folder import DagFolder
from couture_registry.service import DagFolderRegistry
from couture_registry.validation import Limits

DAG_FILE = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("{dag_id}", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    BashOperator(task_id="hello", bash_command="echo hi")
"""


def dag_source(dag_id: str) -> bytes:
    return DAG_FILE.format(dag_id=dag_id).encode()


def can_read() -> None:
    """Everyone may read in these tests."""


def can_edit(x_user: Annotated[str | None, Header()] = None) -> str:
    if not x_user:
        raise HTTPException(403, detail="editing DAGs needs the Developer role")
    return f"user:{x_user}"


class Api:
    def __init__(self, client: httpx.AsyncClient, registry: DagFolderRegistry, log: SqliteEventLog) -> None:
        self.client = client
        self.registry = registry
        self.log = log
        self.dags = registry.folder.root

    async def dag_events(self) -> list[tuple[str, str, object]]:
        """(actor, type, payload) of everything on the dag topic so far."""
        consumer = self.log.consumer([DAG])
        end = (await self.log.end_offsets(DAG))[0]
        records: list[Record] = []
        while len(records) < end:
            records += await consumer.poll(timeout=1.0)
        await consumer.close()
        return [(r.envelope.actor, r.envelope.type, r.envelope.payload) for r in records]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    await log.start()
    registry = DagFolderRegistry(
        log=log,
        blobs=LocalBlobStore(tmp_path / "blobs"),
        folder=DagFolder(tmp_path / "dags"),
        parse_timeout=10,
        watch=False,  # uploads must be processed without waiting for the watcher
    )
    await registry.start()
    await registry.idle()
    app = FastAPI()
    limits = Limits(max_file_bytes=4096, max_archive_bytes=64 * 1024)
    router = registry_router(
        registry,
        CodeBrickStore(tmp_path / "code_bricks"),
        can_read=can_read,
        can_edit=can_edit,
        limits=limits,
    )
    app.include_router(router, prefix="/api/couture")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry/api/couture") as client:
        yield Api(client, registry, log)
    await registry.stop()
    await log.close()


ALICE = {"X-User": "alice"}


def tar_gz(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


async def test_an_uploaded_dag_file_is_parsed_before_the_answer(api: Api) -> None:
    response = await api.client.post(
        "/dags/files", files=[("files", ("etl.py", dag_source("etl")))], headers=ALICE
    )

    assert response.status_code == 200, response.text
    fileloc = str(api.dags / "etl.py")
    version = dag_file_version(dag_source("etl"))
    assert response.json() == {
        "files": [
            {
                "relative_fileloc": "etl.py",
                "fileloc": fileloc,
                "status": "parsed",
                "version": version,
                "dag_ids": ["etl"],
                "import_error": None,
            }
        ],
        "total_entries": 1,
    }
    assert (api.dags / "etl.py").read_bytes() == dag_source("etl")
    events = await api.dag_events()
    assert [(actor, kind) for actor, kind, _ in events] == [
        ("user:alice", "dag.parsed"),
        ("user:alice", "dag.file_processed"),
    ]


async def test_an_upload_needs_the_right_to_edit(api: Api) -> None:
    response = await api.client.post("/dags/files", files=[("files", ("etl.py", dag_source("etl")))])
    assert response.status_code == 403
    assert not (api.dags / "etl.py").exists()


async def test_bad_uploads_are_refused_whole_naming_each_file_at_fault(api: Api) -> None:
    response = await api.client.post(
        "/dags/files",
        files=[
            ("files", ("good.py", dag_source("good"))),
            ("files", ("../escape.py", b"x = 1\n")),
            ("files", ("notes.txt", b"hello")),
            ("files", ("big.py", b"#" * 5000)),
            ("files", ("latin1.py", "café = 1".encode("latin-1"))),
        ],
        headers=ALICE,
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "files", 1],
            "msg": "../escape.py: '../escape.py' has an empty, '.' or '..' path segment",
            "type": "value_error",
        },
        {
            "loc": ["body", "files", 2],
            "msg": "notes.txt: 'notes.txt' is not a .py file; only Python DAG files are accepted",
            "type": "value_error",
        },
        {
            "loc": ["body", "files", 3],
            "msg": "big.py: the file has 4097 bytes, more than the limit of 4096",
            "type": "value_error",
        },
        {
            "loc": ["body", "files", 4],
            "msg": "latin1.py: the file is not UTF-8 text (byte 3)",
            "type": "value_error",
        },
    ]
    assert list(api.dags.iterdir()) == []


async def test_uploading_over_another_file_needs_overwrite(api: Api) -> None:
    await api.client.post("/dags/files", files=[("files", ("etl.py", dag_source("etl")))], headers=ALICE)

    same = await api.client.post(
        "/dags/files", files=[("files", ("etl.py", dag_source("etl")))], headers=ALICE
    )
    assert same.status_code == 200

    other = await api.client.post(
        "/dags/files", files=[("files", ("etl.py", dag_source("etl2")))], headers=ALICE
    )
    assert other.status_code == 409
    assert other.json() == {
        "detail": "etl.py already exists with other content; pass overwrite=true to replace them"
    }
    assert (api.dags / "etl.py").read_bytes() == dag_source("etl")

    forced = await api.client.post(
        "/dags/files",
        files=[("files", ("etl.py", dag_source("etl2")))],
        data={"overwrite": "true"},
        headers=ALICE,
    )
    assert forced.status_code == 200
    assert forced.json()["files"][0]["dag_ids"] == ["etl2"]


async def test_an_upload_that_fails_to_import_says_why(api: Api) -> None:
    response = await api.client.post(
        "/dags/files", files=[("files", ("broken.py", b"from airflow import DAG\n1/0\n"))], headers=ALICE
    )
    [status] = response.json()["files"]
    assert status["status"] == "import_error"
    assert "ZeroDivisionError: division by zero" in status["import_error"]


async def test_creating_a_dag_in_the_editor_reviews_then_saves(api: Api) -> None:
    source = dag_source("drafted").decode()
    review = await api.client.post("/dags/files/team/drafted.py/review", json={"content": source})
    assert review.status_code == 200
    body = review.json()
    assert (body["relative_fileloc"], body["base_version"], body["changed"]) == (
        "team/drafted.py",
        None,
        True,
    )
    assert body["diff"].startswith("--- /dev/null\n+++ b/team/drafted.py\n@@ -0,0 +1,7 @@\n")
    assert not (api.dags / "team" / "drafted.py").exists()

    saved = await api.client.put("/dags/files/team/drafted.py", json={"content": source}, headers=ALICE)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["status"], saved.json()["dag_ids"]) == ("parsed", ["drafted"])

    again = await api.client.put("/dags/files/team/drafted.py", json={"content": source}, headers=ALICE)
    assert again.status_code == 409
    assert again.json()["detail"] == (
        "team/drafted.py already exists; open it for editing instead of creating it"
    )


async def test_editing_a_dag_saves_only_over_the_version_it_started_from(api: Api) -> None:
    await api.client.put("/dags/files/etl.py", json={"content": dag_source("etl").decode()}, headers=ALICE)
    opened = (await api.client.get("/dags/files/etl.py")).json()
    assert opened["content"] == dag_source("etl").decode()
    edited = opened["content"].replace("echo hi", "echo bye")

    review = (await api.client.post("/dags/files/etl.py/review", json={"content": edited})).json()
    assert review["base_version"] == opened["version"]
    assert '-    BashOperator(task_id="hello", bash_command="echo hi")\n' in review["diff"]
    assert '+    BashOperator(task_id="hello", bash_command="echo bye")\n' in review["diff"]

    saved = await api.client.put(
        "/dags/files/etl.py", json={"content": edited, "base_version": opened["version"]}, headers=ALICE
    )
    assert saved.status_code == 200
    assert saved.json()["version"] == dag_file_version(edited.encode())

    stale = await api.client.put(
        "/dags/files/etl.py", json={"content": "x = 1\n", "base_version": opened["version"]}, headers=ALICE
    )
    assert stale.status_code == 409
    assert stale.json()["detail"].startswith(
        f"etl.py changed since version {opened['version'][:12]} was opened"
    )
    assert (api.dags / "etl.py").read_text() == edited


async def test_file_names_in_the_path_are_checked(api: Api) -> None:
    for bad in ["..%2Fsecrets.py", "etl.txt", ".hidden.py"]:
        response = await api.client.get(f"/dags/files/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["path", "relative_fileloc"]
    assert (await api.client.get("/dags/files/missing.py")).status_code == 404


async def test_listing_shows_each_file_with_its_parse_status(api: Api) -> None:
    await api.client.post(
        "/dags/files",
        files=[
            ("files", ("etl.py", dag_source("etl"))),
            ("files", ("broken.py", b"raise ImportError('no pandas')\n")),
            ("files", ("_helpers.py", b"X = 1\n")),
        ],
        headers=ALICE,
    )
    listing = (await api.client.get("/dags/files")).json()
    assert listing["total_entries"] == 3
    assert [(f["relative_fileloc"], f["status"], f["dag_ids"]) for f in listing["files"]] == [
        ("_helpers.py", "ignored", []),
        ("broken.py", "import_error", []),
        ("etl.py", "parsed", ["etl"]),
    ]


async def test_deleting_a_file_removes_its_dags(api: Api) -> None:
    await api.client.post("/dags/files", files=[("files", ("etl.py", dag_source("etl")))], headers=ALICE)

    assert (await api.client.delete("/dags/files/etl.py")).status_code == 403
    assert (await api.client.delete("/dags/files/etl.py", headers=ALICE)).status_code == 204
    assert (await api.client.delete("/dags/files/etl.py", headers=ALICE)).status_code == 404

    assert not (api.dags / "etl.py").exists()
    *_, (actor, _, removed) = await api.dag_events()
    assert (actor, removed) == ("user:alice", DagFileRemoved(fileloc=str(api.dags / "etl.py")))


async def test_a_stored_version_stays_readable_after_the_file_changed(api: Api) -> None:
    await api.client.post("/dags/files", files=[("files", ("etl.py", dag_source("etl")))], headers=ALICE)
    first = dag_file_version(dag_source("etl"))
    await api.client.post(
        "/dags/files",
        files=[("files", ("etl.py", dag_source("v2")))],
        data={"overwrite": "true"},
        headers=ALICE,
    )

    response = await api.client.get(f"/dags/versions/{first}")
    assert response.json() == {"version": first, "content": dag_source("etl").decode()}
    assert (await api.client.get(f"/dags/versions/{'0' * 64}")).status_code == 404
    assert (await api.client.get("/dags/versions/..%2F..%2Fetc")).status_code in (404, 422)


async def test_export_then_import_moves_a_dag_folder(api: Api, tmp_path: Path) -> None:
    await api.client.post(
        "/dags/files",
        files=[("files", ("etl.py", dag_source("etl"))), ("files", ("_common.py", b"X = 1\n"))],
        headers=ALICE,
    )
    await api.client.put(
        "/dags/files/team/report.py", json={"content": dag_source("report").decode()}, headers=ALICE
    )

    exported = await api.client.get("/dags/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(exported.content), mode="r:gz") as archive:
        assert sorted(archive.getnames()) == ["_common.py", "etl.py", "team/report.py"]

    for name in ["etl.py", "_common.py", "team/report.py"]:
        assert (await api.client.delete(f"/dags/files/{name}", headers=ALICE)).status_code == 204

    imported = await api.client.post(
        "/dags/import", files={"sources": ("dags.tar.gz", exported.content)}, headers=ALICE
    )
    assert imported.status_code == 200, imported.text
    assert [(f["relative_fileloc"], f["status"]) for f in imported.json()["files"]] == [
        ("_common.py", "ignored"),
        ("etl.py", "parsed"),
        ("team/report.py", "parsed"),
    ]
    assert (api.dags / "team" / "report.py").read_bytes() == dag_source("report")
    kinds = [(kind, getattr(payload, "dag_id", None)) for _, kind, payload in await api.dag_events()]
    assert kinds[-4:] == [
        ("dag.parsed", "etl"),
        ("dag.file_processed", None),
        ("dag.parsed", "report"),
        ("dag.file_processed", None),
    ] or kinds[-4:] == [
        ("dag.parsed", "report"),
        ("dag.file_processed", None),
        ("dag.parsed", "etl"),
        ("dag.file_processed", None),
    ]


async def test_an_unsafe_archive_writes_nothing_and_names_each_bad_member(api: Api) -> None:
    archive = tar_gz(("good.py", dag_source("good")), ("../../etc/cron.py", b""), ("README.md", b"hi"))

    response = await api.client.post(
        "/dags/import", files={"sources": ("dags.tar.gz", archive)}, headers=ALICE
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "sources"],
            "msg": "../../etc/cron.py: '../../etc/cron.py' has an empty, '.' or '..' path segment",
            "type": "value_error",
        },
        {
            "loc": ["body", "sources"],
            "msg": "README.md: 'README.md' is not a .py file; only Python DAG files are accepted",
            "type": "value_error",
        },
    ]
    assert not api.dags.exists() or list(api.dags.iterdir()) == []


async def test_importing_over_other_content_needs_overwrite(api: Api) -> None:
    await api.client.post("/dags/files", files=[("files", ("etl.py", dag_source("etl")))], headers=ALICE)
    archive = tar_gz(("etl.py", dag_source("replaced")), ("new.py", dag_source("new")))

    refused = await api.client.post("/dags/import", files={"sources": ("d.tar.gz", archive)}, headers=ALICE)
    assert refused.status_code == 409
    assert not (api.dags / "new.py").exists()

    accepted = await api.client.post(
        "/dags/import", files={"sources": ("d.tar.gz", archive)}, data={"overwrite": "true"}, headers=ALICE
    )
    assert accepted.status_code == 200
    assert [f["dag_ids"] for f in accepted.json()["files"]] == [["replaced"], ["new"]]


async def test_something_else_than_a_tar_gz_is_refused(api: Api) -> None:
    response = await api.client.post(
        "/dags/import", files={"sources": ("dags.zip", b"PK\x03\x04 not a tarball")}, headers=ALICE
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "sources"]
    assert problem["msg"].startswith("not a gzip-compressed tar archive")


async def test_code_bricks_can_be_listed_added_edited_and_deleted(api: Api) -> None:
    assert (await api.client.get("/code-bricks")).json() == {"code_bricks": [], "total_entries": 0}

    added = await api.client.post(
        "/code-bricks",
        json={"title": "Spark task", "code": "t = SparkOperator(task_id='t')\n"},
        headers=ALICE,
    )
    assert added.status_code == 201
    brick = added.json()
    assert (brick["title"], brick["created_by"]) == ("Spark task", "user:alice")
    await api.client.post("/code-bricks", json={"title": "bash task", "code": "b = 1\n"}, headers=ALICE)

    titles = [b["title"] for b in (await api.client.get("/code-bricks")).json()["code_bricks"]]
    assert titles == ["bash task", "Spark task"]

    edited = await api.client.put(
        f"/code-bricks/{brick['id']}", json={"title": "Spark job", "code": "s = 2\n"}, headers=ALICE
    )
    assert (edited.json()["title"], edited.json()["code"]) == ("Spark job", "s = 2\n")
    assert (await api.client.get(f"/code-bricks/{brick['id']}")).json()["title"] == "Spark job"

    assert (await api.client.delete(f"/code-bricks/{brick['id']}", headers=ALICE)).status_code == 204
    assert (await api.client.get(f"/code-bricks/{brick['id']}")).status_code == 404
    assert (await api.client.delete(f"/code-bricks/{brick['id']}", headers=ALICE)).status_code == 404


async def test_a_bad_code_brick_names_the_field(api: Api) -> None:
    response = await api.client.post("/code-bricks", json={"title": " ", "code": "x"}, headers=ALICE)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "title"], "msg": "the title is empty", "type": "value_error"}
    ]
    assert (await api.client.post("/code-bricks", json={"title": "t", "code": "x"})).status_code == 403


async def test_every_parsed_version_is_in_the_blob_store(api: Api) -> None:
    await api.client.post(
        "/dags/files",
        files=[("files", ("a.py", dag_source("a"))), ("files", ("b.py", dag_source("b")))],
        headers=ALICE,
    )
    for _, _, payload in await api.dag_events():
        if isinstance(payload, DagParsed | DagFileProcessed):
            assert dag_file_version(api.registry.blobs.get_dag_file(payload.version)) == payload.version


async def test_the_registry_service_app_scans_its_folder_and_serves_the_routes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, parse_timeout=10)
    settings.dags_path.mkdir(parents=True)
    (settings.dags_path / "present.py").write_bytes(dag_source("present"))
    log = SqliteEventLog(tmp_path / "events.db", sync="normal")
    app = create_app(settings, log, can_read=can_read, can_edit=can_edit)
    transport = httpx.ASGITransport(app=app)

    async with app.router.lifespan_context(app):
        registry: DagFolderRegistry = app.state.registry
        await registry.idle()
        async with httpx.AsyncClient(transport=transport, base_url="http://registry/api/couture") as client:
            uploaded = await client.post(
                "/dags/files", files=[("files", ("new.py", dag_source("new")))], headers=ALICE
            )
            assert uploaded.status_code == 200
            listing = (await client.get("/dags/files")).json()["files"]
    await log.close()

    assert [(f["relative_fileloc"], f["dag_ids"]) for f in listing] == [
        ("new.py", ["new"]),
        ("present.py", ["present"]),
    ]
    assert LocalBlobStore(settings.blobs_path).get_dag_file(dag_file_version(dag_source("new")))
