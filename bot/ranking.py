"""Ranking the entries of one formation for a question, and telling which formation is implied.

Signals, all computed on the question without the formation's name:
- the entry model's probability (bot.kb.retriever), trained on every entry's questions and lines;
- the TF-IDF similarity (bot.kb.search), which also covers an entry added a second ago;
- the NLU's topic probabilities (a prior: an entry of the asked topic ranks higher).
score = topic prior + SIM_WEIGHT x (similarity + MODEL_WEIGHT x model probability). The constants
were chosen on the dev set (tests/eval), never on the blind set.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from bot.kb.model import GENERAL, Entry, KnowledgeBase
from bot.kb.search import keyword_hits
from bot.text import FILLER, content_tokens, fold, tokens

MAIN_PRIOR = 0.5       # the predicted topic always counts at least this much
RELATED_PRIOR = 0.25   # topics declared related to it
MIN_PRIOR = 0.15       # an unrelated topic's entries count only when this likely ...
SIM_STRONG = 0.45      # ... unless its words match the question this well
SIM_WEIGHT = 4.0       # how much the words count against the classifier's topic
MODEL_WEIGHT = 0.6     # the entry model's probability, added to the word similarity
PARCOURS_BONUS = 0.4
OTHER_PARCOURS_PENALTY = 0.15
CODE_BONUS = 0.4       # entries holding a code of the question ("S5", "420", "UF1.3")
KEYWORD_BONUS = 0.2    # entries one of whose keywords the question names ("DF3"); dev set: +2 single
TYPE_MARGIN = 0.5      # how far below the best entry one holding the asked value may rank
# Implied formation: the best entry of one formation scores this much above the best entry of
# every other formation, so the question is answered for it without asking which one.
IMPLIED_MARGIN = 2.5
DISTINCTIVE_MAX_ENTRIES = 4  # a word in more entries than this says nothing about the formation


@dataclass
class Ranked:
    entry: Entry
    score: float
    similarity: float
    probability: float  # the entry model's, renormalised over the formation's entries


class EntryRanker:
    """Scores one question against the entries; built per question (it caches its signals)."""

    def __init__(self, kb: KnowledgeBase, text: str):
        self.kb, self.text = kb, text
        self.model = kb.entry_model.proba_for(text, kb.entries)
        sims = kb.ranker.scores(text)
        codes = {w for w in tokens(text) if any(c.isdigit() for c in w)}
        coded = {e.id for c in codes for e in kb.entries_by_word.get(c, ())}
        named = {e.id for e in keyword_hits(kb.entries, text)}
        for i, e in enumerate(kb.entries):
            if e.id in coded:
                sims[i] += CODE_BONUS / SIM_WEIGHT
            if e.id in named:
                sims[i] += KEYWORD_BONUS / SIM_WEIGHT
        self.sims = sims
        words = tokens(text)
        self._words = f" {' '.join(words)} "
        # "UF1.3", "DF2": a code names its term ("UF", "DF") too.
        self._code_stems = {w.rstrip("0123456789.") for w in words if w[-1:].isdigit()}

    def names_a_term(self, entry: Entry) -> bool:
        """Whether the question names one of the terms the entry defines (its keywords)."""
        terms = [tokens(k) for k in entry.keywords]
        return any(t and (f" {' '.join(t)} " in self._words or (len(t) == 1 and t[0] in self._code_stems))
                   for t in terms)

    def combined(self) -> np.ndarray:
        return self.sims + MODEL_WEIGHT * self.model

    def priors(self, topic: str, priors: dict[str, float], parcours: Optional[str]) -> dict[str, float]:
        out = dict(priors)
        out[topic] = max(out.get(topic, 0.0), MAIN_PRIOR)
        for r in self.kb.topics[topic].related:
            out[r] = max(out.get(r, 0.0), RELATED_PRIOR)
        if parcours and topic in self.kb.rules.parcours_topics:
            # "et le VTD, ça mène à quoi ?": the parcours' own entry is about exactly that.
            out["parcours"] = max(out.get("parcours", 0.0), MAIN_PRIOR)
        return out

    def rank(self, formation: str, priors: dict[str, float], parcours: Optional[str]) -> list[Ranked]:
        """The formation's entries, best first."""
        combined = self.combined()
        mass = sum(self.model[i] for i, e in enumerate(self.kb.entries) if e.formation == formation) or 1.0
        ranked = []
        for i, e in enumerate(self.kb.entries):
            if e.formation != formation:
                continue
            if e.topic in self.kb.rules.term_topics and not self.names_a_term(e):
                continue
            prior, sim = priors.get(e.topic, 0.0), float(combined[i])
            if prior < MIN_PRIOR and sim < SIM_STRONG:
                continue
            score = prior + SIM_WEIGHT * sim
            if e.parcours and parcours:
                if e.parcours != parcours:
                    continue
                score += PARCOURS_BONUS
            elif e.parcours:
                score -= OTHER_PARCOURS_PENALTY
            ranked.append(Ranked(e, score, float(self.sims[i]), float(self.model[i] / mass)))
        return sorted(ranked, key=lambda r: -r.score)

    def implied_formation(self, priors: dict[str, float]) -> Optional[str]:
        """The one formation whose best entry clearly outranks every other formation's."""
        best = []
        for f in {e.formation for e in self.kb.entries} - {GENERAL}:
            # A formation whose entries hold no value of the asked type (a grade, a price) has no answer.
            ranked = keep_typed(self.kb, self.rank(f, priors, None), self.text)
            if ranked:
                best.append((ranked[0].score, f))
        best.sort(reverse=True)
        if len(best) == 1 or (len(best) > 1 and best[0][0] - best[1][0] >= IMPLIED_MARGIN):
            return best[0][1]
        return None


def keep_typed(kb: KnowledgeBase, ranked: list[Ranked], question: str, units: bool = True) -> list[Ranked]:
    """Only entries holding a value of each type the question asks for (a price, a phone…)."""
    for kind in kb.rules.asked_types(question, units):
        if not ranked:
            break
        best = ranked[0].score
        ranked = [r for r in ranked if kind.held_by(fold(r.entry.answer)) and best - r.score < TYPE_MARGIN]
    return ranked


def formations_by_words(kb: KnowledgeBase, topic: str, text: str, topic_vocab: frozenset[str]) -> list[str]:
    """The formation a question's rare words point at ("S3", "420 h", "CAFDES"), if only one.

    Words of the topic itself ("coûte" for fees) do not count: they would make every vague
    question look like one about the only formation the documents detail.
    """
    hits = {e.formation for e in keyword_hits(kb.entries, text)}
    if len(hits) == 1:
        return list(hits)
    found: set[str] = set()
    for word in set(content_tokens(text)) - FILLER - topic_vocab:
        owners = kb.entries_by_word.get(word, ())
        limit = DISTINCTIVE_MAX_ENTRIES * (2 if any(c.isdigit() for c in word) else 1)
        if 0 < len(owners) <= limit:
            forms = {e.formation for e in owners} - {GENERAL}
            if len(forms) == 1:
                found |= forms
            elif forms:
                return []
    return list(found) if len(found) == 1 else []
