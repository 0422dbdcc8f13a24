"""Code bricks: titled snippets users insert into DAGs from the editor.

Configuration, not history: one JSON file per brick under ``<home>/code_bricks``, written
atomically so a crash never leaves half a brick.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import msgspec

from couture_common.ids import new_id
from couture_common.settings import Settings
from couture_registry.blobstore import write_atomically

MAX_TITLE_LENGTH = 200
MAX_CODE_BYTES = 256 * 1024


class CodeBrick(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    code: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class CodeBrickNotFoundError(LookupError):
    pass


class InvalidCodeBrickError(ValueError):
    """``field`` is the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_code_brick(title: str, code: str) -> tuple[str, str]:
    title = title.strip()
    if not title:
        raise InvalidCodeBrickError("title", "the title is empty")
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidCodeBrickError("title", f"the title is longer than {MAX_TITLE_LENGTH} characters")
    if not code.strip():
        raise InvalidCodeBrickError("code", "the code is empty")
    if len(code.encode()) > MAX_CODE_BYTES:
        raise InvalidCodeBrickError("code", f"the code is larger than {MAX_CODE_BYTES} bytes")
    return title, code


_decoder = msgspec.json.Decoder(CodeBrick)


class CodeBrickStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> CodeBrickStore:
        return cls(settings.home / "code_bricks")

    async def all(self) -> list[CodeBrick]:
        """All bricks, by title (the order the editor shows them in)."""
        bricks = await asyncio.to_thread(self._read_all)
        return sorted(bricks, key=lambda brick: (brick.title.casefold(), brick.id))

    async def get(self, brick_id: str) -> CodeBrick:
        return await asyncio.to_thread(self._read, brick_id)

    async def add(self, *, title: str, code: str, actor: str, now: datetime) -> CodeBrick:
        title, code = check_code_brick(title, code)
        brick = CodeBrick(
            id=new_id(), title=title, code=code, created_by=actor, created_at=now, updated_at=now
        )
        async with self._lock:
            await asyncio.to_thread(self._write, brick)
        return brick

    async def update(self, brick_id: str, *, title: str, code: str, now: datetime) -> CodeBrick:
        title, code = check_code_brick(title, code)
        async with self._lock:
            current = await asyncio.to_thread(self._read, brick_id)
            brick = msgspec.structs.replace(current, title=title, code=code, updated_at=now)
            await asyncio.to_thread(self._write, brick)
        return brick

    async def delete(self, brick_id: str) -> None:
        async with self._lock:
            try:
                await asyncio.to_thread(self._path(brick_id).unlink)
            except FileNotFoundError:
                raise CodeBrickNotFoundError(brick_id) from None

    def _path(self, brick_id: str) -> Path:
        if not brick_id or not all(c.isalnum() or c == "-" for c in brick_id):
            raise CodeBrickNotFoundError(brick_id)
        return self._root / f"{brick_id}.json"

    def _read(self, brick_id: str) -> CodeBrick:
        try:
            return _decoder.decode(self._path(brick_id).read_bytes())
        except FileNotFoundError:
            raise CodeBrickNotFoundError(brick_id) from None

    def _read_all(self) -> list[CodeBrick]:
        if not self._root.is_dir():
            return []
        return [_decoder.decode(path.read_bytes()) for path in self._root.glob("*.json")]

    def _write(self, brick: CodeBrick) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        write_atomically(self._path(brick.id), msgspec.json.encode(brick))
