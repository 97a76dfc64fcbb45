"""Sentence vectors kept on disk, keyed by a hash of the encoder and the text.

Why: every bot process embeds every passage and sentence of its sources at start-up (several seconds
on two cores for the seeds), and a restart, a second shard or a `/reload` that changed one file
would pay it again for the same texts. With this cache they pay only for what is new. It lives in
the user's cache folder (XDG_CACHE_HOME), outside the bot's database: it holds nothing that cannot
be recomputed, so a missing, locked or corrupt file only costs time, never an answer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

from bot.language._minilm import Matrix

log = logging.getLogger(__name__)


def default_path() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "briefing-bot" / "vectors.sqlite3"


class VectorCache:
    """Vectors by text for one encoder (`model_id`); every failure turns the cache off."""

    def __init__(self, path: Path, model_id: str, dimensions: int) -> None:
        self._model = model_id
        self._dimensions = dimensions
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            db.commit()
            self._db = db
        except (OSError, sqlite3.Error) as exc:
            log.warning("Vector cache off (%s): start-up embeds every source again.", exc)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self._model}\0{text}".encode()).hexdigest()[:40]

    def get(self, texts: list[str]) -> dict[str, Matrix]:
        if self._db is None or not texts:
            return {}
        keys = {self._key(t): t for t in texts}
        found: dict[str, Matrix] = {}
        try:
            with self._lock:
                for start in range(0, len(keys), 500):
                    chunk = list(keys)[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk)
                    for key, blob in rows:
                        vector = np.frombuffer(blob, dtype=np.float32)
                        if vector.shape == (self._dimensions,):
                            found[keys[key]] = vector
        except sqlite3.Error as exc:
            self._off(exc)
        return found

    def put(self, texts: list[str], vectors: Matrix) -> None:
        if self._db is None or not texts:
            return
        rows = [(self._key(t), v.astype(np.float32).tobytes()) for t, v in zip(texts, vectors, strict=True)]
        try:
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)
                self._db.commit()
        except sqlite3.Error as exc:
            self._off(exc)

    def _off(self, exc: BaseException) -> None:
        log.warning("Vector cache off (%s): vectors are computed as needed.", exc)
        db, self._db = self._db, None
        if db is not None:
            db.close()
