"""Lexical similarity between a visitor's words and knowledge entries.

TF-IDF over two views of the text: light-stemmed content words (meaning) and character
n-grams (typos, missing accents, SMS spellings). An entry is compared through its example
questions (best match) and through its title, keywords and answer.
"""
from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.kb.model import Entry
from bot.text import content_tokens, tokens

STEM = 6  # prefix stemming: "inscription"/"inscrire" and "financement"/"financer" meet
QUESTION_WEIGHT = 0.65
SEGMENT_WEIGHT = 0.5  # a question often echoes one line of the answer, not the whole of it
_SEGMENT = re.compile(r"\n|(?<=[.;:!?])\s+")


@lru_cache(maxsize=32768)  # entry texts are analysed again at every reload of the base
def _stems(text: str) -> tuple[str, ...]:
    words = [t[:STEM] for t in content_tokens(text)]
    return tuple(words + [f"{a}_{b}" for a, b in pairwise(words)])


def _chars(text: str) -> str:
    return " ".join(content_tokens(text))


_char_ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), preprocessor=_chars).build_analyzer()


@lru_cache(maxsize=32768)
def _char_features(text: str) -> tuple[str, ...]:
    """sklearn's own char_wb 3-5 analyser on the content words, memoised."""
    return tuple(_char_ngrams(text))


def query_vector(vectorizer: TfidfVectorizer, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(feature indices, tf-idf values) of one text, as `vectorizer.transform` would give them
    (sublinear tf, idf, l2 norm) without its per-call validation, which cost more than the maths."""
    counts: dict[int, int] = {}
    vocab = vectorizer.vocabulary_
    for feature in vectorizer.analyzer(text):
        j = vocab.get(feature)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    if not counts:
        return np.zeros(0, dtype=int), np.zeros(0)
    idx = np.fromiter(counts, dtype=int, count=len(counts))
    idf = getattr(vectorizer, "_idf_array", None)
    if idf is None:  # sklearn rebuilds `idf_` from a sparse matrix at every access: keep it once
        idf = vectorizer._idf_array = np.asarray(vectorizer.idf_)
    values = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[idx]
    return idx, values / np.linalg.norm(values)



def linear_scores(views: Sequence[TfidfVectorizer], weights: np.ndarray, intercept: np.ndarray,
                  text: str) -> np.ndarray:
    """A linear classifier's decision scores for one text over stacked views, summed from the
    rows of its features (`weights`: one row per feature, views in order): a message has a few
    dozen features, and sklearn's dense product over every feature cost more than the maths."""
    scores = intercept.copy()
    offset = 0
    for v in views:
        idx, values = query_vector(v, text)
        if len(idx):
            scores += values @ weights[idx + offset]
        offset += len(v.vocabulary_)
    return scores

class Ranker:
    """Scores entries against a query; built once per knowledge base."""

    def __init__(self, entries: Sequence[Entry]):
        self.entries = list(entries)
        q_texts, self._q_owner = [], []
        for i, e in enumerate(self.entries):
            for q in (e.title, *e.questions):
                q_texts.append(q)
                self._q_owner.append(i)
        self._q_owner = np.array(self._q_owner)
        docs = [" ".join((e.title, *e.keywords, e.answer)) for e in self.entries]
        segments, seg_owner = [], []
        for i, e in enumerate(self.entries):
            for seg in _SEGMENT.split(e.answer):
                if len(seg.strip()) > 12:
                    segments.append(seg.strip())
                    seg_owner.append(i)
        self._seg_owner = np.array(seg_owner, dtype=int)
        corpus = q_texts + docs
        self._word = TfidfVectorizer(analyzer=_stems, sublinear_tf=True)
        self._char = TfidfVectorizer(analyzer=_char_features, sublinear_tf=True)
        # Questions, documents and answer segments stacked and transposed once per view: a query
        # then costs one sparse product per view (the profile's hot spot in the action server).
        # fit_transform analyses the corpus once: the live reload builds a new ranker while
        # visitors are served, so its cost matters too.
        self._sizes = (len(q_texts), len(docs), len(segments))
        self._vt = [sp.vstack([v.fit_transform(corpus), v.transform(segments)]).T.tocsr()
                    for v in (self._word, self._char)]

    def scores(self, query: str) -> np.ndarray:
        """Similarity in [0, 1] of the query to every entry, aligned with self.entries."""
        n = len(self.entries)
        q_best, doc, seg_best = np.zeros(n), np.zeros(n), np.zeros(n)
        nq, nd, _ = self._sizes
        for vec, vt in zip((self._word, self._char), self._vt):
            idx, values = query_vector(vec, query)
            sims = vt[idx].T @ values if len(idx) else np.zeros(vt.shape[1])
            q_best += _best_per_entry(sims[:nq], self._q_owner, n) / 2
            doc += sims[nq:nq + nd] / 2
            seg_best += _best_per_entry(sims[nq + nd:], self._seg_owner, n) / 2
        return QUESTION_WEIGHT * q_best + (1 - QUESTION_WEIGHT) * doc + SEGMENT_WEIGHT * seg_best

    def search(self, query: str, allowed: Iterable[str] | None = None, limit: int = 5):
        """Best entries for a query as (entry, score), optionally restricted to some ids."""
        s = self.scores(query)
        keep = set(allowed) if allowed is not None else None
        ranked = sorted(((self.entries[i], float(s[i])) for i in range(len(self.entries))
                         if keep is None or self.entries[i].id in keep), key=lambda p: -p[1])
        return ranked[:limit]


def _best_per_entry(values: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    best = np.zeros(n)
    np.maximum.at(best, owners, values)
    return best


def keyword_hits(entries: Iterable[Entry], text: str) -> list[Entry]:
    """Entries one of whose distinctive keywords appears, as whole words, in the text."""
    words = f" {' '.join(tokens(text))} "
    hits = []
    for e in entries:
        for k in e.keywords:
            if f" {' '.join(tokens(k))} " in words:
                hits.append(e)
                break
    return hits
