"""Word lists read from the NLU training data and the knowledge base, once per base version.

- `known_words`: every word the assistant knows (the base's and the training examples'), used
  to tell gibberish from a real message;
- `topic_words`: each topic's own words in the training data, handed to the policy, which
  reads no file itself.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import yaml

from bot.config import ROOT
from bot.kb.model import KnowledgeBase
from bot.text import tokens


@lru_cache(maxsize=1)
def _intent_words(nlu_dir: Path) -> dict[str, Counter]:
    words: dict[str, Counter] = {}
    for path in sorted(nlu_dir.glob("**/*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            key = block.get("intent") or block.get("synonym") or ""
            words.setdefault(key, Counter()).update(tokens(str(block.get("examples", ""))))
    return words


def _nlu_words(nlu_dir: Path) -> frozenset[str]:
    return frozenset(w for counts in _intent_words(nlu_dir).values() for w in counts)


def intent_words(intent: str, min_count: int = 1, nlu_dir: Path = ROOT / "data" / "nlu") -> frozenset[str]:
    """Words visitors commonly use for an intent in the training data ."""
    counts = _intent_words(nlu_dir).get(intent, Counter())
    return frozenset(w for w, n in counts.items() if n >= min_count and not any(c.isdigit() for c in w))


_cache: dict[str, frozenset[str]] = {}


def known_words(kb: KnowledgeBase, nlu_dir: Path = ROOT / "data" / "nlu") -> frozenset[str]:
    if kb.version not in _cache:
        _cache.clear()
        _cache[kb.version] = kb.words | _nlu_words(nlu_dir)
    return _cache[kb.version]


_topic_cache: dict[str, dict[str, frozenset[str]]] = {}


def topic_words(kb: KnowledgeBase, nlu_dir: Path = ROOT / "data" / "nlu") -> dict[str, frozenset[str]]:
    """Each topic's own words in the NLU training data, for the policy (which reads no file)."""
    if kb.version not in _topic_cache:
        _topic_cache.clear()
        _topic_cache[kb.version] = {t: intent_words(f"ask_{t}", nlu_dir=nlu_dir) for t in kb.topics}
    return _topic_cache[kb.version]
