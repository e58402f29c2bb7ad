"""Baseline (a): TF-IDF retrieval over the knowledge entries, in process, no Rasa.

What a school could run instead of an assistant: return the entry whose words are closest
to the question (the project's own TF-IDF ranker, stemmed words + character n-grams), or
"don't know" under a similarity threshold. No NLU, no conversation state, no clarification.
It speaks the REST channel's message format, so `bot.evaluate` grades it like the assistant.
"""
from __future__ import annotations

import pickle
import time
from typing import Optional

from bot.answering import SEARCH_SUGGEST
from bot.kb.loader import load_knowledge_base
from bot.kb.search import Ranker

# Under this similarity the baseline declines: the assistant's own "did you mean" threshold.
MIN_SCORE = SEARCH_SUGGEST


class TfidfBaseline:
    """A `bot.evaluate.Client` look-alike answering in process."""

    def __init__(self, knowledge_dir) -> None:
        t = time.perf_counter()
        self.kb = load_knowledge_base(knowledge_dir)
        self.ranker = Ranker(self.kb.entries)
        self.fit_s = time.perf_counter() - t

    def answer(self, text: str) -> list[dict]:
        found = self.ranker.search(text, limit=1)
        if not found or found[0][1] < MIN_SCORE:
            return [{"text": "Je ne sais pas."}]
        e = found[0][0]
        return [{"text": e.answer, "custom": {"kb_id": e.id, "formation": e.formation, "topic": e.topic}}]

    def send(self, sender: str, text: str):
        t = time.perf_counter()
        msgs = self.answer(text)
        return msgs, (time.perf_counter() - t) * 1000, None

    def intent(self, text: str) -> Optional[str]:
        return None  # no classifier: intent accuracy does not apply

    def model_bytes(self) -> int:
        return len(pickle.dumps(self.ranker))


def cold_start_main() -> None:
    """Entry of the cold-start probe: `python -m bot.bench.tfidf` loads, answers once, reports."""
    import json
    import resource
    import sys

    from bot.config import load_settings
    baseline = TfidfBaseline(load_settings().knowledge_dir)
    baseline.answer("combien coûte le DEIS ?")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"rss_mb": rss_mb}, sys.stdout)


if __name__ == "__main__":
    cold_start_main()
