"""The figures of the console's dashboard, computed from plain data (no Flask).

- Questions: the messages typed by visitors in Rasa's `events` table (`read_events` then
  `turns_from_events`, the same reading as bot/conversations.py's `read_turns`). A click on a
  button the assistant offered ("did you mean…", the formation's choice: a "/intent{…}"
  payload, or the formation typed in reply to "which formation?") is no new question: what it
  brings is credited to the question before it in the same conversation.
- Each question counts in at most one share, in this order: answered from the knowledge base
  (a reply carries a `kb_id`, the contract of bot/replies.py), declined (refused as off-topic),
  not answered (the other reasons of bot/conversations.py's `unanswered`). The rest (greetings,
  thanks, profile…) is in none.
- Ratings: those given in the period, and the share found useful.
- Contact requests still open (any status but "traitée"), whatever the period.
- `bar_chart`: the geometry of the questions-per-day chart, drawn as inline SVG by the page.

A period is made of whole days of the server's local time, today included.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Optional

import sqlalchemy as sa

from bot.conversations import CLARIFY, LoggedTurn, unanswered
from bot.feedback_store import STATUS_DONE, ContactRequest, Rating

PERIODS = (7, 30, 90)  # the period filter's choices, in days
DEFAULT_PERIOD = 30
EVENT_KINDS = ("user", "bot", "action")


@dataclass
class Turn(LoggedTurn):
    """A visitor's message, its replies, and the knowledge entry given in reply, if any."""

    kb_id: Optional[str] = None


@dataclass
class Figures:
    days: list[tuple[date, int]] = field(default_factory=list)  # (day, questions), oldest first
    questions: int = 0
    from_kb: int = 0
    declined: int = 0
    not_answered: int = 0
    ratings: int = 0
    useful: int = 0

    @property
    def per_day(self) -> float:
        return self.questions / len(self.days) if self.days else 0.0

    @property
    def busiest(self) -> int:
        return max((n for _, n in self.days), default=0)

    def share(self, name: str) -> Optional[int]:
        """A share of the questions (from_kb, declined, not_answered) or of the ratings (useful),
        as a rounded percentage; None when there is nothing to divide."""
        whole = self.ratings if name == "useful" else self.questions
        return percent(getattr(self, name), whole)


def percent(part: int, whole: int) -> Optional[int]:
    """A rounded percentage, halves up (12.5 -> 13, not Python's 12); None out of nothing."""
    return math.floor(100 * part / whole + 0.5) if whole else None


# --- the period --------------------------------------------------------------------------------
def period_days(value: Any) -> int:
    """The period asked for, if it is one of PERIODS, else the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def period_start(days: int, now: float) -> date:
    """The first day of a period of `days` days ending today (local time)."""
    return date.fromtimestamp(now) - timedelta(days=days - 1)


def midnight(day: date) -> float:
    """The UNIX time at which `day` starts (local time)."""
    return datetime.combine(day, datetime.min.time()).timestamp()


# --- reading the conversations -------------------------------------------------------------------
def read_events(url: str, since: float) -> list[tuple]:
    """(sender_id, type_name, timestamp, action_name, data) of the user, bot and action events
    from `since` on, in their order; [] when there is no conversation yet. A missing SQLite file
    is not created. Raises SQLAlchemyError when the database cannot be read."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        return []
    engine = sa.create_engine(url)
    try:
        if not sa.inspect(engine).has_table("events"):
            return []
        query = sa.text("SELECT sender_id, type_name, timestamp, action_name, data FROM events "
                        "WHERE timestamp >= :since AND type_name IN :kinds ORDER BY id"
                        ).bindparams(sa.bindparam("kinds", expanding=True))
        with engine.connect() as db:
            return [tuple(r) for r in db.execute(query, {"since": since, "kinds": list(EVENT_KINDS)})]
    finally:
        engine.dispose()


def kb_id_in(value: Any) -> Optional[str]:
    """The first non-empty `kb_id` key found in a bot event's JSON (its `custom` payload)."""
    if isinstance(value, dict):
        found = value.get("kb_id")
        if isinstance(found, str) and found:
            return found
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = kb_id_in(item)
            if found:
                return found
    return None


