"""Console section "visitors": what visitors thought of the answers, and their contact requests.

- Ratings per knowledge entry, the worst first (share of "pas utile", then how many): useful
  and not-useful counts, the reasons given, and the latest questions whose answer was found not
  useful, so staff see which entry to rewrite and why.
- Contact requests as an inbox, the newest first, filtered by status. The e-mail address is
  shown (staff answer by e-mail); the conversation is there only when the visitor agreed to
  send it. Any account may set a request's status: "nouvelle", "en cours" (someone is dealing
  with it) or "traitée" (answered), in any order (reopen, put back in progress).

Both are read with bot/feedback_store.py from the conversations' database (settings().tracker_url).
Entry titles come from the knowledge folder, re-read only when its files change.
"""
from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Optional

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from bot.admin.app import settings
from bot.feedback_store import (
    CONTACT_STATUSES,
    REASONS,
    STATUS_DONE,
    STATUS_IN_PROGRESS,
    STATUS_NEW,
    FeedbackStore,
    Rating,
)
from bot.kb.messages import CONSOLE

bp = Blueprint("visitors", __name__, url_prefix="/visitors")

PAGE_SIZE = 20           # contact requests per page
LATEST_QUESTIONS = 3     # questions found "pas utile" shown per entry
# Status code stored in the database -> key of its French label in CONSOLE.
STATUS_LABELS = {STATUS_NEW: "visitors_status_new", STATUS_IN_PROGRESS: "visitors_status_progress",
                 STATUS_DONE: "visitors_status_done"}
FILTER_LABELS = {"": "visitors_filter_all", STATUS_NEW: "visitors_filter_new",
                 STATUS_IN_PROGRESS: "visitors_filter_progress", STATUS_DONE: "visitors_filter_done"}
# Status to set -> (key of its button's label, key of the message once set), in CONTACT_STATUSES order.
STATUS_ACTIONS = {STATUS_NEW: ("visitors_reopen", "visitors_marked_new"),
                  STATUS_IN_PROGRESS: ("visitors_mark_progress", "visitors_marked_progress"),
                  STATUS_DONE: ("visitors_mark_done", "visitors_marked_done")}
# CSS class of a request's card by status (the border colour), besides its written status.
STATUS_CLASSES = {STATUS_NEW: "is-new", STATUS_IN_PROGRESS: "is-progress"}

_lock = threading.Lock()
# Knowledge folder -> (snapshot of its files, {entry id: title}) of the last valid read.
_titles_cache: dict[str, tuple[tuple, dict[str, str]]] = {}


@dataclass
class EntryRatings:
    """The ratings of one entry's answers."""

    kb_id: str
    title: Optional[str] = None  # None: not in the current knowledge base (removed or expired)
    useful: int = 0
    not_useful: int = 0
    reasons: Counter = field(default_factory=Counter)
    latest: list[Rating] = field(default_factory=list)  # "pas utile" with a question, newest first

    @property
    def total(self) -> int:
        return self.useful + self.not_useful

    @property
    def share_not_useful(self) -> float:
        return self.not_useful / self.total if self.total else 0.0

    @property
    def percent_not_useful(self) -> int:
        return round(100 * self.share_not_useful)

    def reason_counts(self) -> list[tuple[str, int]]:
        """(reason, count) in the order of REASONS, then "none" for ratings without a reason."""
        return [(r, self.reasons[r]) for r in (*REASONS, "none") if self.reasons[r]]


def feedback_store() -> FeedbackStore:
    """The application's FeedbackStore (one engine for all requests), made at first use."""
    store = current_app.extensions.get("feedback_store")
    if store is None:
        with _lock:
            store = current_app.extensions.setdefault("feedback_store", FeedbackStore(settings().tracker_url))
    return store


def entry_titles(root: Path) -> Optional[dict[str, str]]:
    """{entry id: title} of the knowledge base in `root`, re-read when a file changes; after a
    broken edit, the last valid titles (None if there never were any)."""
    from bot.kb.loader import load_knowledge_base
    from bot.kb.store import snapshot

    state = snapshot(root)
    with _lock:
        cached = _titles_cache.get(str(root))
        if cached and cached[0] == state:
            return cached[1]
        try:
            kb = load_knowledge_base(root)
        except Exception:  # noqa: BLE001 - a broken edit must not take this page down
            return cached[1] if cached else None
        titles = {e.id: e.title for e in kb.entries}
        _titles_cache[str(root)] = (state, titles)
        return titles


def ratings_by_entry(ratings: list[Rating], titles: dict[str, str]) -> list[EntryRatings]:
    """One EntryRatings per rated entry, the worst first: share of "pas utile", then their
    number, then the number of ratings."""
    by_id: dict[str, EntryRatings] = {}
    for r in sorted(ratings, key=lambda r: r.timestamp, reverse=True):
        e = by_id.setdefault(r.kb_id, EntryRatings(r.kb_id, titles.get(r.kb_id)))
        if r.useful:
            e.useful += 1
            continue
        e.not_useful += 1
        e.reasons[r.reason or "none"] += 1
        if r.question and len(e.latest) < LATEST_QUESTIONS:
            e.latest.append(r)
    return sorted(by_id.values(), key=lambda e: (-e.share_not_useful, -e.not_useful, -e.total, e.kb_id))


def when(timestamp: Optional[float]) -> dict[str, str]:
    """A UNIX time as shown ("12/03/2026 à 14:05", server's local time) and as ISO 8601."""
    if timestamp is None:
        return {"text": "", "iso": ""}
    moment = datetime.fromtimestamp(timestamp).astimezone()
    return {"text": moment.strftime(CONSOLE["visitors_date_format"]), "iso": moment.isoformat(timespec="minutes")}


def _status_filter(value: Optional[str]) -> str:
    return value if value in CONTACT_STATUSES else ""


def _page_number(value: Optional[str]) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


@bp.route("/")
def index():
    store = feedback_store()
    titles = entry_titles(settings().knowledge_dir)
    ratings = store.ratings()
    entries = ratings_by_entry(ratings, titles or {})

    status = _status_filter(request.args.get("statut"))
    contacts = store.contacts()[::-1]  # newest first
    counts = Counter(c.status for c in contacts)
    counts[""] = len(contacts)
    shown = [c for c in contacts if not status or c.status == status]
    pages = max(1, math.ceil(len(shown) / PAGE_SIZE))
    page = min(_page_number(request.args.get("page")), pages)
    return render_template(
        "visitors_index.html", entries=entries, titles_missing=titles is None,
        rated=len(ratings), rated_useful=sum(r.useful for r in ratings),
        entry_link="entries.entry" in current_app.view_functions,
        contacts=shown[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], status=status, counts=counts,
        page=page, pages=pages, filters=FILTER_LABELS, status_labels=STATUS_LABELS,
        status_actions=STATUS_ACTIONS, status_classes=STATUS_CLASSES, STATUS_DONE=STATUS_DONE, when=when)


@bp.route("/demandes/<reference>/statut", methods=["POST"])
def contact_status(reference: str):
    """Set a contact request's status ("nouvelle", "en cours", "traitée"); back to the inbox."""
    status = request.form.get("status", "")
    if status not in CONTACT_STATUSES:
        return render_template("error.html", message=CONSOLE["visitors_bad_status_three"]), 400
    if not feedback_store().set_contact_status(reference, status):
        abort(404)
    flash(CONSOLE[STATUS_ACTIONS[status][1]].format(reference=reference))
    back = _status_filter(request.form.get("statut"))
    return redirect(url_for(".index", statut=back or None, _anchor="demandes"))
