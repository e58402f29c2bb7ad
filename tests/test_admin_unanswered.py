"""Console section "unanswered": the groups of `make gaps` read from a real tracker database
(Rasa's `events` table), the three actions on a group (add the question to an entry, create a
draft entry, ignore), CSRF, and the question preview with and without a running assistant."""
import json
import socket
import sqlite3
import time
from dataclasses import replace
from html import unescape

import pytest
import yaml
from conftest import Console, csrf_token_in
from test_faq_e2e import say, until

from bot.admin.app import create_app

DAY = 86400
CANTINE = "y a-t-il une cantine au master CMC ?"
# (conversation, message, intent, what the assistant did, days ago): as Rasa's tracker store keeps them.
SEEDED = [
    ("v1", CANTINE, "out_of_scope", ["utter_out_of_scope"], 1),
    ("v2", "est-ce qu'il y a une cantine pour le master ?", "ask_lieu", ["action_answer", "utter_no_info"], 2),
    ("v3", "la cantine du master cmc elle est bien ?", "ask_lieu", ["action_answer", "utter_no_info"], 40),
    ("v4", "blorp la licorne vwxz", "nlu_fallback", ["action_answer", "utter_dont_know"], 100),
    ("v5", "combien de temps dure le DEIS ?", "ask_duree", ["action_answer", "utter_answer"], 1),
]


def seed_tracker(url: str, conversations=SEEDED) -> None:
    """Rasa's SQL tracker store table, with one user event per message and the replies after it."""
    path = url.removeprefix("sqlite:///")
    now = time.time()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                   "sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, "
                   "intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)")
        for sender, text, intent, replies, days in conversations:
            ts = now - days * DAY
            user = {"event": "user", "timestamp": ts, "text": text,
                    "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}}
            db.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) VALUES (?, 'user', ?, ?, ?)",
                       (sender, ts, intent, json.dumps(user)))
            for i, name in enumerate(replies):
                at = ts + 0.1 * (i + 1)
                if name.startswith("utter_"):
                    bot = {"event": "bot", "timestamp": at, "text": "…", "metadata": {"utter_action": name}}
                    db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'bot', ?, ?)",
                               (sender, at, json.dumps(bot)))
                else:
                    db.execute("INSERT INTO events (sender_id, type_name, timestamp, action_name, data) "
                               "VALUES (?, 'action', ?, ?, ?)", (sender, at, name, json.dumps({"event": "action", "name": name})))


@pytest.fixture
def seeded(console):
    seed_tracker(console.settings.tracker_url)
    return console


def page(client, url="/unanswered/"):
    """(status, the page's HTML with its entities decoded, as a reader sees the text)."""
    reply = client.get(url)
    return reply.status_code, text(reply)


def text(reply) -> str:
    return unescape(reply.get_data(as_text=True))


def entries_of(console, name="faq.yml") -> list:
    return yaml.safe_load((console.settings.knowledge_dir / "entries" / name).read_text(encoding="utf-8"))["entries"]


def test_groups_are_listed_most_frequent_first_and_by_period(seeded):
    client = seeded.client("lea")
    status, html = page(client)
    assert status == 200
    assert html.index("cantine") < html.index("blorp la licorne vwxz")  # 3 messages before 1
    assert "combien de temps dure le DEIS" not in html  # answered
    assert "information absente" in html and "question non comprise" in html
    assert "2 groupe(s) de questions sans réponse (4 message(s)" in html
    assert 'for="periode">Période</label>' in html and "/unanswered/apercu" in html
    _, week = page(client, "/unanswered/?days=7")
    assert "cantine" in week and "licorne" not in week and "1 groupe(s)" in week
    assert '<option value="7" selected>' in week
    _, empty = page(client, "/unanswered/?days=7&page=9")  # a page past the end shows the last one
    assert "cantine" in empty


