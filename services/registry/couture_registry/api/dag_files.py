"""DAG files: upload, create and edit with review, source, delete, and the folder as ``.tar.gz``.

Writes land in the DAG folder atomically and are parsed before the answer, so the answer says
whether the file imported; the folder watcher would have found them too, a moment later.
"""

# No ``from __future__ import annotations``: FastAPI must see the route signatures evaluated,
# since they name dependencies that exist only inside the router factory.

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile, status

from couture_registry.api.errors import conflict, invalid, invalid_many, not_found
from couture_registry.api.schemas import (
    DagFile,
    DagFileEdit,
    DagFileList,
    DagFileProposal,
    DagFileReview,
    DagFileSource,
    DagVersionSource,
)
from couture_registry.archive import ArchiveError, build_dag_archive, read_dag_archive
from couture_registry.blobstore import BlobNotFoundError, check_version, dag_file_version
from couture_registry.service import DagFolderRegistry, FileConflictError, FileStatus
from couture_registry.source_diff import unified_diff
from couture_registry.validation import InvalidDagFileError, Limits, check_dag_file_name, check_source


def dag_files_router(
    registry: DagFolderRegistry,
    *,
    can_read: Callable[..., Any],
    can_edit: Callable[..., Any],
    limits: Limits | None = None,
) -> APIRouter:
    """Routes over ``registry``; ``can_read`` guards reads, ``can_edit`` guards writes and returns
    the actor (``user:<name>``) recorded on the events a write causes."""
    limits = limits or Limits()
    router = APIRouter(prefix="/dags", tags=["DAG files"])
    Editor = Annotated[str, Depends(can_edit)]
    read_guard = [Depends(can_read)]

    @router.get("/files", dependencies=read_guard)
    async def list_dag_files() -> DagFileList:
        """Every .py file of the DAG folder with its parse status."""
        files = [_file_out(status) for status in await registry.files()]
        return DagFileList(files=files, total_entries=len(files))

    @router.post("/files")
    async def upload_dag_files(
        actor: Editor,
        files: Annotated[list[UploadFile], File(description="One or more .py DAG files.")],
        overwrite: Annotated[bool, Form(description="Replace files that exist with other content.")] = False,
    ) -> DagFileList:
        """Upload DAG files into the DAG folder; nothing is written unless every file is acceptable."""
        accepted: dict[str, bytes] = {}
        problems: list[tuple[list[str | int], str]] = []
        for index, upload in enumerate(files):
            name = upload.filename or ""
            try:
                relative_fileloc = check_dag_file_name(name)
                content = await upload.read(limits.max_file_bytes + 1)
                check_source(content, limits)
            except InvalidDagFileError as error:
                problems.append((["body", "files", index], f"{name or 'file'}: {error}"))
                continue
            if relative_fileloc in accepted:
                problems.append((["body", "files", index], f"{relative_fileloc} is uploaded twice"))
                continue
            accepted[relative_fileloc] = content
        if problems:
            raise invalid_many(problems)
        if not accepted:
            raise invalid(["body", "files"], "no file was uploaded")
        saved = await _save(registry, accepted, actor=actor, overwrite=overwrite)
        return DagFileList(files=saved, total_entries=len(saved))

    @router.get("/files/{relative_fileloc:path}", dependencies=read_guard)
    async def get_dag_file_source(relative_fileloc: str) -> DagFileSource:
        """The current source of a file in the DAG folder."""
        name = _checked_name(relative_fileloc)
        content = await asyncio.to_thread(registry.folder.read, name)
        if content is None:
            raise not_found(f"DAG file {name} does not exist")
        return DagFileSource(
            relative_fileloc=name,
            fileloc=registry.folder.fileloc_of(name),
            version=dag_file_version(content),
            content=content.decode("utf-8", "replace"),
        )

    @router.post("/files/{relative_fileloc:path}/review", dependencies=read_guard)
    async def review_dag_file(relative_fileloc: str, proposal: DagFileProposal) -> DagFileReview:
        """What saving ``content`` would change: a unified diff against the stored file; saves nothing."""
        name = _checked_name(relative_fileloc)
        _check_body_source(proposal.content, limits)
        stored = await asyncio.to_thread(registry.folder.read, name)
        stored_text = None if stored is None else stored.decode("utf-8", "replace")
        diff = unified_diff(name, stored_text, proposal.content)
        return DagFileReview(
            relative_fileloc=name,
            base_version=None if stored is None else dag_file_version(stored),
            changed=stored_text != proposal.content,
            diff=diff,
        )

    @router.put("/files/{relative_fileloc:path}")
    async def save_dag_file(relative_fileloc: str, edit: DagFileEdit, actor: Editor) -> DagFile:
        """Create a file (``base_version`` null) or save an edit of the version it started from."""
        name = _checked_name(relative_fileloc)
        content = _check_body_source(edit.content, limits)
        [saved] = await _save(registry, {name: content}, actor=actor, base_versions={name: edit.base_version})
        return saved

    @router.delete("/files/{relative_fileloc:path}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_dag_file(relative_fileloc: str, actor: Editor) -> Response:
        """Remove a file from the DAG folder; the DAGs it defined go with it."""
        name = _checked_name(relative_fileloc)
        if not await registry.delete(name, actor=actor):
            raise not_found(f"DAG file {name} does not exist")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/versions/{version}", dependencies=read_guard)
    async def get_dag_version_source(version: str) -> DagVersionSource:
        """The source of a stored version (what a run pinned to that version executes)."""
        try:
            check_version(version)
            content = await asyncio.to_thread(registry.blobs.get_dag_file, version)
        except ValueError as error:
            raise invalid(["path", "version"], str(error)) from None
        except BlobNotFoundError as error:
            raise not_found(str(error)) from None
        return DagVersionSource(version=version, content=content.decode("utf-8", "replace"))

    @router.get(
        "/export",
        dependencies=read_guard,
        response_class=Response,
        responses={200: {"content": {"application/gzip": {}}, "description": "The DAG folder's .py files."}},
    )
    async def export_dags() -> Response:
        """Every .py file of the DAG folder as a ``.tar.gz``, paths relative to the folder."""
        entries = await registry.files()
        pairs = [
            (entry.relative_fileloc, registry.folder.path_of(entry.relative_fileloc)) for entry in entries
        ]
        archive = await asyncio.to_thread(build_dag_archive, pairs)
        return Response(
            content=archive,
            media_type="application/gzip",
            headers={"Content-Disposition": 'attachment; filename="dags.tar.gz"'},
        )

    @router.post("/import")
    async def import_dags(
        actor: Editor,
        sources: Annotated[UploadFile, File(description="A .tar.gz of .py DAG files.")],
        overwrite: Annotated[bool, Form(description="Replace files that exist with other content.")] = False,
    ) -> DagFileList:
        """Write the DAG files of a ``.tar.gz`` into the DAG folder: all of them, or none if any is amiss."""
        data = await sources.read(limits.max_archive_bytes + 1)
        try:
            files = await asyncio.to_thread(read_dag_archive, data, limits)
        except ArchiveError as error:
            raise invalid_many([(["body", "sources"], problem) for problem in error.problems]) from None
        if not files:
            raise invalid(["body", "sources"], "the archive holds no .py file")
        encoded = {name: source.encode("utf-8") for name, source in files.items()}
        saved = await _save(registry, encoded, actor=actor, overwrite=overwrite)
        return DagFileList(files=saved, total_entries=len(saved))

    return router


async def _save(
    registry: DagFolderRegistry,
    files: dict[str, bytes],
    *,
    actor: str,
    overwrite: bool = False,
    base_versions: dict[str, str | None] | None = None,
) -> list[DagFile]:
    try:
        statuses = await registry.save(files, actor=actor, overwrite=overwrite, base_versions=base_versions)
    except FileConflictError as error:
        hint = "" if base_versions else "; pass overwrite=true to replace them"
        raise conflict(f"{error}{hint}") from None
    return [_file_out(status) for status in statuses]


def _checked_name(relative_fileloc: str) -> str:
    try:
        return check_dag_file_name(relative_fileloc)
    except InvalidDagFileError as error:
        raise invalid(["path", "relative_fileloc"], str(error)) from None


def _check_body_source(content: str, limits: Limits) -> bytes:
    encoded = content.encode("utf-8")
    try:
        check_source(encoded, limits)
    except InvalidDagFileError as error:
        raise invalid(["body", "content"], str(error)) from None
    return encoded


def _file_out(status: FileStatus) -> DagFile:
    return DagFile(
        relative_fileloc=status.relative_fileloc,
        fileloc=status.fileloc,
        status=status.status,
        version=status.version,
        dag_ids=list(status.dag_ids),
        import_error=status.import_error,
    )
