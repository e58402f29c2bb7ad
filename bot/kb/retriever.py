"""Entry-level retrieval: a model that ranks knowledge entries directly.

A linear classifier (logistic loss, one class per entry) over the same two text views as the
TF-IDF ranker (light-stemmed words and bigrams; character n-grams for typos and SMS spellings).
It is trained when the knowledge base is loaded, so an entry a staff member adds is ranked by
the live reload without retraining Rasa. Training examples of an entry:
1. its title and example questions;
2. each sentence or list line of its answer (a question often echoes one line of the answer:
   these "paraphrases" teach the model the details an entry holds, not only its headline).
Formation and parcours names are removed from every example, as they are from the visitor's
message before ranking: which formation is asked is handled by the policy, not by the words.

Compared on the dev set with the TF-IDF ranker it replaces as the main signal (top-1 entry holding
the expected fact, formation known): 86.0 % against 83.3 %; see docs/answer-quality.md.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from bot.kb.model import Entry
from bot.kb.search import _char_features, _stems, linear_scores

_SEGMENT = re.compile(r"\n|(?<=[.;:!?])\s+")
MIN_SEGMENT_CHARS = 12
# Regularisation and passes of the classifier: chosen on the dev set; 10 passes keep the
# training (done at every reload of the base) near one second on two cores.
ALPHA = 1e-4
EPOCHS = 10


def training_examples(entries: Sequence[Entry], strip: Callable[[str], str]) -> tuple[list[str], list[int]]:
    """(texts, entry index) pairs: titles, example questions and answer lines."""
    texts: list[str] = []
    owners: list[int] = []
    for i, e in enumerate(entries):
        lines = [e.title, *e.questions]
        lines += [s.strip() for s in _SEGMENT.split(e.answer) if len(s.strip()) > MIN_SEGMENT_CHARS]
        for line in lines:
            texts.append(strip(line))
            owners.append(i)
    return texts, owners


class EntryModel:
    """P(entry | message) for every entry of a knowledge base; built once per base."""

    def __init__(self, entries: Sequence[Entry], strip: Callable[[str], str] = lambda t: t):
        self.entries = list(entries)
        self._index = {e.id: i for i, e in enumerate(self.entries)}
        self._aligned: tuple[Sequence[Entry], np.ndarray] = ((), np.zeros(0, dtype=int))
        self._strip = strip
        texts, owners = training_examples(self.entries, strip)
        self._views = (TfidfVectorizer(analyzer=_stems, sublinear_tf=True),
                       TfidfVectorizer(analyzer=_char_features, sublinear_tf=True))
        features = sp.hstack([v.fit_transform(texts) for v in self._views]).tocsr()
        self._clf = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None,
                                  random_state=0, n_jobs=2)
        self._clf.fit(features, owners)
        # One row of weights per feature: a query has a few dozen features, so its scores are a
        # sum of that many rows (sklearn's dense product over every feature took ~8 ms a query).
        self._weights = np.ascontiguousarray(self._clf.coef_.T)
        self._intercept = self._clf.intercept_.copy()

    def proba_for(self, query: str, entries: Sequence[Entry]) -> np.ndarray:
        """`proba` aligned with another list of entries (a newer base while this model is the
        provisional one during a reload): entries it was not trained on get 0."""
        if entries is self.entries or [e.id for e in entries] == [e.id for e in self.entries]:
            return self.proba(query)
        if self._aligned[0] is not entries:
            self._aligned = (entries, np.array([self._index.get(e.id, -1) for e in entries], dtype=int))
        idx = self._aligned[1]
        p = np.append(self.proba(query), 0.0)
        return p[idx]

    def proba(self, query: str) -> np.ndarray:
        """Probability of each entry (aligned with `entries`) for an already stripped query,
        normalised one-vs-rest probabilities as sklearn's predict_proba computes them."""
        out = np.zeros(len(self.entries))
        classes = self._clf.classes_
        if len(classes) <= 2:
            out[classes[-1] if len(classes) else slice(None)] = 1.0
            return out
        p = 1.0 / (1.0 + np.exp(-linear_scores(self._views, self._weights, self._intercept, query)))
        out[classes] = p / p.sum() if p.sum() > 0 else 1.0 / len(p)
        return out
