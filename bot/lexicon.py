"""Word lists read from the NLU training data and the knowledge base, once per base version.

- `known_words`: every word the assistant knows (the base's and the training examples'), used
  to tell gibberish from a real message;
- `topic_words`: each topic's own words in the training data, handed to the policy, which
  reads no file itself;
- `nlu_models`: the linear topic classifier and in-domain detector (bot.nlu_models) trained on
  the same examples;
- `answerer_for`: the policy with all of them, as the action server and `make faq-try` use it.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import yaml

from bot.answering import Answerer
from bot.config import ROOT
from bot.kb.model import KnowledgeBase
from bot.nlu_models import DomainModel, TopicModel
from bot.text import tokens

# Rasa's inline annotations ("[DEIS](formation)", "[le master]{...}") are replaced by their text.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@lru_cache(maxsize=1)
def _nlu_blocks(nlu_dir: Path) -> tuple[tuple[bool, dict], ...]:
    """Every block of the NLU training files, read once: (hand-written, block); the files
    under data/nlu/generated/ are written from the knowledge base."""
    out = []
    for path in sorted(nlu_dir.glob("**/*.yml")):
        handwritten = path.parent == nlu_dir
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            out.append((handwritten, block))
    return tuple(out)


@lru_cache(maxsize=2)
def _intent_words(nlu_dir: Path, handwritten: bool = False) -> dict[str, Counter]:
    words: dict[str, Counter] = {}
    for written, block in _nlu_blocks(nlu_dir):
        if written or not handwritten:
            key = block.get("intent") or block.get("synonym") or ""
            words.setdefault(key, Counter()).update(tokens(str(block.get("examples", ""))))
    return words


def _nlu_words(nlu_dir: Path) -> frozenset[str]:
    return frozenset(w for counts in _intent_words(nlu_dir).values() for w in counts)


def intent_words(intent: str, min_count: int = 1, nlu_dir: Path = ROOT / "data" / "nlu",
                 handwritten: bool = False) -> frozenset[str]:
    """Words visitors use for an intent in the training data, at least `min_count` times;
    `handwritten`: only in the hand-written files, not in data/nlu/generated/."""
    counts = _intent_words(nlu_dir, handwritten).get(intent, Counter())
    return frozenset(w for w, n in counts.items() if n >= min_count and not any(c.isdigit() for c in w))


_cache: dict[str, frozenset[str]] = {}


def known_words(kb: KnowledgeBase, nlu_dir: Path = ROOT / "data" / "nlu") -> frozenset[str]:
    if kb.version not in _cache:
        _cache.clear()
        _cache[kb.version] = kb.words | _nlu_words(nlu_dir)
    return _cache[kb.version]


_topic_cache: dict[str, dict[str, frozenset[str]]] = {}
# A topic's own words: used at least twice in its hand-written examples. The generated examples
# are the entries' questions, whose words are what tells one formation's entries from another's
# ("UFR", "semestre"), not the topic's ("coûte"). Chosen on the dev set with its implied-formation
# questions (ids i001–i045 of tests/eval/single.yml): 17 → 20 of 33 answered for the right formation, nothing lost.
TOPIC_WORD_MIN_COUNT = 2


def topic_words(kb: KnowledgeBase, nlu_dir: Path = ROOT / "data" / "nlu") -> dict[str, frozenset[str]]:
    """Each topic's own words in the NLU training data, for the policy (which reads no file)."""
    if kb.version not in _topic_cache:
        _topic_cache.clear()
        _topic_cache[kb.version] = {t: intent_words(f"ask_{t}", TOPIC_WORD_MIN_COUNT, nlu_dir, handwritten=True)
                                    for t in kb.topics}
    return _topic_cache[kb.version]


@lru_cache(maxsize=1)
def intent_examples(nlu_dir: Path = ROOT / "data" / "nlu") -> dict[str, tuple[str, ...]]:
    """Each intent's example messages in the NLU training data, annotations removed."""
    out: dict[str, list[str]] = {}
    for _, block in _nlu_blocks(nlu_dir):
        if block.get("intent"):
            lines = [ln.strip()[2:].strip() for ln in str(block.get("examples", "")).splitlines()
                     if ln.strip().startswith("- ")]
            out.setdefault(block["intent"], []).extend(_ANNOTATION.sub(r"\1", ln) for ln in lines)
    return {k: tuple(v) for k, v in out.items()}


def nlu_models(nlu_dir: Path = ROOT / "data" / "nlu") -> tuple[TopicModel, DomainModel]:
    """The linear topic classifier and in-domain detector, trained once per process."""
    return _nlu_models(Path(nlu_dir))


@lru_cache(maxsize=1)
def _nlu_models(nlu_dir: Path) -> tuple[TopicModel, DomainModel]:
    examples = intent_examples(nlu_dir)
    return TopicModel(examples), DomainModel(examples)


def answerer_for(kb: KnowledgeBase, nlu_dir: Path = ROOT / "data" / "nlu") -> Answerer:
    """The policy over `kb` with what it needs from the NLU training data."""
    topics, domain = nlu_models(nlu_dir)
    return Answerer(kb, topic_words(kb, nlu_dir), topics, domain)
