"""Files kept by the desk (photos from chat, reports): content-addressed on local disk."""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from pathlib import Path

from handlers.core.messages import FileRef


class FileStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    async def save(self, data: bytes, name: str, mime: str) -> FileRef:
        """Store bytes; the same content always gets the same key. ValueError when too big."""
        if len(data) > self.max_bytes:
            raise ValueError(f"file of {len(data)} bytes exceeds {self.max_bytes}")
        ext = Path(name).suffix.lower() or (mimetypes.guess_extension(mime) or "")
        key = hashlib.sha256(data).hexdigest() + ext[:10]
        await asyncio.to_thread(self._write, key, data)
        return FileRef(key=key, name=name, mime=mime, size=len(data))

    def _write(self, key: str, data: bytes) -> None:
        path = self.path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file

    def path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or ".." in key:
            raise ValueError("bad file key")
        return self.root / key[:2] / key

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def delete(self, key: str) -> bool:
        """Remove a stored file (retention); False if it was not there."""
        path = self.path(key)

        def _unlink() -> bool:
            try:
                path.unlink()
            except FileNotFoundError:
                return False
            return True

        return await asyncio.to_thread(_unlink)
