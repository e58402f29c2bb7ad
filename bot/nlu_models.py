"""Two linear classifiers beside DIET, trained on the same NLU examples when the action server
loads (about 0.5 s together; the examples are read by `bot.lexicon`, so this module reads no file):

- `TopicModel`: P(topic intent | message). DIET learns the topics from spaCy and count features
  through a neural network, this model from light-stemmed words, bigrams and character n-grams
  (the entry model's views, bot.kb.retriever) through a logistic loss. Their errors differ, so
  the policy averages them (`TopicModel.blend`): a confident DIET mistake ("le master forme à
  quel champ professionnel ?" read as skills) no longer decides alone.
- `DomainModel`: the in-domain detector, P(a question on the formations | message), trained on
  every topic example against the out-of-scope ones (everyday life, other degrees, facts the
  documents don't give, instructions to the bot, abuse) and the chit-chat. Its `score` is the
  mean of that probability and DIET's total probability of a question topic: the one confidence
  the policy's one refusal rule compares with `IN_DOMAIN_MIN`.

Every constant here was chosen on the dev set (tests/eval), never on the blind set; the designs
compared are in docs/answer-quality.md.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Optional, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from bot.kb.search import _char_features, _stems, linear_scores
from bot.policy_types import Turn

TOPIC_PREFIX = "ask_"
# Intents whose probability says "a question on the formations" in DIET's ranking.
IN_DOMAIN_INTENTS = ("inform_formation",)
# Chit-chat: not questions on the formations, but not off-topic either (their rules answer them).
CHIT_CHAT = ("greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge", "insult", "help")
OUT_OF_SCOPE = "out_of_scope"
# Read as DIET says: a greeting (its reply comes first) and "plus de détails" (bot.answering).
LEFT_AS_THEY_ARE = ("greet", "ask_detail")
EPOCHS = 10
TOPIC_ALPHA = 3e-5
DOMAIN_ALPHA = 1e-4
# The share of the topics' probability mass the topic model redistributes.
TOPIC_WEIGHT = 0.7
# The refusal rule: a message whose in-domain score is below this is out of scope, above it a
# question, whatever DIET's intent. Dev set: 0.25 to 0.4 gave the same total (single questions,
# dialogue turns and declines); the top of that range is kept, as a refusal is the safer mistake.
IN_DOMAIN_MIN = 0.4


class _LinearText:
    """A linear classifier over the two text views, scored with `linear_scores` as the entry
    model is (bot.kb.retriever)."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str], alpha: float, balanced: bool = False):
        self.classes: list[str] = sorted(set(labels))
        self._views = (TfidfVectorizer(analyzer=_stems, sublinear_tf=True),
                       TfidfVectorizer(analyzer=_char_features, sublinear_tf=True))
        self._weights = None
        if len(self.classes) < 2:
            return
        features = sp.hstack([v.fit_transform(texts) for v in self._views]).tocsr()
        clf = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=EPOCHS, tol=None, random_state=0,
                            class_weight="balanced" if balanced else None)
        clf.fit(features, list(labels))
        self.classes = [str(c) for c in clf.classes_]
        self._weights = np.ascontiguousarray(clf.coef_.T)
        self._intercept = clf.intercept_.copy()

    def proba(self, text: str) -> dict[str, float]:
        """Each class's probability (one-vs-rest, normalised as sklearn does)."""
        if self._weights is None:
            return {c: 1.0 / len(self.classes) for c in self.classes}
        p = 1.0 / (1.0 + np.exp(-linear_scores(self._views, self._weights, self._intercept, text)))
        if len(self.classes) == 2:  # a binary model has one score: that of the second class
            p = np.array([1.0 - p[0], p[0]])
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
        return {c: float(x) for c, x in zip(self.classes, p)}


def topic_mass(ranking: Mapping[str, float]) -> float:
    """DIET's (or the blend's) total probability of a question on the formations."""
    return sum(v for k, v in ranking.items() if k.startswith(TOPIC_PREFIX) or k in IN_DOMAIN_INTENTS)


