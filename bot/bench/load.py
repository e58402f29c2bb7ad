"""Measures over a client (REST `bot.evaluate.Client` or the in-process TF-IDF baseline).

- concurrent conversations: N users, each its own sender, each sending its next question as
  soon as it has the previous reply (a closed loop, like people chatting), on loopback;
- the 100 000-character message alone, and its effect on a simple question sent alongside.
"""
from __future__ import annotations

import statistics
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from bot.bench.stats import summary

LONG_CHARS = 100_000
SIMPLE_QUESTION = "combien coûtent les frais de sélection du DEIS ?"


def long_text(chars: int = LONG_CHARS) -> str:
    unit = "Bonjour, je voudrais savoir combien de temps dure le DEIS et ce qu'il coûte. "
    return (unit * (chars // len(unit) + 1))[:chars]


def concurrent(client, questions: Sequence[str], users: int, messages: int) -> dict:
    """`users` conversations at once, `messages` in all; throughput and latency of every message."""
    per_user = max(1, -(-messages // users))
    tag = uuid.uuid4().hex[:6]
    start = threading.Barrier(users)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def conversation(u: int) -> None:
        mine, failed = [], []
        start.wait()
        for i in range(per_user):
            _, ms, err = client.send(f"bench-{tag}-{users}-{u}", questions[(u * per_user + i) % len(questions)])
            (failed.append(err) if err else mine.append(ms))
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(conversation, range(users)))
    wall = time.perf_counter() - t
    return {"users": users, "throughput": (len(latencies) + len(errors)) / wall, "wall_s": wall,
            "errors": len(errors), "latencies": latencies, **summary(latencies)}


def long_message(client, repeats: int) -> dict:
    """Latency of a 100 000-character message, and the delay it adds to a simple question.

    The simple question is sent right after the long one starts, by another user; the added
    delay is its median latency then minus its median latency alone.
    """
    tag, text = uuid.uuid4().hex[:6], long_text()
    alone_long, alone_simple, with_long, long_mixed, errors = [], [], [], [], []

    def timed(sender: str, message: str, into: list) -> None:
        _, ms, err = client.send(sender, message)
        (errors.append(err) if err else into.append(ms))

    for i in range(repeats):
        timed(f"bench-{tag}-long-{i}", text, alone_long)
        timed(f"bench-{tag}-simple-{i}", SIMPLE_QUESTION, alone_simple)
        other = threading.Thread(target=timed, args=(f"bench-{tag}-mixed-long-{i}", text, long_mixed))
        other.start()
        timed(f"bench-{tag}-mixed-simple-{i}", SIMPLE_QUESTION, with_long)
        other.join()
    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    added = med(with_long) - med(alone_simple) if with_long and alone_simple else None
    return {"long_ms": med(alone_long), "long_mixed_ms": med(long_mixed), "simple_alone_ms": med(alone_simple),
            "simple_with_long_ms": med(with_long), "added_ms": added, "errors": len(errors), "repeats": repeats}


FIXED_REPLY = "merci beaucoup"  # thanks → a fixed reply from the domain: no action server call


def floors(client, repeats: int) -> dict:
    """What every message pays before the knowledge answer, p50 over `repeats` calls (ms).

    HTTP round trip to Rasa (GET /), NLU alone over HTTP (/model/parse, no tracker), and a
    message answered by a rule with a fixed reply (NLU + tracker store + policy, no action server).
    """
    tag = uuid.uuid4().hex[:6]

    def timed(call) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            call()
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    def http() -> None:
        with urllib.request.urlopen(client.url + "/", timeout=10) as r:
            r.read()

    return {"http_ms": timed(http), "parse_ms": timed(lambda: client.intent(SIMPLE_QUESTION)),
            "chitchat_ms": timed(lambda: client.send(f"bench-{tag}-floor", FIXED_REPLY))}
