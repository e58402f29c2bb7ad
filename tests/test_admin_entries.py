"""The console's entries section: list, search and filters, entry page (ratings, use, history),
editing checked like faq-check, conflicts, drafts, publishing, restoring; and the file writer
(bot/admin/knowledge_files.py) keeping the rest of the file byte for byte."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from conftest import csrf_token_in

from bot.admin import knowledge_files as kf
from bot.admin.entries_yaml import render_entry
from bot.feedback_store import FeedbackStore
from bot.kb.loader import check_knowledge, load_knowledge_base

ENTRY = "but_cs.definition.fiche"  # in entries/but_cs.yml, between other entries, with quoted text


class _Form(HTMLParser):
    """The fields a browser would send for the page's entry form (name -> list of values)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self._in_form = self._select = self._textarea = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "entries-form" in (a.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name") and a.get("type") != "submit":
            self.fields.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""
        elif tag == "select":
            self._select = a["name"]
            self.fields.setdefault(a["name"], []).append("")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select][-1] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea" and self._textarea:
            self.fields.setdefault(self._textarea, []).append(self._text.removeprefix("\n"))
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self._text += data


def form_fields(html: str) -> dict[str, list[str]]:
    parser = _Form()
    parser.feed(html)
    return parser.fields


def _file(console, rel="entries/but_cs.yml") -> str:
    return (console.settings.knowledge_dir / rel).read_text(encoding="utf-8")


def _edit(client, entry_id=ENTRY, **changes):
    page = client.get(f"/entries/{entry_id}/modifier")
    assert page.status_code == 200
    fields = form_fields(page.get_data(as_text=True))
    fields.update({k: v if isinstance(v, list) else [v] for k, v in changes.items()})
    return fields


class _Store:
    def __init__(self):
        self.rows = []

    def record(self, *row):
        self.rows.append(row)
        return len(self.rows)


# --- the list ---------------------------------------------------------------------------------
def test_list_search_and_filters(console):
    client = console.client("marie")
    kdir = console.settings.knowledge_dir
    total = len(kf.list_entries(kdir))
    page = client.get("/entries/").get_data(as_text=True)
    assert f"sur {total}." in page and 'for="q">Rechercher<' in page and ">Statut<" in page
    assert page.count('<th scope="row">') == total

    found = client.get("/entries/", query_string={"q": "code scolarite 25133201"}).get_data(as_text=True)
    assert f"/entries/{ENTRY}" in found and "but_cs.definition.presentation<" not in found

    deis = client.get("/entries/", query_string={"formation": "deis"}).get_data(as_text=True)
    ids = re.findall(r'class="entries-id">([^<]+)<', deis)
    assert ids and all(i.startswith("deis.") for i in ids)
    topic = client.get("/entries/", query_string={"topic": "frais"}).get_data(as_text=True)
    assert all(".frais." in i for i in re.findall(r'class="entries-id">([^<]+)<', topic))

    # Statuses: make one entry expired and one due for review, directly in the file.
    text = _file(console).replace("    reviewed: 2026-11-22\n", "    reviewed: 2020-01-01\n", 1)
    expired = kf.read_entry(kdir, ENTRY)
    text = text.replace(expired.text, expired.text + "    expires: 2021-01-01\n")
    (kdir / "entries/but_cs.yml").write_text(text, encoding="utf-8")
    late = client.get("/entries/", query_string={"status": "expiree"}).get_data(as_text=True)
    assert re.findall(r'class="entries-id">([^<]+)<', late) == [ENTRY]
    due = client.get("/entries/", query_string={"status": "revue_due"}).get_data(as_text=True)
    assert re.findall(r'class="entries-id">([^<]+)<', due) == ["but_cs.definition.presentation"]
    none = client.get("/entries/", query_string={"status": "brouillon"}).get_data(as_text=True)
    assert "Aucune fiche ne correspond" in none


