"""The widget's ratings, contact requests and suggested questions (bot/channels/feedback.py,
bot/feedback_store.py, knowledge/suggestions.yml).

Without servers: the store on a real SQLite file (tables, duplicate refused, purge, schema
version and migrations), `make purge` on feedback, the handlers' validation (French 400s per
field), origin, size and rate-limit branches, and the suggestions' checks. With one private
stack (ports 5705/5755, `-m e2e`): the same contract over HTTP on the real Rasa server.
"""
import asyncio
import json
import re
import shutil
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from types import SimpleNamespace

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot import feedback_store
from bot.channels import feedback as channel
from bot.channels.feedback import FeedbackInput, plausible_email, transcript_of
from bot.config import ROOT, load_settings
from bot.conversations import purge
from bot.feedback_store import DuplicateRating, FeedbackStore, Purged
from bot.kb.loader import check_knowledge, load_suggestions
from bot.ratelimit import Limits, RateLimiter

ORIGIN = "http://127.0.0.1:8785"
REFERENCE = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}$")
EMAIL = "zoe.martin-feedback@exemple.fr"
GOOD_CONTACT = {"name": "Zoé Martin", "email": EMAIL, "message": "Bonjour, puis-je candidater en cours d'année ?",
                "consent_transcript": False}


@pytest.fixture
def store(tmp_path):
    s = FeedbackStore(f"sqlite:///{tmp_path / 'tracker.db'}")
    yield s
    s.close()


def rating(store, sender="conv-1", message_id="m1", **kw):
    values = dict(kb_id="deis.frais.selection", question="combien coûte la sélection ?", useful=True, reason=None)
    values.update(kw)
    store.add_rating(sender, message_id, **values)


# --- the store ---------------------------------------------------------------------------------

def test_store_keeps_one_rating_per_answer_and_contact_requests(store):
    rating(store)
    rating(store, message_id="m2", useful=False, reason="incomplete")
    with pytest.raises(DuplicateRating):
        rating(store, useful=False, reason="wrong")
    rating(store, sender="conv-2")  # the same answer id in another conversation is another answer
    got = store.ratings()
    assert [(r.sender_id, r.message_id, r.useful, r.reason) for r in got] == [
        ("conv-1", "m1", True, None), ("conv-1", "m2", False, "incomplete"), ("conv-2", "m1", True, None)]
    assert abs(got[0].timestamp - time.time()) < 60 and got[0].kb_id == "deis.frais.selection"

    lines = [{"from": "user", "text": "bonjour", "time": 1.0}]
    ref = store.add_contact("conv-1", "Zoé", EMAIL, "Un message", True, transcript=lines)
    ref2 = store.add_contact("conv-2", "Léo", "leo@exemple.fr", "Autre", False, transcript=lines)
    assert REFERENCE.match(ref) and ref != ref2
    first, second = store.contacts()
    assert (first.reference, first.email, first.transcript, first.status) == (ref, EMAIL, lines, "nouvelle")
    assert second.consent_transcript is False and second.transcript is None  # no consent, no transcript


