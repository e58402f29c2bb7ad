"""Console section "dashboard" (`/tableau-de-bord/`): the assistant's key figures at a glance.

Over a period of 7, 30 or 90 days (`?days=`, 30 by default), today included: questions per
day (a bar chart drawn as inline SVG on the server, its numbers in a table too), the shares
answered from the knowledge base, declined as off-topic and left unanswered, and the share of
ratings found useful; at the time of viewing, the contact requests still to deal with and the
entries due for review, each linked to the section where staff act on them.

The figures are computed by bot/admin/dashboard_figures.py from the conversations' database
(settings().tracker_url: Rasa's `events`, the visitors' ratings and contact requests) and the
knowledge folder. A database that cannot be read leaves the other figures on the page.
"""
from __future__ import annotations

import time
from datetime import date
from typing import Optional

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request, url_for

from bot.admin import dashboard_figures as figures_of
from bot.admin.app import settings
from bot.admin.entries_support import status_of
from bot.admin.knowledge_files import list_entries
from bot.admin.visitors import feedback_store
from bot.feedback_store import STATUS_IN_PROGRESS, STATUS_NEW
from bot.kb.messages import CONSOLE

bp = Blueprint("dashboard", __name__, url_prefix="/tableau-de-bord")

REVIEW_STATUS = "revue_due"  # the entries section's status filter for "not reviewed for 12 months"


def _link(endpoint: str, **values) -> Optional[str]:
    """The URL of another section's page, or None when that section is not installed."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def _day(d: date, key: str = "dashboard_date_format") -> str:
    return d.strftime(CONSOLE[key])


def _decimal(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def due_for_review() -> int:
    """Entries not reviewed for 12 months (drafts and expired entries aside), as listed by the
    entries section's "revue due" filter."""
    return sum(1 for e in list_entries(settings().knowledge_dir) if status_of(e.data) == REVIEW_STATUS)


@bp.route("/")
def index():
    s = settings()
    days = figures_of.period_days(request.args.get("days"))
    now = time.time()
    first = figures_of.period_start(days, now)
    store_error = feedback_error = None
    turns: list = []
    try:
        turns = figures_of.turns_from_events(figures_of.read_events(s.tracker_url, figures_of.midnight(first)))
    except sa.exc.SQLAlchemyError as exc:
        store_error = CONSOLE["dashboard_store_error"].format(error=exc.__class__.__name__)
    ratings, contacts = [], []
    try:
        store = feedback_store()
        ratings, contacts = store.ratings(), store.contacts()
    except sa.exc.SQLAlchemyError as exc:
        feedback_error = CONSOLE["dashboard_feedback_error"].format(error=exc.__class__.__name__)
    figures = figures_of.figures(turns, ratings, days, now)
    open_ = figures_of.open_contacts(contacts)
    chart = figures_of.bar_chart(figures.days)
    start, end = _day(figures.days[0][0]), _day(figures.days[-1][0])
    return render_template(
        "dashboard_index.html", days=days, periods=figures_of.PERIODS, f=figures, chart=chart,
        start=start, end=end, per_day=_decimal(figures.per_day), store_error=store_error,
        feedback_error=feedback_error, open_total=sum(open_.values()), open_new=open_[STATUS_NEW],
        open_progress=open_[STATUS_IN_PROGRESS], review_due=due_for_review(), day=_day,
        links={"unanswered": _link("unanswered.index", days=days),
               "ratings": _link("visitors.index", _anchor="avis"),
               "contacts": _link("visitors.index", _anchor="demandes"),
               "review": _link("entries.index", status=REVIEW_STATUS)}), 503 if store_error else 200
