"""Console section "entries": the knowledge entries, their history, and changing them.

- `index`: every entry, drafts included, with a search (title, id, questions, answer) and
  filters (formation, topic, status: publiée, brouillon, expirée, revue due).
- `entry`: one entry as visitors get it, its sources, its example questions, visitors' ratings,
  how often it was given, and its change history (a diff per change, restore buttons).
- `edit` / `new`: the form. A save is checked like `make faq-check` before the file is written
  (bot/admin/knowledge_files.py) and is live within two seconds, without retraining; a refused
  save shows the French messages next to the fields, with what was typed kept. A new entry is
  a draft (`status: brouillon`), checked but not given to visitors.
- `publish` and `restore`: role "validation" only.
"""
from __future__ import annotations

import time
from datetime import date

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from bot.admin.app import console_store, role_required, settings
from bot.admin.entries_support import (
    STATUSES,
    data_from_values,
    diff_rows,
    meta,
    ratings_for,
    search,
    source_rows,
    status_of,
    times_given,
    values_from_data,
    values_from_form,
)
from bot.admin.knowledge_files import (
    DRAFT,
    EditConflict,
    InvalidEntry,
    create_entry,
    list_entries,
    preview_block,
    read_entry,
    restore_entry,
    save_entry,
)
from bot.kb.messages import CONSOLE
from bot.text import fold

bp = Blueprint("entries", __name__, url_prefix="/entries")

# Fields of the form, in its order: an error about another field is shown at the top.
FORM_FIELDS = ("id", "title", "formation", "topic", "parcours", "short", "answer", "sources", "questions", "keywords",
               "reviewed", "expires")
MAX_QUERY = 200


def _kdir():
    return settings().knowledge_dir


def _when(ts: float) -> str:
    return time.strftime(CONSOLE["entries_date_format"], time.localtime(ts))


@bp.route("/")
def index():
    m = meta(_kdir())
    everything = list_entries(_kdir())
    q = (request.args.get("q") or "").strip()[:MAX_QUERY]
    formation = request.args.get("formation") or ""
    topic = request.args.get("topic") or ""
    status = request.args.get("status") or ""
    formation = formation if formation in m.formations else ""
    topic = topic if topic in m.topics else ""
    status = status if status in STATUSES else ""
    shown = search(everything, q, formation, topic, status)
    order = {f: i for i, f in enumerate(m.formations)}
    shown.sort(key=lambda e: (order.get(str(e.data.get("formation")), len(order)), fold(str(e.data.get("title")))))
    rows = [{"entry": e, "status": status_of(e.data),
             "formation": m.formations.get(str(e.data.get("formation")), e.data.get("formation")),
             "topic": m.topics.get(str(e.data.get("topic")), e.data.get("topic"))} for e in shown]
    return render_template("entries_index.html", rows=rows, total=len(everything), meta=m, q=q,
                           formation=formation, topic=topic, status=status, statuses=STATUSES)


@bp.route("/<entry_id>")
def entry(entry_id: str):
    found = read_entry(_kdir(), entry_id)
    if found is None:
        abort(404)
    s = settings()
    questions = [str(q) for q in found.data.get("questions") or []]
    preview = None
    if "unanswered.preview" in current_app.view_functions and questions:
        preview = url_for("unanswered.preview", q=questions[0])
    changes = [{"change": c, "when": _when(c.timestamp), "rows": diff_rows(c.before, c.after)}
               for c in console_store().history(entry_id)]
    return render_template("entries_entry.html", e=found, d=found.data, meta=meta(_kdir()),
                           status=status_of(found.data), questions=questions, preview=preview,
                           ratings=ratings_for(s.tracker_url, entry_id), given=times_given(s.tracker_url, entry_id),
                           changes=changes, can_validate=g.account.role == "validation", when=_when)


def _form(mode: str, values: dict, digest: str = "", errors: dict | None = None, status: int = 200,
          entry_id: str = "", conflict=None, conflict_rows=None, gone: bool = False, title: str = ""):
    return render_template("entries_form.html", mode=mode, v=values, rows=source_rows(values), digest=digest,
                           errors=errors or {}, fields=FORM_FIELDS, meta=meta(_kdir()), entry_id=entry_id,
                           conflict=conflict, conflict_rows=conflict_rows, gone=gone, title=title), status