# --- the entry page -----------------------------------------------------------------------------
def test_entry_page_shows_sources_ratings_and_use(console):
    client = console.client("marie")
    page = client.get(f"/entries/{ENTRY}").get_data(as_text=True)
    assert "Fiche nationale du BUT Carrières sociales, parcours assistance sociale" in page  # source title
    assert "Quel est le code scolarité du BUT Carrières sociales ?" in page
    assert "Réponse donnée 0 fois" in page and "Aucun avis des visiteurs" in page
    assert client.get("/entries/inconnue.x.y").status_code == 404

    feedback = FeedbackStore(console.settings.tracker_url)
    feedback.add_rating("s1", "m1", ENTRY, "code du BUT ?", True)
    feedback.add_rating("s2", "m2", ENTRY, "le code ?", False, "incomplete")
    feedback.add_rating("s3", "m3", "but_cs.definition.presentation", "autre", False, "wrong")
    feedback.close()
    with console.store.engine.begin() as db:  # Rasa's events table, the columns read here
        db.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                           "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)")
        for kind, kb_id in [("bot", ENTRY), ("bot", ENTRY), ("bot", "butXcs.definition.fiche"), ("user", ENTRY)]:
            event = {"event": kind, "text": "…", "data": {"custom": {"kb_id": kb_id}}}
            db.exec_driver_sql("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, 1, ?)",
                               ("s1", kind, json.dumps(event)))
    page = client.get(f"/entries/{ENTRY}").get_data(as_text=True)
    assert "Réponse donnée 2 fois" in page  # the LIKE's "_" matched "butXcs", the JSON check did not
    assert "Jugée utile : 1 fois" in page and "Jugée pas utile : 1 fois" in page
    assert "Réponse incomplète : 1" in page and "le code ?" in page and "Réponse fausse" not in page


# --- editing ----------------------------------------------------------------------------------
def test_edit_saves_only_that_entry_and_records_history(console):
    kdir = console.settings.knowledge_dir
    client = console.client("marie")
    before_file, before = _file(console), kf.read_entry(kdir, ENTRY)
    fields = _edit(client, answer=before.data["answer"] + "\nUne ligne ajoutée.",
                   questions="\n".join([*before.data["questions"], "le code du but cs ?"]))
    reply = client.post(f"/entries/{ENTRY}/modifier", data=fields)
    assert reply.status_code == 302 and reply.headers["Location"].endswith(f"/entries/{ENTRY}")

    after = kf.read_entry(kdir, ENTRY)
    assert after.data["answer"].endswith("\nUne ligne ajoutée.") and "le code du but cs ?" in after.data["questions"]
    assert before_file.count(before.text) == 1
    assert _file(console) == before_file.replace(before.text, after.text)  # the rest is byte-identical
    changed = [line for line in after.text.splitlines() if line not in before.text.splitlines()]
    assert changed == ["      Une ligne ajoutée.", '      - "le code du but cs ?"']
    assert load_knowledge_base(kdir).get(ENTRY).answer.endswith("Une ligne ajoutée.")

    [change] = console.store.history(ENTRY)
    assert (change.user, change.action, change.before, change.after) == ("marie", "edit", before.text, after.text)
    page = client.get(f"/entries/{ENTRY}").get_data(as_text=True)
    assert "Fiche enregistrée" in page and "modification par marie" in page
    assert re.search(r'<tr class="diff-add">.*?ajoutée :.*?Une ligne ajoutée\.', page, re.S)
    assert "Restaurer cette version" not in page  # role "rédaction"


def test_invalid_edit_shows_french_errors_next_to_fields_and_keeps_the_file(console):
    client = console.client("marie")
    before = _file(console)
    fields = _edit(client, answer="", title="Titre tapé à garder")
    fields["source_doc"][0] = "inconnu"
    reply = client.post(f"/entries/{ENTRY}/modifier", data=fields)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert "le champ « Réponse » est vide" in page and "source inconnue « inconnu »" in page
    assert re.search(r'id="f-answer"[^>]*aria-invalid="true"[^>]*aria-describedby="err-answer', page)
    assert 'id="err-sources"' in page and 'value="Titre tapé à garder"' in page
    assert _file(console) == before and console.store.history(ENTRY) == []


def test_edit_conflict_refuses_the_second_save_and_keeps_its_text(console):
    kdir = console.settings.knowledge_dir
    marie, paul = console.client("marie"), console.client("paul")
    first, second = _edit(marie, answer="Réponse de Marie."), _edit(paul, answer="Réponse de Paul.")
    assert marie.post(f"/entries/{ENTRY}/modifier", data=first).status_code == 302
    reply = paul.post(f"/entries/{ENTRY}/modifier", data=second)
    page = reply.get_data(as_text=True)
    assert reply.status_code == 409 and "modifiée par quelqu&#39;un d&#39;autre" in page
    assert ">Réponse de Paul.</textarea>" in page and "Réponse de Marie." in page  # his text, her version
    assert kf.read_entry(kdir, ENTRY).data["answer"] == "Réponse de Marie."
    # Having seen her version, he may save his own on purpose: the form carries the new digest.
    again = form_fields(page)
    assert paul.post(f"/entries/{ENTRY}/modifier", data=again).status_code == 302
    assert kf.read_entry(kdir, ENTRY).data["answer"] == "Réponse de Paul."
    assert [c.user for c in console.store.history(ENTRY)] == ["paul", "marie"]


