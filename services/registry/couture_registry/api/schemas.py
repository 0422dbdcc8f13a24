"""Request and response bodies of the registry's routes (they appear in the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class DagFile(BaseModel):
    relative_fileloc: str = Field(
        description="Path inside the DAG folder, '/'-separated; names the file in URLs."
    )
    fileloc: str = Field(description="Absolute path, as DAG details show it.")
    status: Literal["parsed", "import_error", "pending", "ignored"] = Field(
        description="parsed: its DAGs are live; import_error: its last version failed to import; "
        "pending: not processed yet; ignored: a '.'/'_' name or an .airflowignore pattern excludes it."
    )
    version: str | None = Field(description="sha256 of the version last processed.")
    dag_ids: list[str]
    import_error: str | None


class DagFileList(BaseModel):
    files: list[DagFile]
    total_entries: int


class DagFileSource(BaseModel):
    relative_fileloc: str
    fileloc: str
    version: str = Field(description="sha256 of the content; send it back as base_version when saving.")
    content: str


class DagVersionSource(BaseModel):
    version: str
    content: str


class DagFileEdit(BaseModel):
    content: str = Field(description="The whole new source of the file.")
    base_version: str | None = Field(
        default=None,
        description="The version the edit started from; null creates a new file. Saving is refused "
        "(409) when the file changed meanwhile.",
    )


class DagFileProposal(BaseModel):
    content: str


class DagFileReview(BaseModel):
    relative_fileloc: str
    base_version: str | None = Field(description="Version the diff is against; null for a new file.")
    changed: bool
    diff: str = Field(description="Unified diff from the stored to the proposed content.")


class CodeBrickIn(BaseModel):
    title: str
    code: str


class CodeBrickOut(BaseModel):
    id: str
    title: str
    code: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class CodeBrickList(BaseModel):
    code_bricks: list[CodeBrickOut]
    total_entries: int
