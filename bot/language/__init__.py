"""The language layer: what the bot knows of English, from two installed models.

- `LanguageModels`: spaCy's English pipeline (sentences, lemmas, parts of speech, dependencies,
  named entities) and the all-MiniLM-L6-v2 sentence encoder, loaded once per process; either may be
  missing, which `problems` says in one sentence each.
- `SemanticIndex`: vectors of a set of passages and of their sentences, built per prompt-set version.

Nothing here imports the briefing package: the layer is below it, and every front end and mode
reads text through it.
"""

from __future__ import annotations

from bot.language.models import LanguageModels
from bot.language.semantic import SemanticIndex

__all__ = ["LanguageModels", "SemanticIndex"]