def test_post_without_csrf_token_is_refused(console):
    client = console.client("marie")
    before = _file(console)
    fields = _edit(client, answer="Sans jeton.")
    del fields["csrf_token"]
    assert client.post(f"/entries/{ENTRY}/modifier", data=fields).status_code == 400
    assert _file(console) == before


# --- drafts, publishing, restoring ---------------------------------------------------------------
NEW = {"id": "general.conseils.rendez_vous", "title": "Peut-on prendre rendez-vous ?", "formation": "general",
       "topic": "conseils", "parcours": "", "answer": "Oui, par courriel.\nLe service répond sous huit jours.",
       "questions": "peut on prendre rendez vous avec le service ?\nun rdv est possible ?", "keywords": "",
       "reviewed": "2026-11-22", "expires": "", "source_doc": ["service-admissions", ""],
       "source_section": ["", ""], "source_author": ["Équipe des admissions", ""]}


def _new_draft(console, client):
    page = client.get("/entries/nouvelle")
    reply = client.post("/entries/nouvelle", data={**NEW, "csrf_token": csrf_token_in(page.get_data(as_text=True))})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return reply


def test_new_entry_is_a_checked_draft_not_served(console):
    kdir = console.settings.knowledge_dir
    client = console.client("marie")
    _new_draft(console, client)
    text = _file(console, "entries/faq.yml")
    assert "  - id: general.conseils.rendez_vous\n    status: brouillon\n" in text
    assert "    answer: |-\n      Oui, par courriel.\n      Le service répond sous huit jours.\n" in text
    report = check_knowledge(kdir)
    assert report.errors == [] and report.drafts == ("general.conseils.rendez_vous",)
    assert load_knowledge_base(kdir).get("general.conseils.rendez_vous") is None
    assert console.store.history("general.conseils.rendez_vous")[0].action == "create"
    page = client.get("/entries/general.conseils.rendez_vous").get_data(as_text=True)
    assert "brouillon" in page and ">Publier<" not in page
    listed = client.get("/entries/", query_string={"status": "brouillon"}).get_data(as_text=True)
    assert re.findall(r'class="entries-id">([^<]+)<', listed) == ["general.conseils.rendez_vous"]
    # The same id again, and a question another entry has: refused, in French.
    page = client.get("/entries/nouvelle").get_data(as_text=True)
    reply = client.post("/entries/nouvelle", data={**NEW, "questions": "qui contacter si j'ai une autre question",
                                                   "csrf_token": csrf_token_in(page)})
    body = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "existe déjà" in body and "figure aussi dans la fiche" in body


def test_publish_is_for_validation_only(console):
    kdir = console.settings.knowledge_dir
    writer, checker = console.client("marie"), console.client("vera", "validation")
    _new_draft(console, writer)
    url = "/entries/general.conseils.rendez_vous"
    digest = kf.read_entry(kdir, "general.conseils.rendez_vous").digest
    token = csrf_token_in(writer.get(url).get_data(as_text=True))
    assert writer.post(url + "/publier", data={"csrf_token": token, "digest": digest}).status_code == 403
    page = checker.get(url).get_data(as_text=True)
    assert ">Publier<" in page
    fields = {"csrf_token": csrf_token_in(page), "digest": digest}
    assert checker.post(url + "/publier", data=fields).status_code == 302
    assert "status:" not in kf.read_entry(kdir, "general.conseils.rendez_vous").text
    assert load_knowledge_base(kdir).get("general.conseils.rendez_vous") is not None
    assert console.store.history("general.conseils.rendez_vous")[0].action == "publish"
    assert "Fiche publiée" in checker.get(url).get_data(as_text=True)