def test_schema_version_table_and_migrations_run_once(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    first = FeedbackStore(url)
    rating(first)
    assert first.schema_version() == feedback_store.SCHEMA_VERSION == 1
    first.close()
    again = FeedbackStore(url)  # a second start: nothing re-created, nothing lost
    assert again.schema_version() == 1 and len(again.ratings()) == 1
    again.close()
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        assert db.execute("SELECT id, version FROM feedback_schema").fetchall() == [(1, 1)]

    runs = []

    def v2_add_column(conn):
        runs.append(1)
        conn.exec_driver_sql("ALTER TABLE contact_requests ADD COLUMN handled_by VARCHAR(100)")

    monkeypatch.setattr(feedback_store, "MIGRATIONS", (*feedback_store.MIGRATIONS, v2_add_column))
    monkeypatch.setattr(feedback_store, "SCHEMA_VERSION", 2)
    for _ in range(2):
        upgraded = FeedbackStore(url)
        assert upgraded.schema_version() == 2 and len(upgraded.ratings()) == 1
        upgraded.close()
    assert runs == [1]  # the step ran on the version-1 database only
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        assert "handled_by" in {r[1] for r in db.execute("PRAGMA table_info(contact_requests)")}


def test_store_purge_by_cutoff(store):
    now = time.time()
    rating(store, message_id="old", timestamp=now - 100 * 86400)
    rating(store, message_id="new", timestamp=now)
    store.add_contact("c", "Zoé", EMAIL, "vieux", False, timestamp=now - 100 * 86400)
    store.add_contact("c", "Zoé", EMAIL, "récent", False, timestamp=now)
    assert store.purge(now - 90 * 86400) == Purged(1, 1)
    assert [r.message_id for r in store.ratings()] == ["new"] and [c.message for c in store.contacts()] == ["récent"]
    assert store.purge(now - 90 * 86400) == Purged(0, 0)


def test_make_purge_also_deletes_old_ratings_and_contacts(tmp_path, capsys):
    db = tmp_path / "tracker.db"
    old = time.time() - 100 * 86400
    with sqlite3.connect(db) as c:  # the columns of Rasa's events table that purge reads
        c.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                  "timestamp REAL, action_name TEXT, data TEXT)")
        c.execute("INSERT INTO events (sender_id, type_name, timestamp) VALUES ('v1', 'user', ?)", (old,))
    s = FeedbackStore(f"sqlite:///{db}")
    rating(s, sender="v1", timestamp=old)
    rating(s, sender="v2")
    s.add_contact("v1", "Zoé", EMAIL, "vieux", True, transcript=[], timestamp=old)
    assert purge(f"sqlite:///{db}", 90) == 0
    out = capsys.readouterr().out
    assert "1 événement(s), 1 conversation(s) entièrement effacée(s)" in out
    assert "1 avis sur les réponses, 1 demande(s) de contact" in out
    assert [r.sender_id for r in s.ratings()] == ["v2"] and s.contacts() == []
    assert purge(f"sqlite:///{db}", 90) == 0
    again = capsys.readouterr().out
    assert "rien à supprimer" in again and "avis" not in again  # nothing more: no feedback line
    s.close()


# --- the handlers, without a server -----------------------------------------------------------

