"""What a source says of a formation the assistant does not cover (pure, used by bot.replies):
the BUT guide's "plan B" licences, knowledge/formations.yml `other_mentions`."""
from __future__ import annotations

from typing import Optional

from bot.kb.model import KnowledgeBase, OtherMention
from bot.text import tokens


def other_mention(kb: KnowledgeBase, text: str) -> Optional[OtherMention]:
    """The mention of the uncovered formation named in `text`, if a source has one."""
    folded = f" {' '.join(tokens(text))} "
    for m in kb.other_mentions:
        if any(f" {' '.join(tokens(n))} " in folded for n in m.names):
            return m
    return None
