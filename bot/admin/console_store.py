"""The staff console's own tables, next to the conversations (same database as the tracker store).

- `admin_users`: accounts (name, role, argon2 hash of the password). There is no default account:
  `make admin-user` creates or resets one.
- `admin_history`: every change made through the console to a knowledge file: who, when, which
  entry, the entry before and after (YAML text), so a change can be shown as a diff and undone.
- `admin_ignored`: unanswered-question groups staff chose to ignore (by a stable key).
- `admin_schema`: the version of these tables, brought up to date by the steps of `MIGRATIONS`
  (a new column is one more step, never a manual ALTER).

SQLAlchemy Core, synchronous: the console is a small WSGI application.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("redaction", "validation")
_HASHER = PasswordHasher()


def _v1_create_tables(conn: sa.engine.Connection) -> None:
    md = sa.MetaData()
    sa.Table("admin_users", md,
             sa.Column("name", sa.String(64), primary_key=True),
             sa.Column("role", sa.String(16), nullable=False),
             sa.Column("password_hash", sa.String(255), nullable=False),
             sa.Column("updated", sa.Float, nullable=False))
    sa.Table("admin_history", md,
             sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("entry_id", sa.String(255), nullable=False, index=True),
             sa.Column("file", sa.String(255), nullable=False),
             sa.Column("user", sa.String(64), nullable=False),
             sa.Column("action", sa.String(32), nullable=False),
             sa.Column("before", sa.Text),
             sa.Column("after", sa.Text),
             sa.Column("timestamp", sa.Float, nullable=False, index=True))
    sa.Table("admin_ignored", md,
             sa.Column("key", sa.String(255), primary_key=True),
             sa.Column("user", sa.String(64), nullable=False),
             sa.Column("timestamp", sa.Float, nullable=False))
    md.create_all(conn, checkfirst=True)


MIGRATIONS: tuple[Callable[[sa.engine.Connection], None], ...] = (_v1_create_tables,)
SCHEMA_VERSION = len(MIGRATIONS)
_META = sa.MetaData()
SCHEMA = sa.Table("admin_schema", _META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                  sa.Column("version", sa.Integer, nullable=False))
USERS = sa.table("admin_users", *(sa.column(c) for c in ("name", "role", "password_hash", "updated")))
HISTORY = sa.table("admin_history", *(sa.column(c) for c in (
    "id", "entry_id", "file", "user", "action", "before", "after", "timestamp")))
IGNORED = sa.table("admin_ignored", *(sa.column(c) for c in ("key", "user", "timestamp")))


@dataclass(frozen=True)
class Account:
    name: str
    role: str


@dataclass(frozen=True)
class Change:
    id: int
    entry_id: str
    file: str
    user: str
    action: str  # "create", "edit", "publish", "restore", "add_question"
    before: Optional[str]
    after: Optional[str]
    timestamp: float


class ConsoleStore:
    def __init__(self, url: str):
        kwargs = {"poolclass": sa.pool.SingletonThreadPool} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, **kwargs)
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            SCHEMA.create(conn, checkfirst=True)
            row = conn.execute(sa.select(SCHEMA.c.version).where(SCHEMA.c.id == 1)).first()
            version = row[0] if row else 0
            for step in MIGRATIONS[version:]:
                step(conn)
            if row is None:
                conn.execute(SCHEMA.insert().values(id=1, version=SCHEMA_VERSION))
            elif version < SCHEMA_VERSION:
                conn.execute(SCHEMA.update().where(SCHEMA.c.id == 1).values(version=SCHEMA_VERSION))

    # --- accounts ----------------------------------------------------------------------------
    def set_account(self, name: str, role: str, password: str) -> None:
        """Create the account, or reset its role and password."""
        if role not in ROLES:
            raise ValueError(role)
        values = {"role": role, "password_hash": _HASHER.hash(password), "updated": time.time()}
        with self._lock, self.engine.begin() as conn:
            if conn.execute(sa.select(USERS.c.name).where(USERS.c.name == name)).first():
                conn.execute(USERS.update().where(USERS.c.name == name).values(**values))
            else:
                conn.execute(USERS.insert().values(name=name, **values))

    def authenticate(self, name: str, password: str) -> Optional[Account]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS.c.role, USERS.c.password_hash).where(USERS.c.name == name)).first()
        if row is None:
            _HASHER.hash(password)  # same time spent whether the account exists or not
            return None
        try:
            _HASHER.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return Account(name, row.role)

    def account(self, name: str) -> Optional[Account]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS.c.role).where(USERS.c.name == name)).first()
        return Account(name, row.role) if row else None

    def accounts(self) -> list[Account]:
        with self.engine.connect() as conn:
            return [Account(r.name, r.role) for r in conn.execute(sa.select(USERS.c.name, USERS.c.role))]

    # --- history -----------------------------------------------------------------------------
    def record(self, entry_id: str, file: str, user: str, action: str,
               before: Optional[str], after: Optional[str]) -> int:
        with self._lock, self.engine.begin() as conn:
            result = conn.execute(HISTORY.insert().values(entry_id=entry_id, file=file, user=user, action=action,
                                                          before=before, after=after, timestamp=time.time()))
            return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0

    def history(self, entry_id: Optional[str] = None, limit: int = 200) -> list[Change]:
        query = sa.select(HISTORY).order_by(HISTORY.c.id.desc()).limit(limit)
        if entry_id is not None:
            query = query.where(HISTORY.c.entry_id == entry_id)
        with self.engine.connect() as conn:
            return [Change(**row._mapping) for row in conn.execute(query)]

    def change(self, change_id: int) -> Optional[Change]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(HISTORY).where(HISTORY.c.id == change_id)).first()
        return Change(**row._mapping) if row else None

    # --- ignored unanswered questions -----------------------------------------------------------
    def ignore(self, key: str, user: str) -> None:
        with self._lock, self.engine.begin() as conn:
            if not conn.execute(sa.select(IGNORED.c.key).where(IGNORED.c.key == key)).first():
                conn.execute(IGNORED.insert().values(key=key, user=user, timestamp=time.time()))

    def ignored(self) -> set[str]:
        with self.engine.connect() as conn:
            return {r.key for r in conn.execute(sa.select(IGNORED.c.key))}
