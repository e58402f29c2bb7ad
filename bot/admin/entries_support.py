"""What the entries section shows besides the files: the folder's metadata (formations, topics,
sources), an entry's status, the search, the edit form's values, visitors' ratings and the
number of times an entry was given, and the line-by-line difference between two versions."""
from __future__ import annotations

import difflib
import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa
import yaml

from bot.admin.knowledge_files import DRAFT, EntryText
from bot.kb.checks import REVIEW_MAX_AGE
from bot.kb.messages import CONSOLE
from bot.kb.model import GENERAL
from bot.text import fold

STATUSES = ("publiee", "brouillon", "expiree", "revue_due")
MAX_SOURCES = 12       # source rows a form may send
EXTRA_SOURCE_ROWS = 2  # empty rows offered to add a source


# --- the folder's metadata ------------------------------------------------------------------
@dataclass
class Meta:
    formations: dict[str, str] = field(default_factory=dict)   # id -> short label
    topics: dict[str, str] = field(default_factory=dict)       # id -> label
    parcours: dict[str, str] = field(default_factory=dict)     # id -> label
    sources: dict[str, dict] = field(default_factory=dict)     # id -> {"title", "kind"}
    aliases: dict[str, str] = field(default_factory=dict)      # folded name -> source id

    def source_id(self, doc: Any) -> str:
        return self.aliases.get(fold(str(doc)), str(doc))

    def source_title(self, doc: Any) -> str:
        found = self.sources.get(self.source_id(doc))
        return found["title"] if found else str(doc)


_meta_cache: dict[str, tuple[str, Meta]] = {}
_meta_lock = threading.Lock()


