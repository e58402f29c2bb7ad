"""NLU-only parse latency with the model loaded in this process (rasa Agent), no HTTP.

Loading a model imports TensorFlow into the bench process; done last so it does not weigh
on the servers' measures.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Sequence

from bot.bench.stats import summary


def parse_latency(model: Path, texts: Sequence[str]) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Unconfigured, Rasa's structured logger prints every parse at debug level.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)

    loop = asyncio.new_event_loop()
    try:
        t = time.perf_counter()
        agent = Agent.load(str(model))
        load_s = time.perf_counter() - t
        loop.run_until_complete(agent.parse_message(texts[0]))  # first call builds TF graphs
        latencies = []
        for text in texts:
            t = time.perf_counter()
            loop.run_until_complete(agent.parse_message(text))
            latencies.append((time.perf_counter() - t) * 1000)
    finally:
        loop.close()
    return {"load_s": load_s, "latencies": latencies, **summary(latencies)}


def retrieval_latency(baseline, texts: Sequence[str]) -> dict:
    """The TF-IDF baseline's counterpart: scoring every entry, in process."""
    latencies = []
    for text in texts:
        t = time.perf_counter()
        baseline.ranker.scores(text)
        latencies.append((time.perf_counter() - t) * 1000)
    return {"load_s": baseline.fit_s, "latencies": latencies, **summary(latencies)}