@bp.route("/<entry_id>/modifier", methods=["GET", "POST"])
def edit(entry_id: str):
    current = read_entry(_kdir(), entry_id)
    if current is None:
        abort(404)
    title = str(current.data.get("title") or entry_id)
    if request.method == "GET":
        return _form("edit", values_from_data(current.data), current.digest, entry_id=entry_id, title=title)
    values = values_from_form(request.form)
    digest = request.form.get("digest") or ""
    data, errors = data_from_values(values, current.data, meta(_kdir()))
    if errors:
        return _form("edit", values, digest, errors, 400, entry_id, title=title)
    try:
        saved = save_entry(_kdir(), entry_id, data, digest, g.account.name, console_store())
    except EditConflict as exc:
        now = exc.current
        if now is None:
            return _form("edit", values, "", {}, 409, entry_id, gone=True, title=title)
        mine = preview_block(_kdir(), entry_id, data)
        return _form("edit", values, now.digest, {}, 409, entry_id, conflict=now,
                     conflict_rows=diff_rows(now.text, mine), title=title)
    except InvalidEntry as exc:
        return _form("edit", values, digest, exc.errors, 400, entry_id, title=title)
    if saved.digest == digest:
        flash(CONSOLE["entries_unchanged"], "ok")
    else:
        draft = saved.data.get("status") == DRAFT
        flash(CONSOLE["entries_saved_draft" if draft else "entries_saved"], "ok")
    return redirect(url_for(".entry", entry_id=entry_id))


@bp.route("/nouvelle", methods=["GET", "POST"])
def new():
    m = meta(_kdir())
    if request.method == "GET":
        values = values_from_data({"reviewed": date.today().isoformat()})
        values["questions"] = " ".join((request.args.get("q") or "").split())[:500]
        formation = request.args.get("formation") or ""
        values["formation"] = formation if formation in m.formations else ""
        return _form("new", values)
    values = values_from_form(request.form)
    data, errors = data_from_values(values, {}, m)
    data = {"id": values["id"].strip(), **data}
    if errors:
        return _form("new", values, errors=errors, status=400)
    try:
        created = create_entry(_kdir(), data, g.account.name, console_store())
    except InvalidEntry as exc:
        return _form("new", values, errors=exc.errors, status=400)
    flash(CONSOLE["entries_created"], "ok")
    return redirect(url_for(".entry", entry_id=created.entry_id))


def _flash_refusal(exc: Exception) -> None:
    if isinstance(exc, EditConflict):
        flash(CONSOLE["entries_conflict_short"], "error")
    else:
        for msgs in exc.errors.values():
            for message in msgs:
                flash(message, "error")


@bp.route("/<entry_id>/publier", methods=["POST"])
@role_required("validation")
def publish(entry_id: str):
    current = read_entry(_kdir(), entry_id)
    if current is None:
        abort(404)
    if current.data.get("status") != DRAFT:
        flash(CONSOLE["entries_not_draft"], "ok")
        return redirect(url_for(".entry", entry_id=entry_id))
    data = {k: v for k, v in current.data.items() if k != "status"}
    try:
        save_entry(_kdir(), entry_id, data, request.form.get("digest") or "", g.account.name, console_store(),
                   action="publish")
        flash(CONSOLE["entries_published"], "ok")
    except (EditConflict, InvalidEntry) as exc:
        _flash_refusal(exc)
    return redirect(url_for(".entry", entry_id=entry_id))


@bp.route("/<entry_id>/restaurer/<int:change_id>", methods=["POST"])
@role_required("validation")
def restore(entry_id: str, change_id: int):
    change = console_store().change(change_id)
    if change is None or change.entry_id != entry_id:
        abort(404)
    version = request.form.get("version")
    text = {"before": change.before, "after": change.after}.get(version or "")
    if not text:
        abort(400)
    try:
        restore_entry(_kdir(), entry_id, text, request.form.get("digest") or "", g.account.name, console_store())
        flash(CONSOLE["entries_restored"], "ok")
    except (EditConflict, InvalidEntry) as exc:
        _flash_refusal(exc)
    return redirect(url_for(".entry", entry_id=entry_id))