def _yaml(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return doc if isinstance(doc, dict) else {}


def meta(kdir: Path) -> Meta:
    """Formations, topics, parcours and sources of the folder (re-read when a file changes)."""
    names = ("formations.yml", "topics.yml", "sources.yml")
    state = hashlib.sha256()
    for name in names:
        path = kdir / name
        state.update(str(path.stat().st_mtime_ns if path.exists() else 0).encode())
    key = state.hexdigest()
    with _meta_lock:
        hit = _meta_cache.get(str(kdir))
    if hit and hit[0] == key:
        return hit[1]
    fdoc, tdoc, sdoc = (_yaml(kdir / n) for n in names)
    m = Meta()
    for f in fdoc.get("formations") or []:
        if isinstance(f, dict) and f.get("id"):
            m.formations[str(f["id"])] = str(f.get("short") or f.get("label") or f["id"])
    m.formations[GENERAL] = CONSOLE["entries_general"]
    for p in fdoc.get("parcours") or []:
        if isinstance(p, dict) and p.get("id"):
            m.parcours[str(p["id"])] = str(p.get("label") or p["id"])
    topics = tdoc.get("topics") if isinstance(tdoc.get("topics"), dict) else {}
    m.topics = {str(k): str((v or {}).get("label") or k) for k, v in topics.items()
                if isinstance(v, dict) and not str(k).startswith("__")}
    for s in sdoc.get("sources") or []:
        if isinstance(s, dict) and s.get("id"):
            sid = str(s["id"])
            m.sources[sid] = {"title": str(s.get("title") or sid), "kind": str(s.get("kind") or "document")}
            for name in (sid, *(s.get("aliases") or ())):
                m.aliases[fold(str(name))] = sid
    with _meta_lock:
        _meta_cache[str(kdir)] = (key, m)
    return m


# --- status and search ----------------------------------------------------------------------
def _date(value: Any) -> Optional[date]:
    try:
        return date.fromisoformat(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def status_of(data: dict, today: Optional[date] = None) -> str:
    """brouillon, expiree (its `expires` date has passed), revue_due (not reviewed for 12 months,
    as faq-check warns) or publiee."""
    today = today or date.today()
    if data.get("status") == DRAFT:
        return "brouillon"
    expires = _date(data.get("expires"))
    if expires is not None and expires < today:
        return "expiree"
    reviewed = _date(data.get("reviewed"))
    if reviewed is None or today - reviewed > REVIEW_MAX_AGE:
        return "revue_due"
    return "publiee"


def matches(entry: EntryText, words: list[str]) -> bool:
    d = entry.data
    text = " ".join([entry.entry_id, str(d.get("title") or ""), str(d.get("answer") or ""),
                     *(str(q) for q in d.get("questions") or [] if q is not None)])
    folded = fold(text)
    return all(w in folded for w in words)


def search(entries: list[EntryText], q: str, formation: str, topic: str, status: str) -> list[EntryText]:
    words = fold(q).split()
    return [e for e in entries
            if (not words or matches(e, words))
            and (not formation or str(e.data.get("formation")) == formation)
            and (not topic or str(e.data.get("topic")) == topic)
            and (not status or status_of(e.data) == status)]


# --- the edit form --------------------------------------------------------------------------
def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def values_from_data(data: dict) -> dict:
    """The form's values for an entry's fields."""
    sources = []
    for item in data.get("sources") or []:
        s = item if isinstance(item, dict) else {"doc": item}
        sources.append({"doc": str(s.get("doc") or ""), "section": str(s.get("section") or ""),
                        "author": str(s.get("author") or "")})
    return {"id": str(data.get("id") or ""), "title": str(data.get("title") or ""),
            "formation": str(data.get("formation") or ""), "topic": str(data.get("topic") or ""),
            "parcours": str(data.get("parcours") or ""), "short": str(data.get("short") or ""),
            "answer": str(data.get("answer") or ""),
            "questions": "\n".join(str(q) for q in data.get("questions") or []),
            "keywords": "\n".join(str(k) for k in data.get("keywords") or []),
            "reviewed": str(data.get("reviewed") or ""), "expires": str(data.get("expires") or ""),
            "sources": sources}


def values_from_form(form) -> dict:
    """What was typed, as it was typed (shown again when the entry is refused)."""
    names = ("id", "title", "formation", "topic", "parcours", "short", "answer", "questions", "keywords",
             "reviewed", "expires")
    values = {n: (form.get(n) or "").replace("\r\n", "\n") for n in names}
    rows = zip(form.getlist("source_doc"), form.getlist("source_section"), form.getlist("source_author"))
    values["sources"] = [{"doc": d.strip(), "section": s.strip(), "author": a.strip()}
                         for d, s, a in list(rows)[:MAX_SOURCES]]
    return values


def source_rows(values: dict) -> list[dict]:
    """The source rows to show: the entry's, then empty ones to add more."""
    rows = [s for s in values["sources"] if any(s.values())]
    return rows + [{"doc": "", "section": "", "author": ""}] * EXTRA_SOURCE_ROWS


def data_from_values(values: dict, original: dict, m: Meta) -> tuple[dict, dict[str, list[str]]]:
    """(the entry's fields, form errors found before any check): fields the form does not show
    are kept from `original`, and so is a source written as before (e.g. with an alias)."""
    errors: dict[str, list[str]] = {}
    data = dict(original)
    for name in ("title", "formation", "topic", "parcours", "short", "reviewed", "expires"):
        data[name] = " ".join(values[name].split())
    data["answer"] = values["answer"].strip()
    data["questions"] = _lines(values["questions"])
    data["keywords"] = _lines(values["keywords"])
    old = [s for s in original.get("sources") or [] if isinstance(s, dict)]
    sources = []
    for row in values["sources"]:
        if not row["doc"]:
            if row["section"] or row["author"]:
                errors.setdefault("sources", []).append(CONSOLE["entries_source_without_doc"])
            continue
        same = next((s for s in old if m.source_id(s.get("doc")) == m.source_id(row["doc"])
                     and str(s.get("section") or "") == row["section"]
                     and str(s.get("author") or "") == row["author"]), None)
        if same is not None:
            old.remove(same)
            sources.append(same)
        else:
            sources.append({"doc": row["doc"], **({"section": row["section"]} if row["section"] else {}),
                            **({"author": row["author"]} if row["author"] else {})})
    data["sources"] = sources
    return data, errors


# --- visitors: ratings and answers given ------------------------------------------------------
@dataclass
class Ratings:
    useful: int = 0
    not_useful: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)   # (reason or "none", count)
    recent: list[Any] = field(default_factory=list)                # latest "not useful" ratings


def ratings_for(url: str, entry_id: str, recent: int = 10) -> Optional[Ratings]:
    """Visitors' ratings of this entry's answers; None when the database cannot be read."""
    from bot.feedback_store import FeedbackStore
    store = FeedbackStore(url)
    try:
        found = [r for r in store.ratings() if r.kb_id == entry_id]
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        store.close()
    bad = [r for r in found if not r.useful]
    reasons = Counter(r.reason or "none" for r in bad)
    return Ratings(len(found) - len(bad), len(bad), sorted(reasons.items(), key=lambda kv: -kv[1]),
                   list(reversed(bad))[:recent])


def _carries(value: Any, entry_id: str) -> bool:
    if isinstance(value, dict):
        return value.get("kb_id") == entry_id or any(_carries(v, entry_id) for v in value.values())
    if isinstance(value, list):
        return any(_carries(v, entry_id) for v in value)
    return False


def times_given(url: str, entry_id: str) -> Optional[int]:
    """How many of the assistant's messages gave this entry (Rasa's `events` table, bot
    messages carrying its kb_id); 0 without conversations, None when unreadable."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        return 0
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table("events"):
            return 0
        query = sa.text("SELECT data FROM events WHERE type_name = 'bot' AND data LIKE :pattern")
        with engine.connect() as db:
            rows = db.execute(query, {"pattern": f'%"kb_id": "{entry_id}"%'})
            return sum(1 for (data,) in rows if _carries(_json(data), entry_id))
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def _json(text: Optional[str]) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return None


# --- differences ----------------------------------------------------------------------------
def diff_rows(before: Optional[str], after: Optional[str], context: int = 2) -> list[tuple[str, str]]:
    """(kind, line) with kind "add", "del", "same" or "skip" (the line is then the number of
    unchanged lines left out)."""
    a, b = (before or "").splitlines(), (after or "").splitlines()
    rows: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            same = a[i1:i2]
            if len(same) > 2 * context + 1:
                head = same[:context] if rows else []
                tail = same[-context:] if i2 < len(a) or j2 < len(b) else []
                rows += [("same", x) for x in head]
                rows.append(("skip", str(len(same) - len(head) - len(tail))))
                rows += [("same", x) for x in tail]
            else:
                rows += [("same", x) for x in same]
            continue
        rows += [("del", x) for x in a[i1:i2]]
        rows += [("add", x) for x in b[j1:j2]]
    return rows
