"""Visitors' ratings of answers and their contact requests, kept next to the conversations.

The website widget sends them to the `feedback` input channel (bot/channels/feedback.py),
which stores them here, in the same database as Rasa's tracker store (`BOT_TRACKER_URL`:
SQLite by default, PostgreSQL in production), with SQLAlchemy Core:

- `feedback_ratings`: one row per rated answer (conversation id, the widget's id of the
  answer, knowledge entry id, question, useful or not, reason); a second rating of the same
  answer by the same conversation is refused by a unique constraint (`DuplicateRating`).
- `contact_requests`: a message for the admissions office, with a short reference given to
  the visitor, and the conversation's transcript only when the visitor agreed to send it.
- `feedback_schema`: the version of these tables. They are created at first use and brought
  up to date by the steps of `MIGRATIONS`, so a new column is one more step, never a manual
  ALTER on each server.

Times are UNIX timestamps (float seconds), like the `timestamp` of Rasa's events, so that
`make purge` deletes old rows of both with the same cutoff (bot/conversations.py).
Every method is synchronous (plain SQLAlchemy); the Rasa channel calls them through
`asyncio.to_thread` so the event loop never waits for the database.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Optional

import sqlalchemy as sa

REASONS = ("wrong", "incomplete", "not_my_question", "other")
# Status of a new contact request, shown as is to staff reading the table (a code, not a sentence).
STATUS_NEW = "nouvelle"
# Set by staff in the console (bot/admin/visitors.py): "en cours" while someone is dealing with
# it, "traitée" once answered; any status may be set again (reopen, put back in progress).
STATUS_IN_PROGRESS = "en cours"
STATUS_DONE = "traitée"
CONTACT_STATUSES = (STATUS_NEW, STATUS_IN_PROGRESS, STATUS_DONE)
# References read aloud or typed by visitors: no 0/O, 1/I/L look-alikes.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_CHARS = 8


class DuplicateRating(Exception):
    """This conversation has already rated this answer (one rating per answer)."""


@dataclass(frozen=True)
class Rating:
    sender_id: str
    message_id: str
    kb_id: str
    question: str
    useful: bool
    reason: Optional[str]
    timestamp: float


@dataclass(frozen=True)
class ContactRequest:
    reference: str
    sender_id: str
    name: str
    email: str
    message: str
    consent_transcript: bool
    transcript: Optional[list]  # [{"from": "user" | "bot", "text": …, "time": …}] or None
    timestamp: float
    status: str


class Purged(NamedTuple):
    ratings: int
    contacts: int


# --- Schema: versioned migrations -----------------------------------------------------------
# Each step brings the tables from version i to i + 1 and runs in the transaction that records
# the new version. Steps are frozen once released: a change is a new step appended to the list
# (e.g. `_v2_add_status_index`), and the lightweight tables below are updated to match.
# Write steps that could run twice without harm anyway (create with checkfirst, "IF NOT
# EXISTS"), as step 1 does: a database without transactional DDL gives no other guarantee.

def _v1_create_tables(conn: sa.engine.Connection) -> None:
    md = sa.MetaData()
    sa.Table("feedback_ratings", md,
             sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("sender_id", sa.String(128), nullable=False),
             sa.Column("message_id", sa.String(64), nullable=False),
             sa.Column("kb_id", sa.String(255), nullable=False),
             sa.Column("question", sa.Text, nullable=False),
             sa.Column("useful", sa.Boolean, nullable=False),
             sa.Column("reason", sa.String(32)),
             sa.Column("timestamp", sa.Float, nullable=False, index=True),
             sa.UniqueConstraint("sender_id", "message_id", name="uq_feedback_ratings_answer"))
    sa.Table("contact_requests", md,
             sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("reference", sa.String(16), nullable=False, unique=True),
             sa.Column("sender_id", sa.String(128), nullable=False),
             sa.Column("name", sa.String(100), nullable=False),
             sa.Column("email", sa.String(254), nullable=False),
             sa.Column("message", sa.Text, nullable=False),
             sa.Column("consent_transcript", sa.Boolean, nullable=False),
             sa.Column("transcript", sa.Text),
             sa.Column("timestamp", sa.Float, nullable=False, index=True),
             sa.Column("status", sa.String(32), nullable=False))
    md.create_all(conn, checkfirst=True)


MIGRATIONS: tuple[Callable[[sa.engine.Connection], None], ...] = (_v1_create_tables,)
SCHEMA_VERSION = len(MIGRATIONS)

_META = sa.MetaData()
# One row (id 1): a second process racing to insert it fails instead of adding another.
SCHEMA = sa.Table("feedback_schema", _META,
                  sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                  sa.Column("version", sa.Integer, nullable=False))

# The current columns, for queries only (the DDL lives in the migration steps above).
RATINGS = sa.table("feedback_ratings", *(sa.column(c) for c in (
    "sender_id", "message_id", "kb_id", "question", "useful", "reason", "timestamp")))
CONTACTS = sa.table("contact_requests", *(sa.column(c) for c in (
    "reference", "sender_id", "name", "email", "message", "consent_transcript", "transcript",
    "timestamp", "status")))


class FeedbackStore:
    """Ratings and contact requests in the database at `url` (an SQLAlchemy URL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Optional[sa.engine.Engine] = None
        self._lock = threading.Lock()

    # -- set-up --------------------------------------------------------------------------------
    @property
    def engine(self) -> sa.engine.Engine:
        """The engine, with the tables created or migrated on first use."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = sa.create_engine(self.url, future=True)
                    try:
                        _migrate(engine)
                    except BaseException:
                        engine.dispose()
                        raise
                    self._engine = engine
        return self._engine

    def schema_version(self) -> int:
        with self.engine.connect() as db:
            return int(db.execute(sa.select(SCHEMA.c.version)).scalar_one())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- writes --------------------------------------------------------------------------------
    def add_rating(self, sender_id: str, message_id: str, kb_id: str, question: str, useful: bool,
                   reason: Optional[str] = None, timestamp: Optional[float] = None) -> None:
        """Store one rating; raise DuplicateRating if this conversation already rated this answer."""
        if reason is not None and reason not in REASONS:
            raise ValueError(f"unknown rating reason {reason!r}")
        row = dict(sender_id=sender_id, message_id=message_id, kb_id=kb_id, question=question,
                   useful=bool(useful), reason=reason, timestamp=time.time() if timestamp is None else timestamp)
        try:
            with self.engine.begin() as db:
                db.execute(sa.insert(RATINGS).values(**row))
        except sa.exc.IntegrityError as exc:  # the only constraint a validated row can break
            raise DuplicateRating(f"{sender_id[:64]!r} already rated {message_id!r}") from exc

    def add_contact(self, sender_id: str, name: str, email: str, message: str, consent_transcript: bool,
                    transcript: Optional[list] = None, timestamp: Optional[float] = None) -> str:
        """Store one contact request and return its reference. The transcript is kept only
        with the visitor's consent, whatever the caller passes."""
        stored = json.dumps(transcript or [], ensure_ascii=False) if consent_transcript else None
        row = dict(sender_id=sender_id, name=name, email=email, message=message,
                   consent_transcript=bool(consent_transcript), transcript=stored,
                   timestamp=time.time() if timestamp is None else timestamp, status=STATUS_NEW)
        for attempt in range(5):  # 31^8 references: a collision is very unlikely, twice never
            reference = new_reference()
            try:
                with self.engine.begin() as db:
                    db.execute(sa.insert(CONTACTS).values(reference=reference, **row))
                return reference
            except sa.exc.IntegrityError:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def set_contact_status(self, reference: str, status: str) -> bool:
        """Set a contact request's status (one of CONTACT_STATUSES); False if no such reference."""
        if status not in CONTACT_STATUSES:
            raise ValueError(f"unknown contact request status {status!r}")
        with self.engine.begin() as db:
            found = db.execute(sa.update(CONTACTS).where(CONTACTS.c.reference == reference)
                               .values(status=status)).rowcount
        return bool(found)

    def purge(self, before: float) -> Purged:
        """Delete the ratings and contact requests older than `before` (a UNIX time)."""
        with self.engine.begin() as db:
            ratings = db.execute(sa.delete(RATINGS).where(RATINGS.c.timestamp < before)).rowcount
            contacts = db.execute(sa.delete(CONTACTS).where(CONTACTS.c.timestamp < before)).rowcount
        return Purged(ratings or 0, contacts or 0)

    # -- reads ---------------------------------------------------------------------------------
    def ratings(self) -> list[Rating]:
        query = sa.select(*(RATINGS.c[f] for f in Rating.__dataclass_fields__)).order_by(RATINGS.c.timestamp)
        with self.engine.connect() as db:
            return [Rating(*r[:4], bool(r[4]), *r[5:]) for r in db.execute(query)]

    def contacts(self) -> list[ContactRequest]:
        fields = list(ContactRequest.__dataclass_fields__)
        query = sa.select(*(CONTACTS.c[f] for f in fields)).order_by(CONTACTS.c.timestamp)
        with self.engine.connect() as db:
            rows = [dict(zip(fields, r)) for r in db.execute(query)]
        for r in rows:
            r["consent_transcript"] = bool(r["consent_transcript"])
            r["transcript"] = json.loads(r["transcript"]) if r["transcript"] is not None else None
        return [ContactRequest(**r) for r in rows]


def new_reference() -> str:
    """A short reference such as "K7PM-Q2XD" for the visitor to quote."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_CHARS))
    return f"{chars[:4]}-{chars[4:]}"


def _migrate(engine: sa.engine.Engine) -> None:
    """Create or upgrade the tables. Several servers (or threads) may start together on one
    database: a lock serialises them on PostgreSQL (advisory) and SQLite (write lock taken
    first); elsewhere the loser of a race retries once and then finds the schema up to date."""
    for attempt in range(2):
        try:
            with engine.begin() as db:
                _migrate_in(db)
            return
        except (sa.exc.IntegrityError, sa.exc.OperationalError, sa.exc.ProgrammingError):
            if attempt:
                raise


def _migrate_in(db: Any) -> None:
    if db.dialect.name == "postgresql":
        db.execute(sa.text("SELECT pg_advisory_xact_lock(7246013)"))  # any constant of this module's own
    elif db.dialect.name == "sqlite":
        # The Python driver starts no transaction before DDL: start one that holds the write lock
        # from the start, so the steps and the version row are one unit, as on PostgreSQL.
        db.exec_driver_sql("BEGIN IMMEDIATE")
    SCHEMA.create(db, checkfirst=True)
    found = db.execute(sa.select(SCHEMA.c.version).where(SCHEMA.c.id == 1)).scalar_one_or_none()
    version = found or 0
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"feedback tables are at schema version {version}, newer than this code "
                           f"({SCHEMA_VERSION}): run the newer release or restore its database")
    for step in MIGRATIONS[version:]:
        step(db)
    if found is None:
        db.execute(sa.insert(SCHEMA).values(id=1, version=SCHEMA_VERSION))
    elif version != SCHEMA_VERSION:
        db.execute(sa.update(SCHEMA).where(SCHEMA.c.id == 1).values(version=SCHEMA_VERSION))
