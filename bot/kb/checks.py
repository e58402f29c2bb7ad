"""Validation of one knowledge entry and of the entries together (ids, questions, dates).

Every finding goes to a `Collector`, which formats it as `file:line: fiche <id> : <French
message>` (messages in bot/kb/messages.py), so `faq-check` and the live reload print the
very same text. Lines point at the offending field when the YAML tells us where it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Optional

from bot.kb.messages import MESSAGES
from bot.kb.model import GENERAL, Entry, SourceRef
from bot.text import fold

ID_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){1,3}$")
MAX_ANSWER_CHARS = 1500
# The short answer a visitor sees first (`short:`): required when the answer is longer than this.
MAX_SHORT_CHARS = 220
REQUIRED = ("id", "formation", "topic", "title", "answer", "sources")
REVIEW_MAX_AGE = timedelta(days=365)  # "not reviewed for 12 months"
ERROR, EXPIRED, WARNING = "error", "expired", "warning"
# `status: brouillon`: a draft, checked like any entry but not given to visitors (absent = published).
DRAFT = "brouillon"
# Its message came with the staff console, whose texts are kept in `console:` for now.


@dataclass(frozen=True)
class Problem:
    level: str  # error | expired (an error for faq-check, the entry is left out at run time) | warning
    text: str
    entry: str = ""
    key: str = ""       # the message's key in MESSAGES, its values, and the message alone (no place)
    kw: tuple = ()
    message: str = ""


class Collector:
    def __init__(self, root: Path, texts: Optional[dict[Path, str]] = None):
        self.root = root
        self.problems: list[Problem] = []
        self.texts = texts or {}  # files read from here rather than from the disk (a change to check)

    def add(self, file: Path, line: int, entry: str, key: str, level: str = ERROR, **kw: Any) -> None:
        where = f"{self._rel(file)}:{line}" if line else self._rel(file)
        who = f" fiche {entry} :" if entry else ""
        message = MESSAGES[key].format(**kw)
        self.problems.append(Problem(level, f"{where}:{who} {message}", entry, key,
                                     tuple((k, str(v)) for k, v in kw.items()), message))

    def of(self, *levels: str) -> list[str]:
        return [p.text for p in self.problems if p.level in levels]

    def _rel(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root.parent))
        except ValueError:
            return str(file)


def line_of(raw: dict, key: str) -> int:
    """Line of a field in its file (the entry's first line when the field is absent)."""
    return (raw.get("__lines__") or {}).get(key) or raw.get("__line__", 0)


def _date(value: Any) -> Optional[date]:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def check_entry(raw: Any, path: Path, ctx: dict, out: Collector, today: date) -> Optional[Entry]:
    """Validate one raw entry; return it as an `Entry` when it can be built at all."""
    if not isinstance(raw, dict):
        out.add(path, 0, "", "not_mapping")
        return None
    # YAML may give numbers or lists where text is expected: compare and store them as text.
    raw = {k: (str(v) if k in ("id", "formation", "topic", "parcours") and v is not None
               and not isinstance(v, str) else v) for k, v in raw.items()}
    line, eid = raw.get("__line__", 0), str(raw.get("id", "?"))
    ok = True
    empty = set()
    for f in REQUIRED:
        if f not in raw or raw[f] is None:
            out.add(path, line, eid, "missing", field=f)
            ok = False
        elif isinstance(raw[f], str) and not raw[f].strip():
            out.add(path, line_of(raw, f), eid, "empty", field=f)
            empty.add(f)
    if not ok:
        return None
    # An empty field does not hide the entry's other problems: they are all reported at once.
    if "id" not in empty and not ID_RE.match(eid):
        out.add(path, line_of(raw, "id"), eid, "bad_id", value=eid)
    checks = (("formation", set(ctx["formations"]) | {GENERAL}, "unknown_formation"),
              ("topic", set(ctx["topics"]), "unknown_topic"))
    for field_name, allowed, key in checks:
        if field_name not in empty and raw[field_name] not in allowed:
            out.add(path, line_of(raw, field_name), eid, key, value=raw[field_name],
                    allowed=", ".join(sorted(allowed)))
    if raw.get("status") is not None and raw["status"] != DRAFT:
        out.add(path, line_of(raw, "status"), eid, "bad_status", value=raw["status"], allowed=DRAFT)
    if raw.get("parcours") and raw["parcours"] not in ctx["parcours"]:
        out.add(path, line_of(raw, "parcours"), eid, "unknown_parcours", value=raw["parcours"],
                allowed=", ".join(sorted(ctx["parcours"])))
    answer = str(raw["answer"]).strip()
    if len(answer) > MAX_ANSWER_CHARS:
        out.add(path, line_of(raw, "answer"), eid, "too_long", length=len(answer), limit=MAX_ANSWER_CHARS)
    short = _short(raw, answer, path, eid, out)
    refs = _sources(raw, path, eid, ctx, out)
    reviewed, expires = _dates(raw, path, eid, out, today)
    questions, keywords = raw.get("questions") or (), raw.get("keywords") or ()
    if not isinstance(questions, (list, tuple)):
        out.add(path, line_of(raw, "questions"), eid, "not_list", name="questions")
        questions = ()
    if not isinstance(keywords, (list, tuple)):
        out.add(path, line_of(raw, "keywords"), eid, "not_list", name="keywords")
        keywords = ()
    if empty:
        return None
    return Entry(id=eid, formation=raw["formation"], topic=raw["topic"], title=str(raw["title"]).strip(),
                 answer=answer, sources=tuple(refs),
                 questions=tuple(str(q).strip() for q in questions if str(q).strip()),
                 keywords=tuple(str(k).strip() for k in keywords if str(k).strip()),
                 parcours=raw.get("parcours") or None, file=str(path), line=line,
                 reviewed=reviewed, expires=expires, short=short)


def _short(raw: dict, answer: str, path: Path, eid: str, out: Collector) -> str:
    """The entry's short answer: required for an answer longer than MAX_SHORT_CHARS, at most
    that long, and able to stand alone (not a heading such as "Voici les conditions :")."""
    short = " ".join(str(raw.get("short") or "").split())
    where = line_of(raw, "short")
    if not short:
        if len(answer) > MAX_SHORT_CHARS:
            out.add(path, where, eid, "missing_short", length=len(answer), limit=MAX_SHORT_CHARS)
        return ""
    if len(short) > MAX_SHORT_CHARS:
        out.add(path, where, eid, "short_too_long", length=len(short), limit=MAX_SHORT_CHARS)
    if short.rstrip().endswith(":") or len(short.split()) < 4:
        out.add(path, where, eid, "short_not_alone", value=short)
    return short


def _sources(raw: dict, path: Path, eid: str, ctx: dict, out: Collector) -> list[SourceRef]:
    refs = []
    items = raw["sources"] if isinstance(raw["sources"], list) else []
    lines = (raw.get("__items__") or {}).get("sources") or []
    known = ctx["sources"]
    allowed = ", ".join(sorted(known))
    for i, s in enumerate(items):
        ln = lines[i] if i < len(lines) else line_of(raw, "sources")
        doc = str(s.get("doc") if isinstance(s, dict) else s)
        doc = ctx["source_aliases"].get(fold(doc), doc)
        author = str(s.get("author") or "").strip() if isinstance(s, dict) else ""
        if doc not in known:
            out.add(path, ln, eid, "unknown_source", value=doc, allowed=allowed)
        elif known[doc].kind == "service" and not author:
            out.add(path, ln, eid, "missing_author", value=known[doc].title)
        refs.append(SourceRef(doc, str(s.get("section") or "") if isinstance(s, dict) else "", author))
    if not refs:
        out.add(path, line_of(raw, "sources"), eid, "no_sources")
    return refs


def _dates(raw: dict, path: Path, eid: str, out: Collector, today: date):
    # Checked after the other fields: a missing date must not hide the entry's other problems.
    reviewed = _date(raw["reviewed"]) if raw.get("reviewed") is not None else None
    if raw.get("reviewed") is None:
        out.add(path, line_of(raw, "reviewed"), eid, "missing_reviewed", today=today.isoformat())
    elif reviewed is None:
        out.add(path, line_of(raw, "reviewed"), eid, "bad_date", field="reviewed", value=raw["reviewed"])
    elif reviewed > today:
        # A warning only: a time zone or a wrong server clock must not take the base down.
        out.add(path, line_of(raw, "reviewed"), eid, "future_review", WARNING, value=reviewed.isoformat(),
                today=today.isoformat())
    elif today - reviewed > REVIEW_MAX_AGE:
        out.add(path, line_of(raw, "reviewed"), eid, "stale", WARNING, value=reviewed.isoformat())
    expires = None
    if raw.get("expires") is not None:
        expires = _date(raw["expires"])
        if expires is None:
            out.add(path, line_of(raw, "expires"), eid, "bad_date", field="expires", value=raw["expires"])
        elif expires < today:
            out.add(path, line_of(raw, "expires"), eid, "expired", EXPIRED, value=expires.isoformat())
    return reviewed, expires


def cross_checks(entries: list[Entry], question_lines: dict, out: Collector) -> None:
    """Problems between entries: the same id twice, the same question in two entries."""
    ids: dict[str, Entry] = {}
    questions: dict[str, Entry] = {}
    for e in entries:
        if e.id in ids:
            out.add(Path(e.file), e.line, e.id, "duplicate_id", value=e.id,
                    other=f"{Path(ids[e.id].file).name}:{ids[e.id].line}")
        ids.setdefault(e.id, e)
        lines = question_lines.get((e.file, e.line)) or []
        for i, q in enumerate(e.questions):
            key = fold(q).rstrip(" ?!.")
            other = questions.get(key)
            if other is not None and other.id != e.id:
                out.add(Path(e.file), lines[i] if i < len(lines) else e.line, e.id, "duplicate_question",
                        value=q, other=other.id)
            questions.setdefault(key, e)


# Suggested questions the website widget offers before the first message (knowledge/suggestions.yml).
MIN_SUGGESTIONS, MAX_SUGGESTIONS, MAX_SUGGESTION_CHARS = 3, 5, 120


def check_suggestions(doc: Any, path: Path, out: Collector) -> list[str]:
    """The valid suggested questions of `doc` (the file's content), every problem reported:
    3 to 5 distinct, non-empty texts of at most 120 characters (the widget shows them as buttons)."""
    items = doc.get("suggestions") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        out.add(path, 1, "", "not_list", name="suggestions")
        return []
    lines = (doc.get("__items__") or {}).get("suggestions") or []
    good: list[str] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(items, start=1):
        line = lines[n - 1] if n <= len(lines) else line_of(doc, "suggestions")
        if isinstance(item, (dict, list)):  # e.g. an unquoted « : » turned the line into a mapping
            out.add(path, line, "", "suggestion_not_text", n=n)
            continue
        text = " ".join(str(item).split()) if item is not None else ""
        if not text:
            out.add(path, line, "", "suggestion_empty", n=n)
        elif len(text) > MAX_SUGGESTION_CHARS:
            out.add(path, line, "", "suggestion_too_long", value=text, length=len(text), limit=MAX_SUGGESTION_CHARS)
        elif fold(text).rstrip(" ?!.") in seen:
            out.add(path, line, "", "suggestion_duplicate", value=text, other=seen[fold(text).rstrip(" ?!.")])
        else:
            seen[fold(text).rstrip(" ?!.")] = n
            good.append(text)
    if not MIN_SUGGESTIONS <= len(items) <= MAX_SUGGESTIONS:
        out.add(path, line_of(doc, "suggestions"), "", "suggestion_count", count=len(items),
                min=MIN_SUGGESTIONS, max=MAX_SUGGESTIONS)
    return good
