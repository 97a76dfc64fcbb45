"""The version of the briefing code itself, for cache keys.

A cached briefing is only valid for the code that assembled it. A hand-bumped format number was
forgotten more than once (an upgraded bot then served briefings in the old shape until the next
reload), so the key holds a hash of the briefing package's own files instead: any change to how a
briefing is put together changes the key by itself. The word lists a briefing's checks read are
prompt-set data (`prompts/lexicon/`), covered by the prompt set's version, the key's other part. The word and
sentence helpers outside the package that a briefing's checks rest on count too.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# Outside the package but part of how a briefing is checked: words, stems and sentence splitting.
SHARED = tuple(PACKAGE.parent / name for name in ("terms.py", "stems.py"))


@cache
def briefing_code_version() -> str:
    """A short hash of every Python file of `bot.briefing`, then `SHARED` (names and bytes)."""
    digest = hashlib.sha256()
    files = sorted(p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix == ".py")
    for path in [*files, *SHARED]:
        digest.update(path.name.encode() if path in SHARED else path.relative_to(PACKAGE).as_posix().encode())
        digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
