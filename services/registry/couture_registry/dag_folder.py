"""The DAG folder on disk: which files it holds, which of them are DAG files, safe reads and writes.

Users name a file by its path inside the folder, ``/``-separated (Airflow's ``relative_fileloc``);
events name it by its absolute path (Airflow's ``fileloc``), as the parser reports it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from re import Pattern

from couture_registry.blobstore import write_atomically
from couture_registry.ignore_rules import IGNORE_FILE_NAME, is_private_name, matches, parse_ignore_file


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """A ``.py`` file found in the folder."""

    relative_fileloc: str
    #: False for files the ignore rules or a ``.``/``_`` name exclude; those are never parsed.
    is_dag_file: bool


class DagFolder:
    def __init__(self, root: Path) -> None:
        # Canonical, so the paths the parser reports and the watcher sees match the ones made here.
        self.root = root.resolve()

    def path_of(self, relative_fileloc: str) -> Path:
        """The file's path; a name that would leave the folder is refused."""
        relative = PurePosixPath(relative_fileloc)
        if relative.is_absolute() or not relative.parts or ".." in relative.parts:
            raise ValueError(f"file {relative_fileloc!r} is outside the DAG folder")
        return self.root.joinpath(*relative.parts)

    def fileloc_of(self, relative_fileloc: str) -> str:
        """The absolute fileloc events carry for a file of this folder."""
        return str(self.path_of(relative_fileloc))

    def relative_of(self, path: str | Path) -> str | None:
        """The name inside the folder of an absolute path, or None when it lies elsewhere."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return None

    def entries(self) -> list[FolderEntry]:
        """Every ``.py`` file, sorted; hidden folders and ``__pycache__`` are not entered."""
        rules = _RuleCache(self.root)
        found: list[FolderEntry] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            folder = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
            for name in filenames:
                if name.endswith(".py") and not name.startswith("."):
                    relative = (folder / name).relative_to(self.root).as_posix()
                    found.append(FolderEntry(relative, self._is_dag_file(relative, rules)))
        return sorted(found, key=lambda entry: entry.relative_fileloc)

    def dag_files(self) -> list[str]:
        return [entry.relative_fileloc for entry in self.entries() if entry.is_dag_file]

    def is_dag_file(self, relative_fileloc: str) -> bool:
        """Whether the name makes a DAG file, by name and ignore rules (not whether it exists)."""
        return relative_fileloc.endswith(".py") and self._is_dag_file(relative_fileloc, _RuleCache(self.root))

    def _is_dag_file(self, relative_fileloc: str, rules: _RuleCache) -> bool:
        parts = PurePosixPath(relative_fileloc).parts
        if any(is_private_name(part) for part in parts):
            return False
        # A folder's own rules decide on its children; a matched folder hides all below it.
        for depth in range(1, len(parts) + 1):
            if matches("/".join(parts[:depth]), rules.for_folder(parts[: depth - 1])):
                return False
        return True

    def read(self, relative_fileloc: str) -> bytes | None:
        """The file's bytes, or None when it does not exist (or is not a regular file)."""
        try:
            return self.path_of(relative_fileloc).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def write(self, relative_fileloc: str, content: bytes) -> None:
        target = self.path_of(relative_fileloc)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, content)

    def delete(self, relative_fileloc: str) -> bool:
        try:
            self.path_of(relative_fileloc).unlink()
        except FileNotFoundError:
            return False
        return True


class _RuleCache:
    """The ignore patterns in force in each folder, read once per scan."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._cache: dict[tuple[str, ...], tuple[Pattern[str], ...]] = {}

    def for_folder(self, parts: tuple[str, ...]) -> tuple[Pattern[str], ...]:
        cached = self._cache.get(parts)
        if cached is not None:
            return cached
        inherited = self.for_folder(parts[:-1]) if parts else ()
        ignore_file = self._root.joinpath(*parts, IGNORE_FILE_NAME)
        try:
            own = parse_ignore_file(ignore_file.read_text(encoding="utf-8"), source=str(ignore_file))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
            own = ()
        rules = inherited + own
        self._cache[parts] = rules
        return rules