def request(body=None, origin=None, ip="10.0.0.1", raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return SimpleNamespace(headers={"origin": origin} if origin else {}, body=data, json=parsed, app=None,
                           remote_addr=ip)


def call(handler, req):
    res = asyncio.run(handler(req))
    return res.status, json.loads(res.body), res.headers


@pytest.fixture
def widget(tmp_path, monkeypatch):
    # Generous fresh limits per test: the process-wide buckets must not leak between tests.
    monkeypatch.setattr("bot.channels.guard.limits", lambda: Limits(RateLimiter(1000, 60), RateLimiter(1000, 60)))
    settings = replace(load_settings(), allowed_origins=(ORIGIN,), max_body_bytes=4096)
    ch = FeedbackInput(FeedbackStore(f"sqlite:///{tmp_path / 'tracker.db'}"), settings)
    ch.known_entry = lambda kb_id: kb_id != "deis.frais.inconnue"
    yield ch
    ch.store.close()


def test_contact_lists_every_invalid_field_in_french(widget):
    status, body, _ = call(widget.contact, request({"sender": "s1", "name": "  ", "email": "zoe@exemple",
                                                    "message": "x" * 2001, "consent_transcript": False}))
    assert status == 400 and set(body["errors"]) == {"name", "email", "message"}
    assert "100 caractères au plus" in body["errors"]["name"] and "2000 caractères" in body["errors"]["message"]
    assert "adresse e-mail valide" in body["errors"]["email"]
    status, body, _ = call(widget.contact, request({"sender": "s1", **GOOD_CONTACT, "email": "a@@b.fr"}))
    assert status == 400 and list(body["errors"]) == ["email"]
    for bad in ({"sender": "", **GOOD_CONTACT}, {"sender": "s1", **GOOD_CONTACT, "consent_transcript": "oui"}, [1]):
        status, body, _ = call(widget.contact, request(bad))
        assert status == 400 and body["error"].startswith("Le ")
    assert call(widget.contact, request(raw=b"{not json"))[:2] == (400, {"error": "Le corps de la requête doit être un objet JSON."})
    status, body, _ = call(widget.contact, request({"sender": "s1", **GOOD_CONTACT, "name": " Zoé \n Martin "}))
    assert status == 201 and body["ok"] is True and REFERENCE.match(body["reference"])
    assert widget.store.contacts()[0].name == "Zoé Martin"


@pytest.mark.parametrize("email,ok", [
    ("zoe@exemple.fr", True), ("zoé.martin+admissions@sub.exemple.fr", True), ("zoe@exemple", False),
    ("zoe@@exemple.fr", False), ("zo e@exemple.fr", False), ("@exemple.fr", False), ("zoe@exemple..fr", False),
    ("zoe@.fr", False), ("zoe@exemple.fr.", False), ("a" * 250 + "@b.fr", False), ("zoe\x00@exemple.fr", False)])
def test_plausible_email(email, ok):
    assert plausible_email(email) is ok


@pytest.mark.parametrize("change,text", [
    ({"sender": ""}, "« sender »"), ({"sender": "a\x00b"}, "« sender »"), ({"message_id": "m" * 65}, "« message_id »"),
    ({"kb_id": "Pas un id"}, "« kb_id »"), ({"kb_id": "deis.frais.inconnue"}, "« kb_id »"),
    ({"question": 3}, "« question »"), ({"useful": "yes"}, "« useful »"), ({"reason": "bof"}, "« reason »")])
def test_rating_refuses_each_bad_field_in_french(widget, change, text):
    body = {"sender": "s1", "message_id": "m1", "kb_id": "deis.frais.selection", "question": "q", "useful": False,
            "reason": "wrong", **change}
    status, reply, _ = call(widget.rating, request(body))
    assert status == 400 and text in reply["error"] and "{" not in reply["error"]


def test_rating_once_per_answer_and_origin_and_size_guards(widget):
    body = {"sender": "s1", "message_id": "m1", "kb_id": "deis.frais.selection", "question": "q", "useful": True,
            "reason": None}
    assert call(widget.rating, request(body, origin=ORIGIN))[:2] == (201, {"ok": True})
    status, reply, _ = call(widget.rating, request(body))
    assert status == 409 and "déjà donné votre avis" in reply["error"]
    status, reply, _ = call(widget.rating, request({**body, "message_id": "m2"}, origin="https://evil.example"))
    assert status == 403 and "origine" in reply["error"]
    assert call(widget.suggestions, request(origin="https://evil.example"))[0] == 403
    status, reply, _ = call(widget.contact, request(raw=b"x" * 5000))
    assert status == 413 and "4096 octets" in reply["error"]
    assert len(widget.store.ratings()) == 1


def test_rate_limits_answer_429_in_french(widget, monkeypatch):
    limits = Limits(RateLimiter(2, 1), RateLimiter(100, 1))  # 2 requests per sender, then wait
    monkeypatch.setattr("bot.channels.guard.limits", lambda: limits)
    body = {"sender": "s1", "message_id": "m1", "kb_id": "deis.frais.selection", "question": "q", "useful": True}
    statuses = [call(widget.rating, request({**body, "message_id": f"m{i}"}))[0] for i in range(2)]
    status, reply, headers = call(widget.rating, request({**body, "message_id": "m9"}))
    assert statuses == [201, 201] and status == 429 and "Patientez" in reply["error"] and int(headers["Retry-After"]) >= 1
    assert call(widget.contact, request({"sender": "s1", **GOOD_CONTACT}))[0] == 429  # one budget per sender
    # Contact requests have their own, stricter per-IP budget.
    monkeypatch.setattr("bot.channels.guard.limits", lambda: Limits(RateLimiter(100, 60), RateLimiter(100, 60)))
    widget.contact_limit = RateLimiter(1, 1)
    assert call(widget.contact, request({"sender": "s2", **GOOD_CONTACT}))[0] == 201
    status, reply, headers = call(widget.contact, request({"sender": "s3", **GOOD_CONTACT}))
    assert status == 429 and "Patientez" in reply["error"] and "Retry-After" in headers
    assert len(widget.store.contacts()) == 1


def test_transcript_keeps_user_and_bot_texts_with_times():
    events = [UserUttered("combien ?", timestamp=10.0), ActionExecuted("action_answer", timestamp=11.0),
              BotUttered("160 €", timestamp=12.0), BotUttered(None, data={"custom": {"kb_id": "x"}}, timestamp=12.5)]
    assert transcript_of(events) == [{"from": "user", "text": "combien ?", "time": 10.0},
                                     {"from": "bot", "text": "160 €", "time": 12.0}]
    assert len(transcript_of([UserUttered(f"m{i}") for i in range(500)])) == channel.MAX_TRANSCRIPT_MESSAGES


# --- suggested questions ----------------------------------------------------------------------

def test_suggestions_file_is_valid_and_served(widget):
    found, errors = load_suggestions(ROOT / "knowledge")
    assert not errors and 3 <= len(found) <= 5 and all(0 < len(q) <= 120 for q in found)
    status, body, _ = call(widget.suggestions, request())
    assert status == 200 and body == {"suggestions": found}


def test_a_bad_suggestions_file_is_a_french_error_and_the_last_list_stays(tmp_path):
    kdir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kdir)
    path = kdir / "suggestions.yml"
    good = load_suggestions(kdir)[0]
    served = channel._Suggestions(kdir)
    assert served.current() == good
    path.write_text("suggestions:\n  - Combien: ça coûte ?\n  - ''\n  - " + "x" * 121 + "\n  - Le DEIS ?\n"
                    "  - le deis\n  - Un\n", encoding="utf-8")
    report = check_knowledge(kdir)
    assert report.kb is not None  # an error for faq-check, but the assistant keeps its base
    errors = "\n".join(report.errors)
    assert "knowledge/suggestions.yml:2: la question suggérée n° 1 n'est pas un simple texte" in errors
    assert "knowledge/suggestions.yml:3: la question suggérée n° 2 est vide" in errors
    assert "question suggérée trop longue (121 caractères, maximum 120)" in errors
    assert "« le deis » figure déjà en position 4" in errors
    assert "il faut entre 3 et 5 questions suggérées" in errors and "(il y en a 6)" in errors
    assert served.current() == good  # the widget keeps the last valid list
    path.unlink()
    assert not check_knowledge(kdir).errors and served.current() == []  # the file is optional


