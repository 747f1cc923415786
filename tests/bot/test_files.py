"""FileStore: content-addressed keys, size limit, safe paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.files import FileStore


async def test_the_same_content_gets_the_same_key_and_reads_back(tmp_path: Path) -> None:
    store = FileStore(tmp_path, max_bytes=1000)
    first = await store.save(b"lychee", "leaf.JPG", "image/jpeg")
    second = await store.save(b"lychee", "other.jpg", "image/jpeg")
    assert first.key == second.key == hashlib.sha256(b"lychee").hexdigest() + ".jpg"
    assert first.size == 6
    assert await store.read(first.key) == b"lychee"


async def test_the_extension_comes_from_the_mime_type_when_the_name_has_none(
    tmp_path: Path,
) -> None:
    ref = await FileStore(tmp_path, 1000).save(b"x", "photo", "image/png")
    assert ref.key.endswith(".png")


async def test_a_file_over_the_limit_is_refused_and_not_written(tmp_path: Path) -> None:
    store = FileStore(tmp_path, max_bytes=3)
    with pytest.raises(ValueError):
        await store.save(b"four", "a.jpg", "image/jpeg")
    assert not _stored(tmp_path)


def _stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("key", ["", "../etc/passwd", "a/b.jpg", "a\\b.jpg", ".."])
def test_keys_with_separators_or_dot_dot_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        FileStore(tmp_path, 10).path(key)


async def test_deleting_twice_reports_the_second_time_that_it_was_gone(tmp_path: Path) -> None:
    store = FileStore(tmp_path, 100)
    ref = await store.save(b"abc", "a.txt", "text/plain")
    assert await store.delete(ref.key) is True
    assert await store.delete(ref.key) is False