def _json(text: Optional[str]) -> dict:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def turns_from_events(rows: Iterable[tuple]) -> list[Turn]:
    """Every user message with the names of the replies and actions that followed it, and the
    first knowledge entry given in reply."""
    turns: list[Turn] = []
    current: dict[str, Turn] = {}
    for sender, kind, ts, action, data in rows:
        if kind == "user":
            ev = _json(data)
            parse = ev.get("parse_data") or {}
            turn = Turn(sender, ev.get("text") or "", ts or 0.0, (parse.get("intent") or {}).get("name"),
                        [str(e.get("entity")) for e in parse.get("entities") or [] if isinstance(e, dict)])
            turns.append(turn)
            current[sender] = turn
        elif sender in current and kind == "action" and action:
            current[sender].replies.append(action)
        elif sender in current and kind == "bot":
            ev = _json(data)
            turn = current[sender]
            utter = (ev.get("metadata") or {}).get("utter_action")
            if utter:
                turn.replies.append(utter)
            turn.kb_id = turn.kb_id or kb_id_in(ev)
    return turns


def is_follow_up(turn: Turn, previous: Optional[Turn]) -> bool:
    """A button clicked, or the formation given when the assistant asked for it: no new question."""
    if turn.text.startswith("/"):
        return True
    return previous is not None and CLARIFY in previous.replies and turn.intent == "inform_formation"


def questions(turns: list[Turn]) -> list[Turn]:
    """The visitors' questions, each credited with the entry given after a follow-up click."""
    out: list[Turn] = []
    asked: dict[str, Turn] = {}      # conversation -> its latest question
    previous: dict[str, Turn] = {}   # conversation -> its latest message
    for t in turns:
        if is_follow_up(t, previous.get(t.sender)):
            q = asked.get(t.sender)
            if q is not None and not q.kb_id:
                q.kb_id = t.kb_id
        elif t.text.strip():
            out.append(t)
            asked[t.sender] = t
        previous[t.sender] = t
    return out


# --- the figures ------------------------------------------------------------------------------
def figures(turns: list[Turn], ratings: list[Rating], days: int, now: float) -> Figures:
    """The period's figures: `turns` from `turns_from_events` (events of the period or more)."""
    first = period_start(days, now)
    since = midnight(first)
    reasons = {id(t): reason for reason, t in unanswered(turns)}
    asked = [q for q in questions(turns) if q.time >= since]
    per_day = Counter(date.fromtimestamp(q.time) for q in asked)
    out = Figures(days=[(first + timedelta(days=i), per_day[first + timedelta(days=i)]) for i in range(days)],
                  questions=len(asked))
    for q in asked:
        if q.kb_id:
            out.from_kb += 1
        elif reasons.get(id(q)) == "decline":
            out.declined += 1
        elif id(q) in reasons:
            out.not_answered += 1
    rated = [r for r in ratings if r.timestamp >= since]
    out.ratings, out.useful = len(rated), sum(1 for r in rated if r.useful)
    return out


def open_contacts(contacts: list[ContactRequest]) -> Counter:
    """Contact requests not yet "traitée", by status."""
    return Counter(c.status for c in contacts if c.status != STATUS_DONE)


# --- the chart ---------------------------------------------------------------------------------
@dataclass
class Bar:
    day: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Chart:
    width: int
    height: int
    left: int        # x of the vertical axis
    base: float      # y of the horizontal axis
    top: int         # the value at the top of the vertical axis
    bars: list[Bar]
    ticks: list[tuple[int, float]]       # (value, y) along the vertical axis
    labels: list[tuple[date, float]]     # (day, x of its middle) under the horizontal axis


def nice_top(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at least `value` (1 for an empty chart)."""
    if value <= 1:
        return 1
    scale = 10 ** math.floor(math.log10(value))
    return next(m * scale for m in (1, 2, 5, 10) if m * scale >= value)


def bar_chart(days: list[tuple[date, int]], width: int = 720, height: int = 240, left: int = 44,
              bottom: int = 28, top_margin: int = 12, right: int = 8) -> Chart:
    """Bars of the questions per day, scaled to a `width` x `height` drawing (SVG units)."""
    base = height - bottom
    plot_h = base - top_margin
    top = nice_top(max((n for _, n in days), default=0))
    slot = (width - left - right) / max(1, len(days))
    gap = min(4.0, slot * 0.2)
    bars = []
    for i, (day, count) in enumerate(days):
        h = round(plot_h * count / top, 2)
        bars.append(Bar(day, count, round(left + i * slot + gap / 2, 2), round(base - h, 2),
                        round(slot - gap, 2), h))
    values = [0, top] if top % 2 else [0, top // 2, top]
    ticks = [(v, round(base - plot_h * v / top, 2)) for v in values]
    picked = sorted({0, len(days) // 2, len(days) - 1}) if days else []
    labels = [(days[i][0], round(left + (i + 0.5) * slot, 2)) for i in picked]
    return Chart(width, height, left, base, top, bars, ticks, labels)
