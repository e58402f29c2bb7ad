"""Redis lock store that cannot leave a turn waiting forever after a node crash.

Rasa serialises the turns of one conversation with "ticket locks" kept in Redis: a turn takes
the next ticket and waits until it is the first one; tickets expire after
TICKET_LOCK_LIFETIME seconds, so a crashed node's ticket stops blocking after that time.

Rasa 3.6 has a flaw there, found by `make test-scale` (a Rasa node SIGKILLed mid-turn, nginx
replaying the request on the other node): the waiting turn's own ticket, issued a moment after
the dead one, expires a moment after it too. If the busy node does not poll inside that short
window, both tickets are gone, the lock is empty, `now_serving` is 0, and the turn waits
forever. Here a turn whose ticket has expired, with no live ticket ahead of it, goes ahead.

Configured in deploy/endpoints-scale.yml (`lock_store: type: bot.locks.ResilientRedisLockStore`).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)


class ResilientRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # how Rasa builds a lock store named by module path
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs}
        kwargs.pop("type", None)
        if "port" in kwargs:
            kwargs["port"] = int(kwargs["port"])  # ${BOT_REDIS_PORT} arrives as text
        super().__init__(**kwargs)

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:
                break
            if not lock.is_locked(ticket):
                return lock
            numbers = [t.number for t in lock.tickets]
            if ticket not in numbers and not any(n < ticket for n in numbers):
                logger.warning("Lock ticket of conversation %r expired while waiting (a crashed node's "
                               "ticket was ahead); going ahead.", conversation_id[:64])
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
