"""The Redis lock store: a turn whose ticket expired behind a crashed node's goes ahead.

Real Redis (redis-server from Debian, on a Unix socket in a temporary directory).
"""
import asyncio
import shutil
import subprocess
import time

import pytest
import redis
from rasa.core.lock_store import RedisLockStore

from bot.locks import ResilientRedisLockStore

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed "
                                "(scripts/system-deps.sh redis-server)")


@pytest.fixture
def redis_socket(tmp_path):
    sock = tmp_path / "redis.sock"
    proc = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(sock), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield str(sock)
    proc.terminate()
    proc.wait(10)


def _store(cls, sock):
    store = cls.__new__(cls)
    RedisLockStore.__init__(store)  # then talk to the socket instead of a TCP port
    store.red = redis.StrictRedis(unix_socket_path=sock, db=1)
    store.key_prefix = "test:lock:"
    return store


def _crash_then_wait(store):
    store.issue_ticket("c1", 0.3)  # a node takes the lock and dies
    mine = store.issue_ticket("c1", 0.4)  # the replayed turn, on another node
    time.sleep(0.6)  # that node is too busy to poll while both tickets expire
    store.update_lock("c1")
    return asyncio.run(asyncio.wait_for(store._acquire_lock("c1", mine, 0.05), 2))


def test_stock_store_waits_forever_and_ours_goes_ahead(redis_socket):
    with pytest.raises(asyncio.TimeoutError):
        _crash_then_wait(_store(RedisLockStore, redis_socket))
    lock = _crash_then_wait(_store(ResilientRedisLockStore, redis_socket))
    assert lock.conversation_id == "c1"


def test_live_ticket_ahead_is_still_respected(redis_socket):
    store = _store(ResilientRedisLockStore, redis_socket)
    store.issue_ticket("c2", 30)  # a live turn holds the lock
    mine = store.issue_ticket("c2", 30)
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(store._acquire_lock("c2", mine, 0.05), 0.5))


def test_built_from_the_endpoints_file_like_rasa_does():
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    cfg = EndpointConfig(url="127.0.0.1", port="6479", db=1, key_prefix="bot", type="bot.locks.ResilientRedisLockStore")
    store = LockStore.create(cfg)
    assert isinstance(store, ResilientRedisLockStore)
    assert store.red.connection_pool.connection_kwargs["port"] == 6479 and store.key_prefix == "bot:lock:"