# --- one real stack ---------------------------------------------------------------------------

def http(s, method, path, body=None, origin=None, headers=None):
    hdrs = {"Content-Type": "application/json", **({"Origin": origin} if origin else {}), **(headers or {})}
    req = urllib.request.Request(s.rasa_url + path, method=method, headers=hdrs,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None, r.headers
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.startswith((b"{", b"[")) else raw.decode(), exc.headers


@pytest.fixture(scope="module")
def stack(tmp_path_factory, private_stack):
    tmp = tmp_path_factory.mktemp("feedback")
    with private_stack(tmp, 5705, 5755, allowed_origins=(ORIGIN,)) as st:
        yield st


@pytest.mark.e2e
def test_widget_contract_on_the_real_server(stack):
    s = stack.settings
    status, body, _ = http(s, "GET", "/webhooks/feedback/suggestions")
    assert status == 200 and body == {"suggestions": load_suggestions(ROOT / "knowledge")[0]}

    sender, question = f"fb-{uuid.uuid4().hex[:8]}", "combien coûte la sélection du DEIS ?"
    status, replies, _ = http(s, "POST", "/webhooks/rest/webhook", {"sender": sender, "message": question})
    kb_id = next(r["custom"]["kb_id"] for r in replies if isinstance(r.get("custom"), dict) and "kb_id" in r["custom"])
    rating_body = {"sender": sender, "message_id": "answer-1", "kb_id": kb_id, "question": question,
                   "useful": False, "reason": "incomplete"}
    assert http(s, "POST", "/webhooks/feedback/rating", rating_body, origin=ORIGIN)[:2] == (201, {"ok": True})
    status, body, _ = http(s, "POST", "/webhooks/feedback/rating", rating_body)
    assert status == 409 and "déjà donné votre avis" in body["error"]
    stored = FeedbackStore(s.tracker_url)
    assert [(r.sender_id, r.kb_id, r.useful, r.reason) for r in stored.ratings()] == [(sender, kb_id, False, "incomplete")]

    status, body, _ = http(s, "POST", "/webhooks/feedback/contact", {"sender": sender, **GOOD_CONTACT, "email": "zoe@"})
    assert status == 400 and list(body["errors"]) == ["email"]
    status, body, headers = http(s, "POST", "/webhooks/feedback/contact",
                                 {"sender": sender, **GOOD_CONTACT, "consent_transcript": True}, origin=ORIGIN)
    assert status == 201 and REFERENCE.match(body["reference"]) and headers["Access-Control-Allow-Origin"] == ORIGIN
    (contact,) = stored.contacts()
    assert contact.reference == body["reference"] and contact.email == EMAIL
    assert any(line["from"] == "user" and line["text"] == question for line in contact.transcript)
    assert any(line["from"] == "bot" for line in contact.transcript)
    stored.close()

    status, body, _ = http(s, "POST", "/webhooks/feedback/contact", {"sender": sender, **GOOD_CONTACT},
                           origin="https://evil.example")
    assert status == 403 and "origine" in body["error"]
    for path in ("/webhooks/feedback/rating", "/webhooks/feedback/contact", "/webhooks/feedback/suggestions"):
        status, _, headers = http(s, "OPTIONS", path, origin=ORIGIN, headers={
            "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
        assert status in (200, 204) and headers["Access-Control-Allow-Origin"] == ORIGIN, path
        assert "content-type" in headers["Access-Control-Allow-Headers"].lower()

    time.sleep(0.5)  # let the servers flush their logs
    log = (stack.tmp / "servers.log").read_text()
    assert f"contact request {contact.reference} stored" in log  # the log is real
    assert EMAIL not in log and "Zoé Martin" not in log
