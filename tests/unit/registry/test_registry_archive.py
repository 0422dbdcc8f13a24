"""Importing a DAG folder from a .tar.gz: safe archives are read whole, unsafe ones are refused whole."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from couture_registry.archive import ArchiveError, build_dag_archive, read_dag_archive
from couture_registry.validation import Limits


def make_archive(*members: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                name, content = member
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_a_safe_archive_yields_its_files_by_relative_path() -> None:
    data = make_archive(
        special(".", tarfile.DIRTYPE),
        ("./etl.py", b"x = 1\n"),
        special("./team", tarfile.DIRTYPE),
        ("./team/report.py", b"y = 2\n"),
    )
    assert read_dag_archive(data, Limits()) == {"etl.py": "x = 1\n", "team/report.py": "y = 2\n"}


def test_every_unsafe_member_is_reported_at_once() -> None:
    data = make_archive(
        ("/etc/evil.py", b""),
        ("../escape.py", b""),
        ("notes.txt", b"hi"),
        special("link.py", tarfile.SYMTYPE, "/etc/passwd"),
        special("hard.py", tarfile.LNKTYPE, "etl.py"),
        special("fifo.py", tarfile.FIFOTYPE),
        ("binary.py", b"\xff\x00"),
        ("fine.py", b"ok = True\n"),
    )
    with pytest.raises(ArchiveError) as refused:
        read_dag_archive(data, Limits())
    problems = refused.value.problems
    assert problems == [
        "/etc/evil.py: '/etc/evil.py' is an absolute path; give a path inside the DAG folder",
        "../escape.py: '../escape.py' has an empty, '.' or '..' path segment",
        "notes.txt: 'notes.txt' is not a .py file; only Python DAG files are accepted",
        "link.py: links are not allowed",
        "hard.py: links are not allowed",
        "fifo.py: only regular files and folders are allowed",
        "binary.py: the file is not UTF-8 text (byte 0)",
    ]


def test_a_member_twice_is_refused() -> None:
    with pytest.raises(ArchiveError, match=r"a\.py: appears twice"):
        read_dag_archive(make_archive(("a.py", b"1"), ("./a.py", b"2")), Limits())


def test_size_limits_hold_for_members_the_total_and_the_count() -> None:
    limits = Limits(max_file_bytes=8, max_archive_total_bytes=12, max_archive_members=3)
    with pytest.raises(ArchiveError, match=r"big\.py: the file has 9 bytes"):
        read_dag_archive(make_archive(("big.py", b"x" * 9)), limits)
    with pytest.raises(ArchiveError, match="add up to more than 12 bytes"):
        read_dag_archive(make_archive(("a.py", b"x" * 8), ("b.py", b"x" * 8)), limits)
    with pytest.raises(ArchiveError, match="more than 3 members"):
        read_dag_archive(make_archive(*[(f"{n}.py", b"") for n in range(4)]), limits)
    with pytest.raises(ArchiveError, match="more than 10"):
        read_dag_archive(b"x" * 11, Limits(max_archive_bytes=10))


def test_a_decompression_bomb_is_stopped_by_the_declared_sizes() -> None:
    bomb = make_archive(("bomb.py", b"\n" * (4 * 1024 * 1024)))
    assert len(bomb) < 10_000
    with pytest.raises(ArchiveError, match=r"bomb\.py: the file has 4194304 bytes"):
        read_dag_archive(bomb, Limits())


@pytest.mark.parametrize(
    "data",
    [b"", b"plain text", gzip.compress(b"not a tar"), make_archive(("a.py", b"1"))[:40]],
)
def test_something_else_than_a_tar_gz_is_refused(data: bytes) -> None:
    with pytest.raises(ArchiveError, match=r"gzip-compressed tar archive|damaged"):
        read_dag_archive(data, Limits())


def test_an_exported_folder_imports_back_unchanged(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "etl.py").write_text("a = 1\n")
    (tmp_path / "team" / "report.py").write_text("b = 2\n")
    pairs = [("etl.py", tmp_path / "etl.py"), ("team/report.py", tmp_path / "team" / "report.py")]
    exported = build_dag_archive([*pairs, ("gone.py", tmp_path / "gone.py")])
    assert read_dag_archive(exported, Limits()) == {"etl.py": "a = 1\n", "team/report.py": "b = 2\n"}
