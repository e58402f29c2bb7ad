"""In-process token buckets: a per-sender and a per-IP message rate limit.

Each key (a conversation id, a client address) owns a bucket of `burst` tokens refilled at
`per_min` tokens a minute; a message takes one token, and an empty bucket means "wait". The
buckets live in the Rasa process (no shared store): with N nodes behind a load balancer a
client gets at most N times the limit, which is fine for abuse control. Channel-agnostic: the
REST and socket.io channels both call it through bot/channels/guard.py.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional

from bot.config import load_settings

# Enough distinct keys for a very busy day; beyond it the longest-idle buckets are forgotten
# (an idle bucket has refilled anyway), so memory stays bounded whatever senders are forged.
MAX_KEYS = 100_000


class RateLimiter:
    """Token buckets keyed by any string; `check` returns 0 if allowed, else seconds to wait."""

    def __init__(self, burst: int, per_min: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_KEYS) -> None:
        self.burst, self.rate, self.clock, self.max_keys = burst, per_min / 60.0, clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.burst > 0 and self.rate > 0

    def check(self, key: str) -> float:
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)  # re-inserted last: most recently used
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class Limits:
    per_sender: RateLimiter
    per_ip: RateLimiter

    def check(self, sender: Optional[str], ip: Optional[str]) -> float:
        """Seconds the client must wait (0: go ahead). The IP bucket is charged first, so a
        flood of forged senders from one address is still stopped."""
        wait = self.per_ip.check(ip) if ip else 0.0
        if not wait and sender:
            wait = self.per_sender.check(sender)
        return wait


@lru_cache(maxsize=1)
def limits() -> Limits:
    """The process-wide limits, from the settings (one set shared by every channel)."""
    s = load_settings()
    return Limits(RateLimiter(s.rate_sender_burst, s.rate_sender_per_min),
                  RateLimiter(s.rate_ip_burst, s.rate_ip_per_min))
