"""Find the formations and parcours a message names, tolerant of case, accents and typos.

Aliases come from knowledge/formations.yml. "BUT" is also an ordinary French word ("le but
de…"), so the bare word only counts where it cannot be read as "goal".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from bot.kb.model import KnowledgeBase
from bot.text import fold, fold_with_offsets, without_spans

_WORD = re.compile(r"[a-z0-9]+")
_GOAL_AFTER = {"de", "du", "d", "des", "est", "etait", "pour", "premier", "principal", "ultime"}
_GOAL_BEFORE = {"mon", "ton", "son", "notre", "votre", "leur", "quel", "dans", "ce", "un"}
_ANY_MASTER_BEFORE = {"un", "des", "autre", "autres", "d", "aucun", "quel", "quels", "ce"}


@dataclass(frozen=True)
class Mention:
    kind: str  # "formation", "parcours" or "other_formation" (one the assistant does not cover)
    id: str
    alias: str  # the alias as written in the knowledge file (its synonym key)
    start: int
    end: int
    strong: bool  # False for hints (IUT, Montpellier…) that only count alone


def _close(a: str, b: str) -> bool:
    """Equal, or one edit apart for words of 5+ letters (two for 9+)."""
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or a[:1] != b[:1]:
        return False
    limit = 2 if min(len(a), len(b)) >= 9 else 1
    if abs(len(a) - len(b)) > limit:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > limit:
            return False
        prev = cur
    return prev[-1] <= limit


class MentionFinder:
    def __init__(self, kb: KnowledgeBase):
        self._patterns: list[tuple[tuple[str, ...], str, str, str, bool]] = []
        for f in kb.formations.values():
            self._add("formation", f.id, f.aliases, True)
            self._add("formation", f.id, f.hints, False)
        for p in kb.parcours.values():
            self._add("parcours", p.id, p.aliases, True)
        self._add("other_formation", "other", kb.other_formations, True)
        # Longest aliases first so "master de Rennes 2" wins over "master".
        self._patterns.sort(key=lambda p: -len(p[0]))

    def _add(self, kind: str, ident: str, aliases: Iterable[str], strong: bool) -> None:
        for alias in aliases:
            words = tuple(_WORD.findall(fold(alias)))
            if words:
                self._patterns.append((words, kind, ident, alias, strong))

    def find(self, text: str) -> list[Mention]:
        folded, offsets = fold_with_offsets(text)
        spans = [(m.group(), offsets[m.start()], offsets[m.end() - 1] + 1) for m in _WORD.finditer(folded)]
        words = [w for w, _, _ in spans]
        used = [False] * len(words)
        found: list[Mention] = []
        for pattern, kind, ident, alias, strong in self._patterns:
            n = len(pattern)
            for i in range(len(words) - n + 1):
                if any(used[i:i + n]) or not all(_close(w, p) for w, p in zip(words[i:i + n], pattern)):
                    continue
                if pattern == ("but",) and self._is_goal(text, words, spans, i):
                    continue
                if pattern == ("master",) and i > 0 and words[i - 1] in _ANY_MASTER_BEFORE:
                    continue  # "faire un master après ?" is about masters in general
                used[i:i + n] = [True] * n
                found.append(Mention(kind, ident, alias, spans[i][1], spans[i + n - 1][2], strong))
        if any(m.strong for m in found if m.kind == "formation"):
            found = [m for m in found if m.strong or m.kind != "formation"]
        return sorted(found, key=lambda m: m.start)

    @staticmethod
    def _is_goal(text: str, words: list[str], spans, i: int) -> bool:
        if text[spans[i][1]:spans[i][2]] == "BUT":
            return False
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i > 0 else ""
        return after in _GOAL_AFTER or before in _GOAL_BEFORE


_finders: dict[tuple, MentionFinder] = {}


def _names_key(kb: KnowledgeBase) -> tuple:
    return (tuple((f.id, f.aliases, f.hints) for f in kb.formations.values()),
            tuple((p.id, p.aliases) for p in kb.parcours.values()), kb.other_formations)


def strip_names(kb: KnowledgeBase, text: str) -> str:
    """The text without the sure names of formations and parcours, as the policy compares it.

    Hints ("CAFERUIS", "Montpellier") stay: they are also the subject of a question. Memoised
    per set of names: a reload of the base strips only the texts it has not seen.
    """
    key = _names_key(kb)
    if key not in _finders:
        _finders.clear()
        _strip.cache_clear()
        _finders[key] = MentionFinder(kb)
    return _strip(key, text)


@lru_cache(maxsize=65536)
def _strip(key: tuple, text: str) -> str:
    spans = [(m.start, m.end) for m in _finders[key].find(text) if m.strong and m.kind in ("formation", "parcours")]
    return without_spans(text, spans)
