"""What a source says of a formation the assistant does not cover (a pure helper of the policy):
the BUT guide's "plan B" licences, knowledge/formations.yml `other_mentions`."""
from __future__ import annotations

from bot.kb.model import KnowledgeBase
from bot.text import tokens


def other_mention(kb: KnowledgeBase, text: str) -> str:
    """What a source says of the uncovered formation named in `text`, or ""."""
    folded = f" {' '.join(tokens(text))} "
    for m in kb.other_mentions:
        if any(f" {' '.join(tokens(n))} " in folded for n in m.names):
            return m.text
    return ""
