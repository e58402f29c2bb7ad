"""SQL tracker store that keeps the bot answering when the database cannot be written.

Rasa's own safety net (FailSafeTrackerStore) logs a long error at every turn and saves into a
memory store it never reads back, so a conversation forgets its context while the database is
down. This store instead:

- logs ONE clear ERROR when writes start failing (then a reminder at most once a minute and
  an INFO line when they work again), never a stack trace per turn;
- keeps the unsaved trackers in memory and serves them back to the next turn, so the
  conversation keeps its formation and question;
- writes them on the next successful save (the SQL store appends the events the database does
  not have yet), so nothing is lost if the database comes back before the process stops.

On SQLite (the default, `sqlite:///.run/tracker.db`) it also tunes its own engine, found by
profiling `make bench`: WAL mode with `synchronous=NORMAL` (one write per message instead of
a journal file plus two syncs; a crash of the process loses nothing, a power cut may lose the
last messages) on one kept connection (SingletonThreadPool) instead of SQLAlchemy 1.4's new
connection per session (NullPool): Rasa runs the store's queries on the event loop's thread,
so one connection serves them all. Only this store's engine is touched; other databases
(PostgreSQL in deploy/endpoints-scale.yml) keep Rasa's engine settings unchanged.

Configured in endpoints.yml and deploy/endpoints-scale.yml:
`tracker_store: type: bot.trackers.ResilientSQLTrackerStore`.
"""
from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import SingletonThreadPool

logger = logging.getLogger(__name__)

MAX_PENDING = 10_000  # conversations held in memory during an outage (oldest dropped first)
REMIND_EVERY_S = 60.0


def is_sqlite(url: "str | URL") -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def engine_kwargs(url: "str | URL") -> dict:
    """`sqlalchemy.create_engine` kwargs of this store: Rasa's, plus one kept connection on SQLite."""
    if is_sqlite(url):
        return {**create_engine_kwargs(url), "poolclass": SingletonThreadPool}
    return create_engine_kwargs(url)


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # persistent in the file
    cursor.execute("PRAGMA synchronous=NORMAL")  # per connection
    cursor.close()


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if is_sqlite(self.engine.url):
            self._tune_sqlite()
        self._pending: OrderedDict[Text, DialogueStateTracker] = OrderedDict()
        self._failing_since: Optional[float] = None
        self._last_log = 0.0

    def _tune_sqlite(self) -> None:
        # Rasa's SQLTrackerStore.__init__ (3.6.21) builds its engine from the module-level
        # `create_engine_kwargs(url)`, with no per-store hook, then creates the tables and the
        # sessionmaker. Rather than patch that function for every store in the process, replace
        # this store's engine and sessionmaker right after, before any conversation query.
        # create_all again: idempotent on a file, and an in-memory database is new per engine.
        # Upgrading Rasa: check that __init__ still sets `self.engine` and `self.sessionmaker`
        # (tests/test_trackers.py fails otherwise).
        url = self.engine.url
        engine = create_engine(url, **engine_kwargs(url))
        event.listen(engine, "connect", _sqlite_pragmas)
        try:
            self.Base.metadata.create_all(engine)
        except (OperationalError, ProgrammingError) as exc:  # as Rasa does: the tables may exist
            logger.error("Could not create tables: %s", exc)
        self.engine.dispose()
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine)

    def _where(self) -> str:
        return repr(self.engine.url)  # SQLAlchemy hides the password in repr

    def _failed(self, what: str, sender_id: Text, exc: Exception) -> None:
        now = time.monotonic()
        first = self._failing_since is None
        if first or now - self._last_log >= REMIND_EVERY_S:
            self._last_log = now
            if first:
                self._failing_since = now
            logger.error(
                "TRACKER STORE UNAVAILABLE: cannot %s conversations in %s (%s: %s). The bot keeps "
                "answering; %d conversation(s) are held in memory and will be written when the "
                "database works again. Check the database (disk full, read-only, locked, down).",
                what, self._where(), type(exc).__name__, str(exc).splitlines()[0][:300],
                len(self._pending))

    def _recovered(self) -> None:
        if self._failing_since is not None:
            logger.info("Tracker store writable again after %.0f s; %d conversation(s) still in memory.",
                        time.monotonic() - self._failing_since, len(self._pending))
            self._failing_since = None

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await super().save(tracker)
        except Exception as exc:  # noqa: BLE001 - any database failure: keep serving
            self._pending[tracker.sender_id] = tracker
            self._pending.move_to_end(tracker.sender_id)
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
            self._failed("write", tracker.sender_id, exc)
            return
        self._pending.pop(tracker.sender_id, None)
        self._recovered()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        if sender_id in self._pending:  # newer than what the database holds
            return self._pending[sender_id].copy()
        try:
            return await super().retrieve(sender_id)
        except Exception as exc:  # noqa: BLE001 - unreadable: start afresh rather than fail
            self._failed("read", sender_id, exc)
            return None

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        if conversation_id in self._pending:
            return self._pending[conversation_id].copy()
        try:
            return await super().retrieve_full_tracker(conversation_id)
        except Exception as exc:  # noqa: BLE001
            self._failed("read", conversation_id, exc)
            return None
