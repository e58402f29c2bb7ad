"""The tracker store seen by staff: unanswered questions (`gaps`) and deletion (`purge`).

Reads Rasa's SQL tracker store (table `events`, one JSON event per row; any SQLAlchemy URL:
SQLite by default, PostgreSQL in production). A message is "unanswered" when the assistant's
reply to it was "I don't have this information" (utter_no_info), "I did not find / did not
understand" (utter_dont_know, utter_default, the default fallback), "did you mean…" buttons
nobody clicked, a "which formation?" question the visitor never answered, or a refusal as
off-topic (often a subject such as the canteen that an entry could cover). Similar messages
are grouped (TF-IDF over character n-grams of the folded text, greedy single pass), so staff
see "12 x where do I park" once, with its last date, and can write the missing entry.
"""
from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
import sqlalchemy as sa

from bot.kb.messages import STAFF
from bot.text import content_tokens, fold, tokens

NO_INFO = {"utter_no_info", "utter_no_info_any"}
DECLINE = {"utter_out_of_scope"}
FALLBACK = {"utter_dont_know", "utter_default", "action_default_fallback"}
SUGGEST, CLARIFY = "utter_did_you_mean", "utter_ask_formation"
GROUP_SIMILARITY = 0.5  # cosine of char n-gram TF-IDF above which two messages are one question
MAX_VARIANTS = 3
SIMILARITY_CELLS = 2_000_000  # similarities computed at once (16 MB): a block of messages x the earlier ones


@dataclass
class LoggedTurn:
    sender: str
    text: str
    time: float
    intent: Optional[str]
    entities: list[str]
    replies: list[str] = field(default_factory=list)


@dataclass
class Group:
    reasons: list[str]
    texts: list[str]
    last: float

    @property
    def reason(self) -> str:
        """The most frequent way these messages ended."""
        return max(self.reasons, key=self.reasons.count)

    @property
    def count(self) -> int:
        return len(self.texts)

    def example(self) -> str:
        counts: dict[str, int] = {}
        for t in self.texts:
            counts[t] = counts.get(t, 0) + 1
        return max(counts, key=lambda t: (counts[t], -self.texts.index(t)))

    def variants(self) -> list[str]:
        seen, out = {fold(self.example())}, []
        for t in self.texts:
            if fold(t) not in seen:
                seen.add(fold(t))
                out.append(t)
        return out[:MAX_VARIANTS]


class StoreError(Exception):
    """The tracker store cannot be opened; str() is the French message for staff."""