def test_each_group_offers_the_three_actions_accessibly(seeded):
    _, html = page(seeded.client("lea"))
    assert html.count("Ajouter comme question d'exemple à…") == 2
    assert html.count("Créer une fiche à partir de cette question") == 2 and html.count(">Ignorer</button>") == 2
    assert '<label for="g1-fiche">' in html and '<select id="g1-fiche" name="entry_id"' in html
    assert "<optgroup label=\"Master CMC\">" in html and "Toutes formations" in html
    assert html.count('name="csrf_token"') >= 5  # add and ignore for each group, and logout
    assert html.count("jugé cette question hors de son champ") == 1  # the group with a message refused as off-topic
    assert 'aria-describedby="g1-hors-sujet"' in html


def test_ignore_hides_the_group_for_every_period(seeded):
    client = seeded.client("lea")
    _, html = page(client)
    token = csrf_token_in(html)
    reply = client.post("/unanswered/ignorer", data={"csrf_token": token, "question": CANTINE, "days": "30"})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/unanswered/?days=30")
    _, html = page(client, "/unanswered/?days=30")
    assert "ignoré : il n'apparaîtra plus" in html  # the flashed confirmation
    assert "<q>la cantine" not in html and "<q>est-ce qu" not in html and "1 groupe(s) ignoré(s)" in html
    assert "font partie de groupes ignorés" in html
    _, everything = page(client)
    assert "licorne" in everything and "cantine" not in everything.split("<h1")[1].split("groupe(s) ignoré")[1]
    assert seeded.store.ignored() == {"y a t il une cantine au master cmc"}  # folded words: a stable key


def test_add_question_appends_it_to_the_entry_once(seeded):
    client = seeded.client("lea")
    token = csrf_token_in(page(client)[1])
    data = {"csrf_token": token, "question": CANTINE, "entry_id": "general.conseils.qui_contacter"}
    reply = client.post("/unanswered/ajouter", data=data)
    assert reply.status_code == 302, reply.get_data(as_text=True)
    entry = next(e for e in entries_of(seeded) if e["id"] == "general.conseils.qui_contacter")
    assert entry["questions"][-1] == CANTINE  # the file re-read
    _, html = page(client)
    assert "ajoutée à la fiche « À qui poser une question" in html and "sans réentraînement" in html
    assert client.post("/unanswered/ajouter", data=data).status_code == 302
    entry = next(e for e in entries_of(seeded) if e["id"] == "general.conseils.qui_contacter")
    assert entry["questions"].count(CANTINE) == 1
    assert "contient déjà la question" in page(client)[1]
    assert [c.action for c in seeded.store.history("general.conseils.qui_contacter")] == ["add_question"]


def test_add_question_errors_are_shown_next_to_the_select(seeded):
    client = seeded.client("lea")
    token = csrf_token_in(page(client)[1])
    before = (seeded.settings.knowledge_dir / "entries" / "faq.yml").read_text(encoding="utf-8")
    missing = client.post("/unanswered/ajouter", data={"csrf_token": token, "question": CANTINE, "entry_id": ""})
    html = text(missing)
    assert missing.status_code == 400 and "Choisissez la fiche" in html
    assert 'aria-describedby="g1-hors-sujet g1-erreur" aria-invalid="true"' in html and '<ul id="g1-erreur" class="field-error">' in html
    assert (seeded.settings.knowledge_dir / "entries" / "faq.yml").read_text(encoding="utf-8") == before
    # a question another entry already has: refused as faq-check would, the file unchanged
    assert client.post("/unanswered/ajouter", data={"csrf_token": token, "question": CANTINE,
                                                    "entry_id": "general.conseils.qui_contacter"}).status_code == 302
    deis = (seeded.settings.knowledge_dir / "entries" / "deis.yml").read_text(encoding="utf-8")
    dup = client.post("/unanswered/ajouter", data={"csrf_token": token, "question": CANTINE,
                                                   "entry_id": "deis.frais.selection"})
    html = text(dup)
    assert dup.status_code == 400 and "g1-erreur" in html
    assert f"la question « {CANTINE} » figure aussi dans la fiche general.conseils.qui_contacter" in html
    assert (seeded.settings.knowledge_dir / "entries" / "deis.yml").read_text(encoding="utf-8") == deis
    # a question that is not one of the page's groups: its error is shown at the top
    other = client.post("/unanswered/ajouter", data={"csrf_token": token, "entry_id": "deis.frais.selection",
                                                     "question": "qui contacter si j'ai une autre question"})
    assert other.status_code == 400 and "figure aussi dans la fiche general.conseils.qui_contacter" in text(other)


