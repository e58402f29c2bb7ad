"""The project's tracker store tunes its own SQLite engine, and only that (bot/trackers.py).

Real SQLite files; the PostgreSQL case only checks the engine arguments, without connecting.
"""
import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text
from sqlalchemy.pool import SingletonThreadPool

from bot import trackers
from bot.trackers import ResilientSQLTrackerStore

DOMAIN = Domain.from_dict({"slots": {"formation": {"type": "text", "mappings": [{"type": "custom"}]}}})


def test_sqlite_store_runs_in_wal_mode_on_one_kept_connection(tmp_path):
    store = ResilientSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{tmp_path / 'tracker.db'}")
    assert isinstance(store.engine.pool, SingletonThreadPool)
    with store.session_scope() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        first = session.connection().connection.dbapi_connection
    with store.session_scope() as session:
        assert session.connection().connection.dbapi_connection is first  # kept, not reopened


def test_sqlite_store_saves_and_retrieves_a_conversation(tmp_path):
    db = tmp_path / "tracker.db"
    store = ResilientSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{db}")
    tracker = DialogueStateTracker("u1", DOMAIN.slots)
    tracker.update(UserUttered("combien de temps dure le DEIS ?"))
    tracker.update(SlotSet("formation", "deis"))
    asyncio.run(store.save(tracker))
    assert not store._pending  # written, not held in memory
    for reader in (store, ResilientSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{db}")):
        got = asyncio.run(reader.retrieve("u1"))
        assert got.get_slot("formation") == "deis"
        assert [e.text for e in got.events if isinstance(e, UserUttered)] == ["combien de temps dure le DEIS ?"]


def test_in_memory_sqlite_store_has_its_tables():
    store = ResilientSQLTrackerStore(domain=DOMAIN, host="sqlite://")
    tracker = DialogueStateTracker("u1", DOMAIN.slots)
    tracker.update(SlotSet("formation", "deis"))
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("u1")).get_slot("formation") == "deis" and not store._pending


def test_only_the_store_s_own_engine_is_tuned(tmp_path):
    ResilientSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{tmp_path / 'tracker.db'}")
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with other.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "delete"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL, SQLite's default


def test_postgresql_keeps_rasa_s_engine_settings():
    from rasa.core.tracker_store import create_engine_kwargs
    url = "postgresql://bot:secret@db.example:5432/rasa"
    assert not trackers.is_sqlite(url)
    kwargs = trackers.engine_kwargs(url)
    assert "poolclass" not in kwargs and kwargs == create_engine_kwargs(url)
    assert trackers.engine_kwargs("sqlite:///x.db")["poolclass"] is SingletonThreadPool
