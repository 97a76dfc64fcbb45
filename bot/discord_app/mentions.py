"""Discord message markup that is no part of what a member asks."""

from __future__ import annotations

import re

# Discord's mention markup: users <@1> <@!1>, roles <@&1>, channels <#1>, slash commands </name:1>,
# and the two mass mentions. None of it is part of what is asked.
MENTION_RE = re.compile(r"<(?:@[!&]?|#)\d+>|</[\w -]+:\d+>|@(?:everyone|here)\b")


def strip_mentions(content: str) -> str:
    """The message as plain text: every mention token removed ("@bob asked me this: what is ...?"
    asks what follows), so none reaches the question's analysis or the model."""
    return re.sub(r"[ \t]{2,}", " ", MENTION_RE.sub(" ", content)).strip()