def test_create_entry_form_is_prefilled_and_makes_a_draft(seeded):
    client = seeded.client("lea")
    status, form = page(client, "/unanswered/fiche?q=" + CANTINE)
    assert status == 200
    assert f'name="question" value="{CANTINE}"' in form
    assert '<option value="master_cmc" selected>' in form  # the formation named in the question
    assert 'name="author" value="lea"' in form and '<option value="service-admissions" selected>' in form
    token = csrf_token_in(form)
    data = {"csrf_token": token, "question": CANTINE, "formation": "master_cmc", "topic": "lieu",
            "title": "Restauration sur le campus", "answer": "Un restaurant universitaire est ouvert le midi.",
            "source": "service-admissions", "author": "lea", "section": "", "id": ""}
    reply = client.post("/unanswered/fiche", data=data)
    assert reply.status_code == 302, reply.get_data(as_text=True)
    new = entries_of(seeded)[-1]
    assert new["id"] == "master_cmc.lieu.restauration_campus" and new["status"] == "brouillon"
    assert new["questions"] == [CANTINE] and new["sources"] == [{"doc": "service-admissions", "author": "lea"}]
    done = text(client.get(reply.headers["Location"]))
    assert "master_cmc.lieu.restauration_campus créée en brouillon" in done
    again = client.post("/unanswered/fiche", data={**data, "question": "la cantine du master cmc elle est bien ?"})
    assert again.status_code == 302  # same title: a new id, not a clash
    assert entries_of(seeded)[-1]["id"] == "master_cmc.lieu.restauration_campus_2"
    clash = client.post("/unanswered/fiche", data=data)  # the same question twice: refused
    assert clash.status_code == 400 and 'id="err-question"' in text(clash) and "figure aussi dans la fiche" in text(clash)


def test_create_entry_errors_are_next_to_their_fields(seeded):
    client = seeded.client("lea")
    token = csrf_token_in(page(client, "/unanswered/fiche?q=" + CANTINE)[1])
    before = (seeded.settings.knowledge_dir / "entries" / "faq.yml").read_text(encoding="utf-8")
    reply = client.post("/unanswered/fiche", data={
        "csrf_token": token, "question": CANTINE, "formation": "master_cmc", "topic": "lieu", "title": "Cantine",
        "answer": "x" * 1600, "source": "service-admissions", "author": "lea"})
    html = text(reply)
    assert reply.status_code == 400 and "La fiche n'a pas été créée" in html
    assert 'aria-describedby="answer-hint err-answer" aria-invalid="true"' in html
    assert '<ul id="err-answer" class="field-error"><li>réponse trop longue (1600 caractères' in html
    no_author = client.post("/unanswered/fiche", data={
        "csrf_token": token, "question": CANTINE, "formation": "master_cmc", "topic": "lieu", "title": "Cantine",
        "answer": "Oui.", "source": "service-admissions", "author": ""})
    no_author = text(no_author)
    assert 'id="err-author"' in no_author and "Indiquez l'auteur" in no_author
    unset = text(client.post("/unanswered/fiche", data={"csrf_token": token, "question": CANTINE, "title": "Cantine",
                                                        "answer": "Oui.", "source": "service-admissions", "author": "lea"}))
    assert '<select id="formation" name="formation" required aria-describedby="err-formation" aria-invalid="true">' in unset
    assert "Choisissez la formation" in unset and "Choisissez le sujet" in unset and "« id »" not in unset
    assert page(client, "/unanswered/fiche")[0] == 200  # an empty form, from no question
    assert (seeded.settings.knowledge_dir / "entries" / "faq.yml").read_text(encoding="utf-8") == before