def _engine(url: str) -> Optional[sa.engine.Engine]:
    """An engine on the store, or None when it holds no conversation yet (no events table).

    A missing SQLite file is not created: reading must not leave an empty database behind.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        return None
    engine = sa.create_engine(url)
    try:
        if sa.inspect(engine).has_table("events"):
            return engine
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(STAFF["store_error"].format(store=_safe_url(url), error=exc.__class__.__name__)) from exc
    engine.dispose()
    return None


def read_turns(url: str, since: Optional[float] = None) -> list[LoggedTurn]:
    """Every user message with the names of the responses and actions that followed it."""
    engine = _engine(url)
    if engine is None:
        return []
    query = "SELECT sender_id, type_name, timestamp, action_name, data FROM events"
    params = {}
    if since is not None:
        query += " WHERE timestamp >= :since"
        params["since"] = since
    turns: list[LoggedTurn] = []
    current: dict[str, LoggedTurn] = {}
    with engine.connect() as db:
        for sender, kind, ts, action, data in db.execute(sa.text(query + " ORDER BY id"), params):
            if kind == "user":
                ev = json.loads(data or "{}")
                parse = ev.get("parse_data") or {}
                turn = LoggedTurn(sender, ev.get("text") or "", ts or 0.0, (parse.get("intent") or {}).get("name"),
                            [str(e.get("entity")) for e in parse.get("entities") or []])
                turns.append(turn)
                current[sender] = turn
            elif sender in current and kind == "action" and action:
                current[sender].replies.append(action)
            elif sender in current and kind == "bot":
                utter = (json.loads(data or "{}").get("metadata") or {}).get("utter_action")
                if utter:
                    current[sender].replies.append(utter)
    engine.dispose()
    return turns


def unanswered(turns: list[LoggedTurn]) -> list[tuple[str, LoggedTurn]]:
    """(reason, turn) for each message the assistant could not answer."""
    out = []
    by_sender: dict[str, list[LoggedTurn]] = {}
    for t in turns:
        by_sender.setdefault(t.sender, []).append(t)
    for conv in by_sender.values():
        for i, t in enumerate(conv):
            nxt = conv[i + 1] if i + 1 < len(conv) else None
            if t.text.startswith("/"):  # a button payload, not words typed by a visitor
                continue
            replies = set(t.replies)
            if replies & NO_INFO:
                out.append(("no_info", t))
            elif replies & FALLBACK or (SUGGEST in replies and not (nxt and nxt.intent == "choose_entry")):
                out.append(("fallback", t))
            elif CLARIFY in replies and not (nxt and ("formation" in nxt.entities
                                                      or nxt.intent == "inform_formation")):
                if not (i and CLARIFY in conv[i - 1].replies):  # "tant pis" after it is no question
                    out.append(("clarify", t))
            elif replies & DECLINE:  # refused as off-topic: often a subject the FAQ could cover
                if not (i and CLARIFY in conv[i - 1].replies):  # "bon tant pis" after it is no question
                    out.append(("decline", t))
    return out


def formation_words(knowledge_dir: Path) -> set[str]:
    """Words of the formations' and parcours' names: they say nothing about what was asked."""
    from bot.kb.loader import KnowledgeError, load_knowledge_base
    try:
        kb = load_knowledge_base(knowledge_dir)
    except KnowledgeError:
        return set()
    names = [n for f in kb.formations.values() for n in (*f.aliases, f.short)]
    names += [n for p in kb.parcours.values() for n in p.aliases]
    return {w for n in names for w in tokens(n)}


def _key(text: str, ignore: frozenset[str]) -> str:
    """What a message is about: its content words without the formation names."""
    words = [w for w in content_tokens(text) if w not in ignore]
    return " ".join(words) or fold(text)


def group(items: list[tuple[str, LoggedTurn]], ignore: Iterable[str] = ()) -> list[Group]:
    """Greedy grouping: each message joins the group whose first message is the most similar,
    if similar enough, else starts a new one (the same subject may end in different ways)."""
    if not items:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    ignore = frozenset(ignore)
    texts = [_key(t.text, ignore) for _, t in items]
    matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)
    groups: list[Group] = []
    heads: list[int] = []
    group_of_text: dict[str, int] = {}  # a head's text -> its group (the same words: similarity 1)
    size = max(1, min(256, SIMILARITY_CELLS // len(items)))
    block, start = None, 0
    for i, (reason, turn) in enumerate(items):
        if i % size == 0:  # cosines of the next messages with the earlier ones, in one product
            start = i
            block = (matrix[i:i + size] @ matrix[:i + size].T).toarray()
        sims = block[i - start, heads]
        if texts[i] in group_of_text:
            sims[group_of_text[texts[i]]] = 1.0
        # the most similar group if similar enough; on a tie, the latest one
        best = len(heads) - 1 - int(np.argmax(sims[::-1])) if len(heads) else None
        if best is None or sims[best] < GROUP_SIMILARITY:
            group_of_text.setdefault(texts[i], len(heads))
            heads.append(i)
            groups.append(Group([reason], [turn.text], turn.time))
        else:
            groups[best].reasons.append(reason)
            groups[best].texts.append(turn.text)
            groups[best].last = max(groups[best].last, turn.time)
    return sorted(groups, key=lambda g: (-g.count, -g.last))


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def rows(groups: Iterable[Group]) -> list[list[str]]:
    return [[str(g.count), _day(g.last), ", ".join(STAFF[f"reason_{r}"] for r in sorted(
                 set(g.reasons), key=lambda r: -g.reasons.count(r))), g.example(), " | ".join(g.variants())]
            for g in groups]


def gaps(url: str, out_csv: Path, days: int = 0, ignore: Iterable[str] = ()) -> int:
    since = time.time() - days * 86400 if days else None
    turns = read_turns(url, since)
    items = unanswered(turns)
    groups = group(items, ignore)
    store = _safe_url(url)
    if not groups:
        print(STAFF["gaps_none"].format(store=store))
    else:
        print(STAFF["gaps_title"].format(groups=len(groups), messages=len(items),
                                         conversations=len({t.sender for _, t in items})))
        _print_table([STAFF["gaps_header"][:4]] + [r[:4] for r in rows(groups)])
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    # utf-8 with BOM and ";" so that a French spreadsheet opens it with accents and columns right.
    with open(out_csv, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(STAFF["gaps_header"])
        writer.writerows(rows(groups))
    print(STAFF["gaps_written"].format(path=out_csv))
    return 0


def _print_table(table: list[list[str]], width: int = 70) -> None:
    table = [[c if len(c) <= width else c[:width - 1] + "…" for c in row] for row in table]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for n, row in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def purge(url: str, days: int) -> int:
    """Delete every event older than `days` days; whole conversations when nothing newer remains.

    The website widget's ratings and contact requests (bot/feedback_store.py, same database)
    older than the same cutoff go too: they quote the conversations, so they must not outlive them.
    """
    store = _safe_url(url)
    engine = _engine(url)
    if engine is None:
        print(STAFF["store_missing"].format(store=store))
        return 0
    cutoff = time.time() - days * 86400
    with engine.begin() as db:
        stats = db.execute(sa.text(
            "SELECT sender_id, MIN(timestamp), MAX(timestamp) FROM events GROUP BY sender_id")).all()
        whole = sum(1 for _, lo, hi in stats if hi is not None and hi < cutoff)
        partial = sum(1 for _, lo, hi in stats if lo is not None and lo < cutoff <= (hi or 0))
        deleted = db.execute(sa.text("DELETE FROM events WHERE timestamp < :cutoff"), {"cutoff": cutoff}).rowcount
    engine.dispose()
    if not deleted:
        print(STAFF["purge_nothing"].format(days=days, store=store))
    else:
        print(STAFF["purge_done"].format(days=days, store=store, events=deleted, conversations=whole,
                                         partial=partial))
    _purge_feedback(url, cutoff, days, store)
    return 0


def _purge_feedback(url: str, cutoff: float, days: int, store: str) -> None:
    from bot.feedback_store import FeedbackStore

    feedback = FeedbackStore(url)
    try:
        purged = feedback.purge(cutoff)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(STAFF["store_error"].format(store=store, error=exc.__class__.__name__)) from exc
    finally:
        feedback.close()
    if purged.ratings or purged.contacts:
        print(STAFF["purge_feedback_done"].format(days=days, store=store, ratings=purged.ratings,
                                                  contacts=purged.contacts))


def _safe_url(url: str) -> str:
    """The store's URL without its password, fit to print."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - any unparsable URL: show nothing of it rather than fail
        return "?"
