"""A policy step: a question naming two formations, one as where the visitor comes from.

"Après un BUT, le DEIS c'est possible ?", "est-ce qu'on peut faire le DEIS après le master ?":
the answer gives the origin's further studies and the destination's admission conditions. The
words that mark the origin and the topics of each half are data (`origin` in knowledge/rules.yml).
Pure, like bot.answering, which runs it as its step 4.
"""
from __future__ import annotations

from typing import Optional

from bot.kb.model import KnowledgeBase
from bot.policy_types import Decision, Turn
from bot.ranking import EntryRanker
from bot.text import tokens


def origin_destination(kb: KnowledgeBase, turn: Turn, ranker: EntryRanker) -> Optional[Decision]:
    """Two formations named, one as where the visitor comes from: answer both halves."""
    rules = kb.rules
    named = [(f, before) for f, before in turn.named if f in kb.formations]
    if len({f for f, _ in named}) != 2 or not rules.origin_topic:
        return None
    words = tokens(turn.text)
    origins = [f for f, before in named if set(before.split()) & rules.origin_before_name]
    if not origins and set(words[-3:]) & rules.origin_after_destination:
        origins = [named[-1][0]]  # "le DEIS après le master ?" has its marker before the name
    if len(set(origins)) != 1:
        return None
    origin = origins[0]
    destination = next(f for f, _ in named if f != origin)
    entries, missing = [], []
    for formation, topics in ((origin, (rules.origin_topic,)), (destination, rules.destination_topics)):
        priors = {t: 1.0 for t in topics}
        ranked = [r for r in ranker.rank(formation, priors, None) if r.entry.topic in topics]
        if ranked:
            entries.append(ranked[0].entry)
        elif formation == origin:
            missing.append(origin)  # "the master's page says nothing of further studies"
    if not entries:
        return None
    topic = rules.origin_topic if missing else entries[-1].topic
    return Decision("answer", entries, missing, topic=topic, formation=destination,
                    question=turn.query or turn.text, confidence=1.0)