def test_posts_without_csrf_token_are_refused(seeded):
    client = seeded.client("lea")
    for path, data in [("/unanswered/ignorer", {"question": CANTINE}),
                       ("/unanswered/ajouter", {"question": CANTINE, "entry_id": "deis.frais.selection"}),
                       ("/unanswered/fiche", {"question": CANTINE, "title": "x"})]:
        reply = client.post(path, data=data)
        assert reply.status_code == 400 and "formulaire a expiré" in text(reply)
    assert seeded.store.ignored() == set() and seeded.store.history() == []


def test_missing_or_unreadable_store(console, tmp_path):
    status, html = page(console.client("lea"))
    assert status == 200 and "Aucune question sans réponse" in html
    (tmp_path / "broken.db").write_text("ceci n'est pas une base SQLite")
    app = create_app(replace(console.settings, tracker_url=f"sqlite:///{tmp_path / 'broken.db'}"), console.store)
    status, html = page(Console(app, console.store, console.settings).client("lea"))
    assert status == 503 and "Impossible d'ouvrir l'historique des conversations" in html


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_preview_without_a_running_assistant_says_so_in_french(console):
    app = create_app(replace(console.settings, rasa_port=_free_port()), console.store)
    client = Console(app, console.store, console.settings).client("lea")
    status, form = page(client, "/unanswered/apercu")
    assert status == 200 and '<label for="q">Question</label>' in form
    assert '<label for="formation">Formation déjà connue</label>' in form
    status, html = page(client, "/unanswered/apercu?q=combien+co%C3%BBte+le+DEIS+%3F&formation=deis")
    assert status == 503 and "lancez-le avec « make serve »" in html and 'role="alert"' in html


@pytest.mark.e2e
def test_preview_and_added_question_with_the_running_assistant(console, private_stack, tmp_path):
    (tmp_path / "stack").mkdir()
    # the servers read the console's copy of knowledge/ (it trains exactly like knowledge/: no retraining)
    with private_stack(tmp_path / "stack", 5905, 5955, knowledge_dir=console.settings.knowledge_dir) as stack:
        s = replace(console.settings, rasa_port=stack.settings.rasa_port, auth_token=stack.settings.auth_token)
        client = Console(create_app(s, console.store), console.store, s).client("lea")
        status, html = page(client, "/unanswered/apercu?q=combien coûte la sélection du DEIS ?")
        assert status == 200, html
        assert "ask_frais" in html and "formation = deis" in html
        chosen = html.split("Fiche choisie</dt>")[1].split("</dd>")[0]
        assert "deis.frais.selection" in chosen
        ranking = html.split("Fiches envisagées")[1].split("Réponse de l")[0]
        assert ranking.count("<tr") >= 3 and 'class="preview-given"' in ranking and ">Score</th>" in ranking
        assert "160 €" in html.split("Réponse de l")[1]
        # A question added from the unanswered page is answered at the next live reload, untrained.
        question = "l'école du deis, il y a un plan pour y aller ?"  # answered today with the fees' funding
        assert say(stack.settings, question)[1] != ["deis.lieu.adresse"]
        added = client.post("/unanswered/ajouter", data={"csrf_token": csrf_token_in(html), "question": question,
                                                         "entry_id": "deis.lieu.adresse"})
        assert added.status_code == 302
        assert until(lambda: say(stack.settings, question)[1] == ["deis.lieu.adresse"], timeout=15)
