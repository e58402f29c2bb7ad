"""The console's "visitors" section (bot/admin/visitors.py): ratings per entry, the worst first,
and the contact requests' inbox, on the `console` fixture's throw-away SQLite database, with
rows written by the real FeedbackStore (bot/feedback_store.py)."""
import re
import time

import pytest
from conftest import csrf_token_in

from bot.feedback_store import STATUS_DONE, STATUS_IN_PROGRESS, STATUS_NEW, FeedbackStore

NOW = time.time()


@pytest.fixture
def feedback(console):
    store = FeedbackStore(console.settings.tracker_url)
    yield store
    store.close()


def rate(store, kb_id, useful, n=1, reason=None, question="une question ?", at=NOW):
    for i in range(n):
        store.add_rating(f"conv-{kb_id}-{useful}-{reason}-{question}-{i}", f"m{i}", kb_id, question, useful,
                         None if useful else reason, timestamp=at + i)


def text(reply) -> str:
    return reply.get_data(as_text=True)


def rows(html: str) -> list[str]:
    """The entry ids of the ratings table, in order."""
    table = html.split('class="visitors-ratings"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<code>([a-z0-9_.]+)</code>", table)


def test_ratings_worst_first_with_titles_reasons_and_latest_questions(console, feedback):
    rate(feedback, "deis.frais.selection", True, 3)
    rate(feedback, "deis.frais.selection", False, 1, "wrong")                 # 25 % not useful
    rate(feedback, "but_cs.duree.duree_niveau", False, 2, "incomplete", "et en alternance ?")
    rate(feedback, "but_cs.duree.duree_niveau", False, 1, "not_my_question", "durée du stage ?", at=NOW + 50)
    rate(feedback, "but_cs.duree.duree_niveau", True, 1)                             # 75 %, 3 not useful
    rate(feedback, "master_cmc.duree.duree", False, 1, None, "")               # 100 %, 1 not useful
    rate(feedback, "deis.duree.duree", True, 2)                               # 0 %
    rate(feedback, "deis.frais.ancienne", False, 1, "other")                  # not in the base
    html = text(console.client("lea").get("/visitors/"))
    assert rows(html) == ["master_cmc.duree.duree", "but_cs.duree.duree_niveau", "deis.frais.selection",
                          "deis.duree.duree"]
    # An entry no longer in the base is listed by its id, with a note (100 %, 1: before master_cmc by id).
    assert "deis.frais.ancienne" in html and "fiche absente de la base actuelle" in html
    assert html.index("deis.frais.ancienne") < html.index("master_cmc.duree.duree")
    assert "12 avis sur 5 fiche(s) : 6 « utile », 6 « pas utile »." in html
    row = html.split("<code>but_cs.duree.duree_niveau</code>", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="num">([^<]+)</td>', row)
    assert cells == ["1", "3", "75&nbsp;%"]
    assert "Réponse incomplète : 2" in row and "Ne répond pas à la question posée : 1" in row
    assert row.index("durée du stage ?") < row.index("et en alternance ?")  # newest first
    master = html.split("<code>master_cmc.duree.duree</code>", 1)[1].split("</tr>", 1)[0]
    assert "Sans raison indiquée : 1" in master and "<q>" not in master  # no empty question listed
    assert "Frais de sélection du DEIS (institut de Montpellier)" in html  # titles from the knowledge base


def test_ratings_link_to_the_entry_page_when_there_is_one(console, feedback):
    rate(feedback, "deis.frais.selection", False, 1, "wrong")
    html = text(console.client("lea").get("/visitors/"))
    if "entries.entry" in console.app.view_functions:
        assert 'href="/entries/' in html
    else:
        assert 'href="/entries/' not in html.split('class="visitors-ratings"', 1)[1]


def test_empty_page_says_so(console):
    html = text(console.client("lea").get("/visitors/"))
    assert "Aucun visiteur n&#39;a encore donné son avis" in html and "Aucune demande de contact." in html


def contact(store, name, consent=False, at=NOW, message="Bonjour"):
    transcript = [{"from": "user", "text": "frais du DEIS ?", "time": at - 60},
                  {"from": "bot", "text": "Les frais de sélection sont de 160 €.", "time": at - 59}]
    return store.add_contact(f"conv-{name}", name, f"{name.lower()}@exemple.fr", message, consent,
                             transcript, timestamp=at)


def test_inbox_newest_first_with_email_and_transcript_only_when_consented(console, feedback):
    old = contact(feedback, "Alice", consent=True, at=NOW - 3600, message="Ligne 1\nLigne 2")
    new = contact(feedback, "Bruno", consent=False, at=NOW)
    html = text(console.client("lea").get("/visitors/"))
    assert html.index(new) < html.index(old)
    assert 'href="mailto:alice@exemple.fr?subject=' in html and "bruno@exemple.fr" in html
    alice = html.split(f'id="demande-{old}"', 1)[1].split("</article>", 1)[0]
    bruno = html.split(f'id="demande-{new}"', 1)[1].split("</article>", 1)[0]
    assert "<details" in alice and "Les frais de sélection sont de 160 €." in alice and "(2 message(s))" in alice
    assert "Ligne 1\nLigne 2" in alice
    assert "<details" not in bruno and "pas souhaité joindre sa conversation" in bruno
    assert "Toutes (2)" in html and "Nouvelles (2)" in html and "Traitées (0)" in html


def test_mark_as_treated_then_filter_and_reopen(console, feedback):
    first = contact(feedback, "Alice", at=NOW - 10)
    second = contact(feedback, "Bruno")
    client = console.client("lea")
    html = text(client.get("/visitors/"))
    reply = client.post(f"/visitors/demandes/{first}/statut", data={
        "csrf_token": csrf_token_in(html), "status": STATUS_DONE, "statut": STATUS_NEW})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("#demandes")
    assert {c.reference: c.status for c in feedback.contacts()} == {first: STATUS_DONE, second: STATUS_NEW}
    after = text(client.get(reply.headers["Location"]))
    assert f"Demande {first} marquée comme traitée." in after and 'role="status"' in after
    assert first not in after.split('class="visitors-inbox"', 1)[1] and second in after  # filtered on "nouvelle"
    done = text(client.get("/visitors/", query_string={"statut": STATUS_DONE}))
    inbox = done.split('class="visitors-inbox"', 1)[1]
    assert first in inbox and second not in inbox and "Remettre en « nouvelle »" in inbox
    assert "Traitées (1)" in done and "Nouvelles (1)" in done
    client.post(f"/visitors/demandes/{first}/statut", data={"csrf_token": csrf_token_in(done), "status": STATUS_NEW})
    assert {c.status for c in feedback.contacts()} == {STATUS_NEW}


def test_mark_in_progress_then_filter_then_treated(console, feedback):
    first = contact(feedback, "Alice", at=NOW - 10)
    second = contact(feedback, "Bruno")
    client = console.client("lea")
    html = text(client.get("/visitors/"))
    alice = html.split(f'id="demande-{first}"', 1)[1].split("</article>", 1)[0]
    assert re.findall(r'name="status" value="([^"]+)"', alice) == [STATUS_IN_PROGRESS, STATUS_DONE]
    assert "Marquer « en cours »" in alice and "Remettre en « nouvelle »" not in alice
    reply = client.post(f"/visitors/demandes/{first}/statut", data={
        "csrf_token": csrf_token_in(html), "status": STATUS_IN_PROGRESS})
    assert reply.status_code == 302
    assert {c.reference: c.status for c in feedback.contacts()} == {first: STATUS_IN_PROGRESS, second: STATUS_NEW}
    after = text(client.get(reply.headers["Location"]))
    assert f"Demande {first} marquée « en cours »." in after
    assert "Nouvelles (1)" in after and "En cours (1)" in after and "Traitées (0)" in after
    busy = text(client.get("/visitors/", query_string={"statut": STATUS_IN_PROGRESS}))
    inbox = busy.split('class="visitors-inbox"', 1)[1]
    assert first in inbox and second not in inbox and '<option value="en cours" selected>' in busy
    card = inbox.split(f'id="demande-{first}"', 1)[1].split("</article>", 1)[0]
    assert "is-progress" in busy and '<strong class="visitors-status">En cours</strong>' in card
    assert re.findall(r'name="status" value="([^"]+)"', card) == [STATUS_NEW, STATUS_DONE]
    client.post(f"/visitors/demandes/{first}/statut", data={"csrf_token": csrf_token_in(busy), "status": STATUS_DONE})
    assert {c.reference: c.status for c in feedback.contacts()}[first] == STATUS_DONE
    done = text(client.get("/visitors/", query_string={"statut": STATUS_DONE}))
    card = done.split(f'id="demande-{first}"', 1)[1].split("</article>", 1)[0]
    assert re.findall(r'name="status" value="([^"]+)"', card) == [STATUS_NEW, STATUS_IN_PROGRESS]
    assert feedback.set_contact_status(second, STATUS_IN_PROGRESS) is True


def test_status_change_is_validated(console, feedback):
    ref = contact(feedback, "Alice")
    client = console.client("lea")
    token = csrf_token_in(text(client.get("/visitors/")))
    bad = client.post(f"/visitors/demandes/{ref}/statut", data={"csrf_token": token, "status": "supprimée"})
    assert bad.status_code == 400 and "Statut inconnu" in text(bad)
    missing = client.post("/visitors/demandes/ABCD-EFGH/statut", data={"csrf_token": token, "status": STATUS_DONE})
    assert missing.status_code == 404
    assert feedback.contacts()[0].status == STATUS_NEW
    with pytest.raises(ValueError):
        feedback.set_contact_status(ref, "archivée")


def test_status_change_without_csrf_token_is_refused(console, feedback):
    ref = contact(feedback, "Alice")
    client = console.client("lea")
    reply = client.post(f"/visitors/demandes/{ref}/statut", data={"status": STATUS_DONE})
    assert reply.status_code == 400 and "formulaire a expiré" in text(reply)
    assert feedback.contacts()[0].status == STATUS_NEW


def test_status_change_without_a_session_is_refused(console, feedback):
    ref = contact(feedback, "Alice")
    reply = console.app.test_client().post(f"/visitors/demandes/{ref}/statut", data={"status": STATUS_DONE})
    assert reply.status_code == 401 and feedback.contacts()[0].status == STATUS_NEW


def test_inbox_is_paged(console, feedback, monkeypatch):
    from bot.admin import visitors
    monkeypatch.setattr(visitors, "PAGE_SIZE", 2)
    refs = [contact(feedback, f"Personne{i}", at=NOW + i) for i in range(5)]
    client = console.client("lea")
    first = text(client.get("/visitors/"))
    assert refs[4] in first and refs[3] in first and refs[2] not in first and "Page 1 sur 3" in first
    assert "Demandes plus anciennes" in first and "Demandes plus récentes" not in first
    last = text(client.get("/visitors/?page=9"))  # past the end: the last page
    assert refs[0] in last and "Page 3 sur 3" in last
    assert "Page 1 sur 3" in text(client.get("/visitors/?page=abc"))


def test_titles_follow_knowledge_edits(console, feedback):
    rate(feedback, "deis.frais.selection", False, 1, "wrong")
    client = console.client("lea")
    assert "Stationnement secret" not in text(client.get("/visitors/"))
    path = next(p for p in (console.settings.knowledge_dir / "entries").glob("*.yml")
                if "id: deis.frais.selection" in p.read_text(encoding="utf-8"))
    raw = path.read_text(encoding="utf-8")
    start = raw.index("id: deis.frais.selection")
    title_at = raw.index("title:", start)
    end = raw.index("\n", title_at)
    path.write_text(raw[:title_at] + 'title: "Stationnement secret"' + raw[end:], encoding="utf-8")
    assert "Stationnement secret" in text(client.get("/visitors/"))
    path.write_text(raw[:title_at] + "title: [cassé" + raw[end:], encoding="utf-8")  # broken edit
    assert "Stationnement secret" in text(client.get("/visitors/"))  # the last valid titles
