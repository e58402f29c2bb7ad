"""Console section "unanswered": the questions the assistant could not answer, and what to do.

- `index`: the groups of `make gaps` (bot.conversations), most frequent first, without the
  groups staff chose to ignore, over a period. Each group offers three actions: add its typical
  question to an entry (answered from the next live reload, no retraining), create a draft
  entry from it, or ignore it.
- `preview` (`/unanswered/apercu`): what the running assistant would answer to a question, and
  why: the same pipeline as `make faq-try` (bot.faq.try_question).

A group is ignored by a stable key (`group_key`, the folded text of a question); a group is
hidden when any of its messages has an ignored key, so it stays hidden whatever the period
shown or the wording that became the most frequent.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Optional

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from bot.admin.app import console_store, settings
from bot.admin.knowledge_files import InvalidEntry, create_entry, list_entries, question_key
from bot.admin.knowledge_files import add_question as add_to_entry
from bot.conversations import StoreError, formation_words, group, read_turns, rows, unanswered
from bot.faq import TryError, try_question
from bot.kb.loader import CheckReport, check_knowledge
from bot.kb.messages import CONSOLE
from bot.kb.model import GENERAL, Entry, KnowledgeBase
from bot.kb.store import snapshot
from bot.mentions import MentionFinder, strip_names
from bot.text import content_tokens, fold, tokens

bp = Blueprint("unanswered", __name__, url_prefix="/unanswered")

PERIODS = (7, 30, 90)   # the period filter's choices, in days; 0 (the default) is "all"
PAGE_SIZE = 20          # groups per page: each one carries a list of every entry
KEY_CHARS = 255         # admin_ignored.key
MAX_QUESTION = 500      # characters of a question staff may add or try
NEAREST_MIN = 0.18      # word similarity from which the nearest entry is pre-selected (as search suggests)


def group_key(text: str) -> str:
    """A question's words, folded: the same key whatever the case, accents or punctuation."""
    return (" ".join(tokens(text)) or fold(text))[:KEY_CHARS]


# --- the knowledge files as they are now, cached while they do not change ------------------------
_lock = threading.Lock()
_cache: dict[str, tuple[tuple, CheckReport]] = {}


def knowledge() -> CheckReport:
    """The check of the knowledge files (`report.kb` is None when they have errors); built again
    only when a file changes, so the search index and the entry model are trained once."""
    kdir = settings().knowledge_dir
    state = snapshot(kdir)
    with _lock:
        hit = _cache.get(str(kdir))
    if hit and hit[0] == state:
        return hit[1]
    report = check_knowledge(kdir)
    with _lock:
        if len(_cache) > 3:
            _cache.clear()
        _cache[str(kdir)] = (state, report)
    return report


def entry_choices(kb: KnowledgeBase) -> list[tuple[str, list[Entry]]]:
    """(formation label, its entries by title), formations in their file's order, general last."""
    by_formation: dict[str, list[Entry]] = {}
    for e in kb.entries:
        by_formation.setdefault(e.formation, []).append(e)
    order = [f for f in kb.formations if f in by_formation] + sorted(set(by_formation) - set(kb.formations))
    return [(formation_label(kb, f), sorted(by_formation[f], key=lambda e: fold(e.title))) for f in order]


def formation_label(kb: KnowledgeBase, formation: str) -> str:
    if formation in kb.formations:
        return kb.formations[formation].short
    return CONSOLE["unanswered_general"] if formation == GENERAL else formation


def nearest(kb: KnowledgeBase, text: str, finder: Optional[MentionFinder] = None
            ) -> tuple[Optional[str], Optional[Entry]]:
    """(formation named in the text, the entry nearest by its words when close enough): a guess
    made without the running assistant, to pre-fill the forms."""
    finder = finder or MentionFinder(kb)
    named = [m.id for m in finder.find(text) if m.kind == "formation" and m.strong]
    formation = named[0] if named else None
    allowed = [e.id for e in kb.entries if formation is None or e.formation in (formation, GENERAL)]
    found = kb.ranker.search(strip_names(kb, text) or text, allowed=allowed, limit=1)
    entry = found[0][0] if found and found[0][1] >= NEAREST_MIN else None
    return formation or (entry.formation if entry else None), entry


# --- the groups ------------------------------------------------------------------------------
@dataclass
class GroupView:
    key: str
    count: int
    last: str
    reasons: str
    example: str
    variants: list[str]
    declined: bool = False  # some refused as off-topic: an example question alone may not be enough
    nearest: Optional[Entry] = None


def _period() -> int:
    days = request.values.get("days", type=int) or 0
    return days if days in PERIODS else 0