def test_restore_puts_back_a_version_for_validation_only(console):
    kdir = console.settings.knowledge_dir
    writer, checker = console.client("marie"), console.client("vera", "validation")
    original_file, original = _file(console), kf.read_entry(kdir, ENTRY)
    assert writer.post(f"/entries/{ENTRY}/modifier", data=_edit(writer, answer="Réponse fautive.")).status_code == 302
    [change] = console.store.history(ENTRY)
    current = kf.read_entry(kdir, ENTRY)
    form = {"version": "before", "digest": current.digest}
    page = writer.get(f"/entries/{ENTRY}").get_data(as_text=True)
    reply = writer.post(f"/entries/{ENTRY}/restaurer/{change.id}", data={**form, "csrf_token": csrf_token_in(page)})
    assert reply.status_code == 403
    page = checker.get(f"/entries/{ENTRY}").get_data(as_text=True)
    assert "Restaurer la version d&#39;avant cette modification" in page
    reply = checker.post(f"/entries/{ENTRY}/restaurer/{change.id}", data={**form, "csrf_token": csrf_token_in(page)})
    assert reply.status_code == 302
    assert _file(console) == original_file  # exactly as it was
    assert [c.action for c in console.store.history(ENTRY)] == ["restore", "edit"]
    # A stale page (the digest of a version that is gone) restores nothing.
    page = checker.get(f"/entries/{ENTRY}").get_data(as_text=True)
    stale = {"version": "after", "digest": current.digest, "csrf_token": csrf_token_in(page)}
    checker.post(f"/entries/{ENTRY}/restaurer/{change.id}", data=stale)
    assert _file(console) == original_file and kf.read_entry(kdir, ENTRY).digest == original.digest


# --- the file writer ------------------------------------------------------------------------------
def test_add_question_appends_once(console):
    kdir, store = console.settings.knowledge_dir, _Store()
    before_file, before = _file(console), kf.read_entry(kdir, ENTRY)
    after = kf.add_question(kdir, ENTRY, "  Le code  scolarité du BUT, c'est lequel ? ", "marie", store)
    assert after.data["questions"][-1] == "Le code scolarité du BUT, c'est lequel ?"
    assert _file(console) == before_file.replace(before.text, after.text)
    again = kf.add_question(kdir, ENTRY, "le code scolarite du but, c'est lequel", "marie", store)
    assert again.digest == after.digest and len(store.rows) == 1 and store.rows[0][3] == "add_question"
    with pytest.raises(kf.InvalidEntry) as exc:  # a question of another entry
        kf.add_question(kdir, ENTRY, "C'est quoi le BUT Carrières sociales ?", "marie", store)
    assert "figure aussi dans la fiche" in exc.value.errors["questions"][0]
    with pytest.raises(kf.InvalidEntry):
        kf.add_question(kdir, "but_cs.nulle.part", "une question", "marie", store)


def test_unchanged_save_keeps_every_entry_byte_identical(console):
    kdir, store = console.settings.knowledge_dir, _Store()
    files = {p: p.read_bytes() for p in (kdir / "entries").glob("*.yml")}
    for e in kf.list_entries(kdir):
        kf.save_entry(kdir, e.entry_id, dict(e.data), e.digest, "marie", store)
        # An entry written from scratch reads back the same.
        assert kf.entry_data(render_entry(e.data, None, "  - ")) == e.data
    assert store.rows == [] and all(p.read_bytes() == b for p, b in files.items())


def test_save_refuses_a_stale_digest_and_a_new_id(console):
    kdir, store = console.settings.knowledge_dir, _Store()
    e = kf.read_entry(kdir, ENTRY)
    with pytest.raises(kf.EditConflict) as exc:
        kf.save_entry(kdir, ENTRY, {**e.data, "title": "x"}, "0" * 64, "marie", store)
    assert exc.value.current.digest == e.digest
    with pytest.raises(kf.InvalidEntry) as bad:
        kf.save_entry(kdir, ENTRY, {**e.data, "id": "but_cs.autre.id"}, e.digest, "marie", store)
    assert "id" in bad.value.errors and store.rows == []


def test_concurrent_writers_lose_nothing(console):
    import threading
    kdir, store = console.settings.knowledge_dir, _Store()
    questions = [f"question simultanée numéro {i} sur le code ?" for i in range(6)]
    threads = [threading.Thread(target=kf.add_question, args=(kdir, ENTRY, q, "marie", store)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(questions) <= set(kf.read_entry(kdir, ENTRY).data["questions"])
    assert len(store.rows) == 6 and check_knowledge(kdir).errors == []
    assert not [p for p in (kdir / "entries").iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(ValueError):
        kf.create_entry(kdir, {"id": "x.y"}, "marie", store, file="../sources.yml")
