"""The DAG folder and the blob store on a real file system."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from couture_registry.blobstore import BlobNotFoundError, LocalBlobStore
from couture_registry.dag_folder import DagFolder, FolderEntry


def write(root: Path, name: str, text: str = "x = 1\n") -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_which_files_are_dag_files(tmp_path: Path) -> None:
    for name in [
        "etl.py",
        "_helpers.py",
        "__init__.py",
        "notes.txt",
        "scratch_try.py",
        "team/report.py",
        "team/scratch_more.py",
        "team/wip/draft.py",
        "team/legacy.py",
        "other/legacy.py",
        "archive/old.py",
        ".git/hooks/pre-commit.py",
        "__pycache__/etl.cpython-311.py",
        "_shared/util.py",
    ]:
        write(tmp_path, name)
    write(tmp_path, ".airflowignore", "scratch_\n^archive\n")
    write(tmp_path, "team/.airflowignore", "wip/\nlegacy\n  # a comment\n")

    folder = DagFolder(tmp_path)

    assert folder.entries() == [
        FolderEntry("__init__.py", False),
        FolderEntry("_helpers.py", False),
        FolderEntry("_shared/util.py", False),
        FolderEntry("archive/old.py", False),
        FolderEntry("etl.py", True),
        # team/.airflowignore's patterns hold only at and below team/.
        FolderEntry("other/legacy.py", True),
        FolderEntry("scratch_try.py", False),
        FolderEntry("team/legacy.py", False),
        FolderEntry("team/report.py", True),
        FolderEntry("team/scratch_more.py", False),
        FolderEntry("team/wip/draft.py", False),
    ]
    assert folder.dag_files() == ["etl.py", "other/legacy.py", "team/report.py"]
    for entry in folder.entries():
        assert folder.is_dag_file(entry.relative_fileloc) is entry.is_dag_file


def test_names_map_to_absolute_filelocs_and_back(tmp_path: Path) -> None:
    folder = DagFolder(tmp_path / "dags" / ".." / "dags")
    assert folder.fileloc_of("team/etl.py") == str((tmp_path / "dags" / "team" / "etl.py").resolve())
    assert folder.relative_of(folder.fileloc_of("team/etl.py")) == "team/etl.py"
    assert folder.relative_of(tmp_path / "elsewhere.py") is None
    for escape in ["../etc/passwd.py", "/etc/passwd.py", "a/../../b.py"]:
        with pytest.raises(ValueError, match="outside the DAG folder"):
            folder.path_of(escape)


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    folder = DagFolder(tmp_path)
    folder.write("team/etl.py", b"a = 1\n")
    folder.write("team/etl.py", b"a = 2\n")
    assert folder.read("team/etl.py") == b"a = 2\n"
    assert sorted(p.name for p in (tmp_path / "team").iterdir()) == ["etl.py"]
    assert folder.delete("team/etl.py") is True
    assert folder.delete("team/etl.py") is False
    assert folder.read("team/etl.py") is None


def test_blobs_are_named_by_the_sha256_of_their_bytes(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    content = b"from airflow import DAG\n"
    version = blobs.put_dag_file(content)

    assert version == hashlib.sha256(content).hexdigest()
    assert blobs.path_for(version) == tmp_path / "dags" / f"{version}.py"
    assert blobs.get_dag_file(version) == content
    assert blobs.put_dag_file(content) == version
    assert [p.name for p in (tmp_path / "dags").iterdir()] == [f"{version}.py"]


def test_an_unknown_or_malformed_version_is_refused(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFoundError, match=r"no DAG file version 0{64} is stored"):
        blobs.get_dag_file("0" * 64)
    with pytest.raises(ValueError, match="not a sha256 hex digest"):
        blobs.path_for("../../etc/passwd")