def _page() -> int:
    return max(1, request.values.get("page", type=int) or 1)


def load_groups(days: int) -> tuple[list[GroupView], int, int]:
    """(visible groups, groups hidden because ignored, unanswered messages); raises StoreError."""
    since = time.time() - days * 86400 if days else None
    s = settings()
    try:
        items = unanswered(read_turns(s.tracker_url, since))
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(CONSOLE["unanswered_store_error"].format(error=exc.__class__.__name__)) from exc
    ignored = console_store().ignored()
    visible, hidden = [], 0
    for grp, row in zip(groups := group(items, formation_words(s.knowledge_dir)), rows(groups)):
        if any(group_key(t) in ignored for t in grp.texts):
            hidden += 1
            continue
        visible.append(GroupView(group_key(grp.example()), grp.count, row[1], row[2], grp.example(),
                                 grp.variants(), "decline" in grp.reasons))
    return visible, hidden, len(items)


def render_index(status: int = 200, errors: Optional[dict] = None, choice: Optional[dict] = None):
    """The page; `errors` / `choice` map a group key to its add form's errors / chosen entry."""
    days, page = _period(), _page()
    report = knowledge()
    kb = report.kb
    store_error, groups, hidden, messages = None, [], 0, 0
    try:
        groups, hidden, messages = load_groups(days)
    except StoreError as exc:
        store_error, status = str(exc), 503
    pages = max(1, -(-len(groups) // PAGE_SIZE))
    page = min(page, pages)
    shown = groups[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    if kb is not None:
        finder = MentionFinder(kb)
        for gv in shown:
            gv.nearest = nearest(kb, gv.example, finder)[1]
    on_page = {gv.key for gv in shown}
    general = [m for key, msgs in (errors or {}).items() if key not in on_page for m in msgs]
    return render_template(
        "unanswered_index.html", groups=shown, general_errors=general, total=len(groups), hidden=hidden,
        messages=messages, days=days, periods=PERIODS, page=page, pages=pages, store_error=store_error,
        kb_errors=report.errors if kb is None else [], choices=entry_choices(kb) if kb else [],
        errors=errors or {}, choice=choice or {}, max_question=MAX_QUESTION), status


def _back():
    return redirect(url_for("unanswered.index", days=_period() or None, page=_page() if _page() > 1 else None))


def _question() -> str:
    text = " ".join((request.form.get("question") or "").split())
    if not text or len(text) > max(MAX_QUESTION, settings().max_message_chars):  # not a visitor's message
        abort(400)
    return text


@bp.route("/")
def index():
    return render_index()


@bp.route("/ignorer", methods=["POST"])
def ignore():
    text = _question()
    console_store().ignore(group_key(text), g.account.name)
    flash(CONSOLE["unanswered_ignored"].format(question=text))
    return _back()


@bp.route("/ajouter", methods=["POST"])
def add_question():
    text = _question()
    key, entry_id = group_key(text), request.form.get("entry_id") or ""
    kb = knowledge().kb
    entry = kb.get(entry_id) if kb is not None and entry_id else None
    if entry is None:
        return render_index(400, errors={key: [CONSOLE["unanswered_choose_entry"]]}, choice={key: entry_id})
    try:
        add_to_entry(settings().knowledge_dir, entry.id, text, g.account.name, console_store())
    except InvalidEntry as exc:
        found = [m for msgs in exc.errors.values() for m in msgs]
        return render_index(400, errors={key: found}, choice={key: entry_id})
    already = any(question_key(q) == question_key(text) for q in entry.questions)  # add_to_entry did nothing
    flash(CONSOLE["unanswered_already" if already else "unanswered_added"].format(question=text, title=entry.title))
    return _back()


@bp.route("/apercu")
def preview():
    text = " ".join((request.args.get("q") or "").split())[:MAX_QUESTION]
    report = knowledge()
    kb = report.kb
    formations = [(f.id, f.short) for f in kb.formations.values()] if kb else []
    formation = request.args.get("formation") or ""
    if formation not in {f for f, _ in formations}:
        formation = ""
    result, error, details, status = None, None, [], 200
    if text:
        try:
            result = try_question(settings(), text, formation or None, kb=kb)
        except TryError as exc:
            error, details = str(exc), exc.details
            status = 503 if exc.key in ("not_running", "bad_token") else 200
    titles = {e.id: e.title for e in kb.entries} if kb else {}
    return render_template("preview.html", q=text, formation=formation, formations=formations, result=result,
                           error=error, details=details, titles=titles, entry_link=_entry_link,
                           max_question=MAX_QUESTION), status


def _entry_link(entry_id: str) -> Optional[str]:
    """The entries section's page of an entry, when that section has one."""
    if "entries.entry" in current_app.view_functions:
        return url_for("entries.entry", entry_id=entry_id)
    return None


# --- a new entry from a question ---------------------------------------------------------------
SERVICE_SOURCE = "service-admissions"
ENTRY_FIELDS = ("question", "formation", "topic", "title", "short", "answer", "source", "author", "section", "id")


def new_entry_id(kdir, formation: str, topic: str, title: str) -> str:
    """formation.topic.words_of_the_title, unique among the entries and drafts."""
    words = [re.sub(r"[^a-z0-9]", "", w) for w in content_tokens(title)]
    base = f"{formation}.{topic}.{'_'.join(w for w in words if w)[:40].strip('_') or 'question'}"
    taken = {e.entry_id for e in list_entries(kdir)}
    n, found = 2, base
    while found in taken:
        found, n = f"{base}_{n}", n + 1
    return found


def _prefill(kb: KnowledgeBase, text: str) -> dict:
    formation, entry = nearest(kb, text)
    title = text[:1].upper() + text[1:]
    return {"question": text, "formation": formation or "", "topic": entry.topic if entry else "",
            "title": title, "short": "", "answer": "", "source": SERVICE_SOURCE, "author": g.account.name,
            "section": "", "id": ""}


def _entry_data(kb: KnowledgeBase, form: dict) -> dict:
    source = kb.sources.get(form["source"])
    ref = {"doc": form["source"]}
    if source is not None and source.kind == "service":
        ref["author"] = form["author"]
    if form["section"]:
        ref["section"] = form["section"]
    entry_id = form["id"] or new_entry_id(settings().knowledge_dir, form["formation"], form["topic"], form["title"])
    short = {"short": " ".join(form["short"].split())} if form["short"].strip() else {}
    return {"id": entry_id, "formation": form["formation"], "topic": form["topic"], "title": form["title"],
            **short, "answer": form["answer"], "sources": [ref],
            "questions": [form["question"]] if form["question"] else [],
            "reviewed": date.today().isoformat()}


# Validation messages about an entry field, shown next to the form field that sets it.
_FIELD_FOR = {"formation": "formation", "topic": "topic", "title": "title", "short": "short", "answer": "answer",
              "sources": "source", "questions": "question", "id": "id"}


@bp.route("/fiche", methods=["GET", "POST"])
def new_entry():
    report = knowledge()
    kb = report.kb
    if kb is None:
        return render_template("error.html", message=CONSOLE["unanswered_kb_invalid"]), 503
    if request.method == "GET":
        text = " ".join((request.args.get("q") or "").split())[:MAX_QUESTION]
        return render_new_entry(kb, _prefill(kb, text), {})
    form = {k: (request.form.get(k) or "").strip() for k in ENTRY_FIELDS}
    form["question"] = " ".join(form["question"].split())[:MAX_QUESTION]
    errors: dict[str, list[str]] = {}
    for name in ("question", "formation", "topic"):  # the id is made from the formation and topic
        if not form[name]:
            errors[name] = [CONSOLE[f"unanswered_{name}_missing"]]
    if form["source"] in kb.sources and kb.sources[form["source"]].kind == "service" and not form["author"]:
        errors["author"] = [CONSOLE["unanswered_author_missing"]]
    if not errors:
        try:
            created = create_entry(settings().knowledge_dir, _entry_data(kb, form), g.account.name, console_store())
        except InvalidEntry as exc:
            for name, msgs in exc.errors.items():
                errors.setdefault(_FIELD_FOR.get(name, ""), []).extend(msgs)
        else:
            return redirect(url_for("unanswered.created", entry_id=created.entry_id))
    return render_new_entry(kb, form, errors, 400)


def render_new_entry(kb: KnowledgeBase, form: dict, errors: dict, status: int = 200):
    formations = [(f.id, f.short) for f in kb.formations.values()] + [(GENERAL, CONSOLE["unanswered_general"])]
    topics = sorted(((tp.id, tp.label) for tp in kb.topics.values()), key=lambda p: fold(p[1]))
    sources = [(d.id, d.title) for d in kb.sources.values()]
    return render_template("unanswered_new.html", form=form, errors=errors, formations=formations, topics=topics,
                           sources=sources, max_question=MAX_QUESTION), status


@bp.route("/fiche/creee")
def created():
    entry_id = request.args.get("entry_id") or ""
    link = _entry_link(entry_id) if entry_id else None
    return render_template("unanswered_created.html", entry_id=entry_id, link=link)