class TopicModel:
    """P(topic intent | message), for the `ask_*` intents of the NLU training data."""

    def __init__(self, examples: Mapping[str, Sequence[str]]):
        pairs = [(t, k) for k, lines in sorted(examples.items()) if k.startswith(TOPIC_PREFIX) for t in lines]
        self._model = _LinearText([t for t, _ in pairs], [k for _, k in pairs], TOPIC_ALPHA)

    def proba(self, text: str) -> dict[str, float]:
        return self._model.proba(text)

    def blend(self, text: str, ranking: Mapping[str, float]) -> dict[str, float]:
        """DIET's intent ranking with its topic intents' share redistributed: (1 − TOPIC_WEIGHT)
        as DIET ranked them, TOPIC_WEIGHT as this model does. Other intents (out of scope,
        thanks…) keep their probability, so this never turns an off-topic message into a question."""
        mass = sum(v for k, v in ranking.items() if k.startswith(TOPIC_PREFIX))
        mine = self.proba(text)
        if mass <= 0 or not mine:
            return dict(ranking)
        out = {k: v for k, v in ranking.items() if not k.startswith(TOPIC_PREFIX)}
        for k in set(mine) | {k for k in ranking if k.startswith(TOPIC_PREFIX)}:
            out[k] = (1 - TOPIC_WEIGHT) * ranking.get(k, 0.0) + TOPIC_WEIGHT * mass * mine.get(k, 0.0)
        return out


class DomainModel:
    """The in-domain detector: topic examples against out-of-scope and chit-chat examples."""

    def __init__(self, examples: Mapping[str, Sequence[str]]):
        texts, labels = [], []
        for intent, lines in sorted(examples.items()):
            if intent.startswith(TOPIC_PREFIX):
                label = "in"
            elif intent == OUT_OF_SCOPE or intent in CHIT_CHAT:
                label = "out"
            else:
                continue
            texts += list(lines)
            labels += [label] * len(lines)
        # Balanced: there are about three questions for one negative example.
        self._model = _LinearText(texts, labels, DOMAIN_ALPHA, balanced=True)

    def probability(self, text: str) -> float:
        """P(a question on the formations | message)."""
        return self._model.proba(text).get("in", 0.0)

    def score(self, text: str, ranking: Mapping[str, float]) -> float:
        """The in-domain confidence: the mean of this model's probability and DIET's topic mass."""
        return (self.probability(text) + topic_mass(ranking)) / 2


def second_opinion(turn: Turn, topic_model: Optional[TopicModel], domain_model: Optional[DomainModel]) -> Turn:
    """The turn as the linear models read it with DIET, in this order:
    1. the topic probabilities averaged with the topic model's (`TopicModel.blend`);
    2. the refusal rule: out of scope under `IN_DOMAIN_MIN`, else a question whose topic is the
       best of the average, whatever DIET's intent.
    A greeting, "plus de détails" and a button's payload are left as they are."""
    if not turn.ranking or turn.kb_id or turn.intent in LEFT_AS_THEY_ARE:
        return turn
    ranking = topic_model.blend(turn.text, turn.ranking) if topic_model else dict(turn.ranking)
    best = max((k for k in ranking if k.startswith(TOPIC_PREFIX)), key=lambda k: ranking[k], default=None)
    intent = best if (turn.intent or "").startswith(TOPIC_PREFIX) else turn.intent
    if domain_model is not None:
        if domain_model.score(turn.text, turn.ranking) < IN_DOMAIN_MIN:
            intent, ranking = OUT_OF_SCOPE, {**ranking, OUT_OF_SCOPE: 1.0}
        elif intent == OUT_OF_SCOPE and best:
            intent, ranking = best, {**ranking, OUT_OF_SCOPE: 0.0}
    return replace(turn, intent=intent, ranking=ranking)
