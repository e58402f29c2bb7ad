"""Console section "dashboard" (bot/admin/dashboard.py, figures by bot/admin/dashboard_figures.py): questions
per day, the shares answered from the knowledge base / declined / not answered, ratings found
useful, open contact requests and entries due for review, over 7, 30 or 90 days; computed from a
real SQLite database holding Rasa's `events` table (as the tracker store writes it) and the rows
written by the real FeedbackStore."""
import json
import re
import sqlite3
import time
from datetime import date, timedelta
from html import unescape
from pathlib import Path

import pytest

from bot.admin import dashboard_figures
from bot.feedback_store import STATUS_DONE, STATUS_IN_PROGRESS, FeedbackStore
from bot.kb.messages import CONSOLE

DAY = 86400
KB = "deis.frais.selection"
# Conversations: (sender, days ago, [(text, intent, replies)]); a reply "kb:<id>" is a knowledge
# answer (a bot event whose `custom` payload carries the entry's id), "utter_…" a response, else an action.
SEEDED = [
    ("c1", 0, [("combien coûte la sélection du DEIS ?", "ask_frais", ["action_answer", f"kb:{KB}"])]),
    ("c2", 1, [("y a-t-il une cantine ?", "out_of_scope", ["utter_out_of_scope"])]),
    ("c3", 1, [("blorp la licorne", "nlu_fallback", ["action_answer", "utter_dont_know"])]),
    ("c4", 2, [("les frais du master", "ask_frais", ["action_answer", "utter_did_you_mean"]),
               ('/choose_entry{"kb_id": "master_cmc.frais.inscription"}', "choose_entry",
                ["action_answer", "kb:master_cmc.frais.inscription"])]),          # a click: same question
    ("c5", 3, [("bonjour", "greet", ["utter_greet"])]),                             # counted, in no share
    ("c6", 3, [("combien de temps dure la formation ?", "ask_duree", ["action_answer", "utter_ask_formation"]),
               ("le DEIS", "inform_formation", ["action_answer", "kb:deis.duree.duree"])]),  # answers the question
    ("c7", 20, [("le master est-il en alternance ?", "ask_rythme", ["action_answer", "utter_no_info"])]),
    ("c8", 60, [("durée du BUT ?", "ask_duree", ["action_answer", "kb:but_cs.duree.duree_niveau"])]),
    ("c9", 120, [("trop ancien", "ask_duree", ["action_answer", "kb:but_cs.duree.duree_niveau"])]),
    ("c10", 1, [("truc machin ?", "ask_faq", ["action_answer", "utter_did_you_mean"])]),  # no click: unanswered
]
# days -> (questions, from_kb, declined, not_answered, % from_kb, % declined, % not answered)
EXPECTED = {7: (7, 3, 1, 2, 43, 14, 29), 30: (8, 3, 1, 3, 38, 13, 38), 90: (9, 4, 1, 3, 44, 11, 33)}


def seed_events(path: Path, conversations=SEEDED, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                   "sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL, timestamp FLOAT, "
                   "intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)")
        for sender, days, turns in conversations:
            ts = now - days * DAY
            db.execute("INSERT INTO events (sender_id, type_name, timestamp, action_name, data) VALUES "
                       "(?, 'action', ?, 'action_session_start', ?)", (sender, ts - 5, '{"event": "action"}'))
            for n, (text, intent, replies) in enumerate(turns):
                at = ts + n  # a follow-up one second later
                user = {"event": "user", "timestamp": at, "text": text,
                        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}}
                db.execute("INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) "
                           "VALUES (?, 'user', ?, ?, ?)", (sender, at, intent, json.dumps(user)))
                for i, name in enumerate(replies):
                    t = at + 0.01 * (i + 1)
                    if name.startswith("kb:"):
                        bot = {"event": "bot", "timestamp": t, "text": "…",
                               "data": {"buttons": None, "custom": {"kb_id": name[3:], "sources": []}},
                               "metadata": {"utter_action": "utter_kb_answer"}}
                    elif name.startswith("utter_"):
                        buttons = [{"title": "Frais", "payload": '/choose_entry{"kb_id": "x.y.z"}'}]
                        bot = {"event": "bot", "timestamp": t, "text": "…", "metadata": {"utter_action": name},
                               "data": {"buttons": buttons if name == "utter_did_you_mean" else None}}
                    else:
                        db.execute("INSERT INTO events (sender_id, type_name, timestamp, action_name, data) "
                                   "VALUES (?, 'action', ?, ?, ?)", (sender, t, name, json.dumps({"event": "action"})))
                        continue
                    db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'bot', ?, ?)",
                               (sender, t, json.dumps(bot)))


def seed_feedback(url: str, now: float) -> dict:
    store = FeedbackStore(url)
    for i, (useful, days) in enumerate([(True, 0), (True, 1), (True, 5), (False, 2), (False, 40)]):
        store.add_rating(f"r{i}", f"m{i}", KB, "une question ?", useful, None if useful else "wrong",
                         timestamp=now - days * DAY)
    refs = {name: store.add_contact(f"conv-{name}", name, f"{name.lower()}@exemple.fr", "Bonjour", False,
                                    timestamp=now - 3600) for name in ("Alice", "Bruno", "Chloe")}
    store.set_contact_status(refs["Bruno"], STATUS_IN_PROGRESS)
    store.set_contact_status(refs["Chloe"], STATUS_DONE)
    store.close()
    return refs


def db_path(console) -> Path:
    return Path(console.settings.tracker_url.removeprefix("sqlite:///"))


@pytest.fixture
def seeded(console):
    now = time.time()
    seed_events(db_path(console), now=now)
    seed_feedback(console.settings.tracker_url, now)
    return console


def page(client, **query) -> tuple[int, str]:
    reply = client.get("/tableau-de-bord/", query_string=query)
    return reply.status_code, unescape(reply.get_data(as_text=True))


def figure(html: str, block_id: str) -> str:
    """The text of one figure's block, tags removed, spaces collapsed."""
    block = html.split(f'id="{block_id}">', 1)[1].split("</div>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


# --- the pure module, on a real events table -----------------------------------------------------
def test_stats_from_a_real_events_table(tmp_path):
    now = time.time()
    seed_events(tmp_path / "db.sqlite", now=now)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    for days, (questions, kb, declined, missing, p_kb, p_declined, p_missing) in EXPECTED.items():
        first = dashboard_figures.period_start(days, now)
        turns = dashboard_figures.turns_from_events(dashboard_figures.read_events(url, dashboard_figures.midnight(first)))
        f = dashboard_figures.figures(turns, [], days, now)
        assert (f.questions, f.from_kb, f.declined, f.not_answered) == (questions, kb, declined, missing), days
        assert (f.share("from_kb"), f.share("declined"), f.share("not_answered")) == (p_kb, p_declined, p_missing)
        assert len(f.days) == days and f.days[-1][0] == date.today() and f.days[0][0] == first
        assert sum(n for _, n in f.days) == questions
    f = dashboard_figures.figures(dashboard_figures.turns_from_events(dashboard_figures.read_events(url, 0)), [], 7, now)
    today = date.today()
    assert dict(f.days)[today] == 1 and dict(f.days)[today - timedelta(days=1)] == 3
    assert dict(f.days)[today - timedelta(days=2)] == 1 and dict(f.days)[today - timedelta(days=3)] == 2
    assert f.busiest == 3 and f.share("useful") is None
    assert dashboard_figures.read_events(f"sqlite:///{tmp_path / 'none.sqlite'}", 0) == []
    assert not (tmp_path / "none.sqlite").exists()  # reading never creates a database


def test_kb_id_is_found_in_the_payload_only():
    assert dashboard_figures.kb_id_in({"data": {"custom": {"kb_id": "a.b.c"}}}) == "a.b.c"
    assert dashboard_figures.kb_id_in({"kb_id": "top.level.id"}) == "top.level.id"
    assert dashboard_figures.kb_id_in({"data": {"buttons": [{"payload": '/choose_entry{"kb_id": "x"}'}]}}) is None
    assert dashboard_figures.kb_id_in({"data": {"custom": {"kb_id": ""}}, "x": [{"kb_id": "in.a.list"}]}) == "in.a.list"


def test_period_percent_and_chart_geometry():
    assert [dashboard_figures.period_days(v) for v in ("7", "90", None, "12", "abc", 30)] == [7, 90, 30, 30, 30, 30]
    assert dashboard_figures.percent(1, 8) == 13 and dashboard_figures.percent(3, 8) == 38 and dashboard_figures.percent(0, 0) is None
    assert [dashboard_figures.nice_top(v) for v in (0, 1, 2, 3, 7, 11, 26, 120)] == [1, 1, 2, 5, 10, 20, 50, 200]
    days = [(date(2026, 3, 1) + timedelta(days=i), n) for i, n in enumerate([0, 4, 2, 5, 0, 1, 3])]
    chart = dashboard_figures.bar_chart(days, width=720, height=240)
    assert chart.top == 5 and len(chart.bars) == 7 and [v for v, _ in chart.ticks] == [0, 5]
    heights = [b.height for b in chart.bars]
    assert heights[0] == 0 and heights[3] == max(heights) == chart.base - chart.ticks[-1][1]
    assert abs(heights[1] - 0.8 * heights[3]) < 0.05
    assert all(b.y + b.height == pytest.approx(chart.base) for b in chart.bars)
    assert all(chart.left <= b.x and b.x + b.width <= chart.width for b in chart.bars)
    assert [d for d, _ in chart.labels] == [days[0][0], days[3][0], days[6][0]]
    empty = dashboard_figures.bar_chart([(date(2026, 3, 1), 0)])
    assert empty.top == 1 and empty.bars[0].height == 0


# --- the page ---------------------------------------------------------------------------------
def test_figures_over_the_default_period(seeded):
    status, html = page(seeded.client("lea"))
    assert status == 200
    assert '<option value="30" selected>30 derniers jours</option>' in html
    assert "Questions posées 8 0,3 par jour en moyenne" in figure(html, "questions")
    assert "38 % 3 question(s) sur 8" in figure(html, "part-from_kb")
    assert "13 % 1 question(s) sur 8" in figure(html, "part-declined")
    assert "38 % 3 question(s) sur 8" in figure(html, "part-not_answered")
    assert "75 % 3 avis « utile » sur 4" in figure(html, "avis-utiles")           # the one 40 days ago is out
    assert "2 1 nouvelle(s), 1 en cours" in figure(html, "demandes-ouvertes")    # "traitée" is not open
    assert "Fiches à relire" in figure(html, "fiches-a-relire")
    assert 'href="/unanswered/?days=30"' in html and 'href="/visitors/#demandes"' in html
    assert 'href="/entries/?status=revue_due"' in html


@pytest.mark.parametrize("days", [7, 90])
def test_the_period_filter(seeded, days):
    questions, kb, declined, missing, p_kb, p_declined, p_missing = EXPECTED[days]
    status, html = page(seeded.client("lea"), days=days)
    assert status == 200 and f'<option value="{days}" selected>' in html
    assert f"{p_kb} % {kb} question(s) sur {questions}" in figure(html, "part-from_kb")
    assert f"{p_declined} % {declined} question(s) sur {questions}" in figure(html, "part-declined")
    assert f"{p_missing} % {missing} question(s) sur {questions}" in figure(html, "part-not_answered")
    start = (date.today() - timedelta(days=days - 1)).strftime("%d/%m/%Y")
    assert f"Du {start} au {date.today():%d/%m/%Y}" in html
    assert html.count('<tr><th scope="row"><time') == days
    assert f'href="/unanswered/?days={days}"' in html
    useful = "75 % 3 avis « utile » sur 4" if days == 7 else "60 % 3 avis « utile » sur 5"
    assert useful in figure(html, "avis-utiles")
    assert '<option value="30" selected>' in page(seeded.client("paul"), days="12")[1]  # not a choice: 30


def test_chart_and_table_show_the_same_numbers(seeded):
    _, html = page(seeded.client("lea"), days=7)
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img" aria-labelledby="graphe-titre" aria-describedby="graphe-desc"' in svg
    assert '<title id="graphe-titre">Questions par jour</title>' in svg
    assert "7 question(s) en tout, au plus 3 en un jour" in svg.split('<desc id="graphe-desc">', 1)[1]
    assert svg.count("<rect") == 4  # four days with questions
    heights = sorted(float(h) for h in re.findall(r'<rect[^>]* height="([0-9.]+)"', svg))
    assert heights[0] == heights[1] and heights[2] == 2 * heights[0] and heights[3] == 3 * heights[0]
    table = html.split('class="dashboard-table"', 1)[1].split("</table>", 1)[0]
    assert "<caption>Questions posées par jour</caption>" in table
    counts = re.findall(r'<td class="num">(\d+)</td>', table)
    assert counts == ["0", "0", "0", "2", "1", "3", "1"]  # oldest first, today last
    assert f'datetime="{date.today().isoformat()}"' in table
    assert "<script" not in html and "style=" not in html


def test_entries_due_for_review_are_counted_and_linked(console):
    client = console.client("lea")
    before = int(figure(page(client)[1], "fiches-a-relire").split("12 mois sans relecture, à ce jour) ")[1].split()[0])
    path = console.settings.knowledge_dir / "entries" / "but_cs.yml"
    text = path.read_text(encoding="utf-8")
    reviewed = re.search(r"\n    reviewed: \S+\n", text).group(0)
    path.write_text(text.replace(reviewed, "\n    reviewed: 2020-01-01\n", 1), encoding="utf-8")
    html = page(client)[1]
    assert figure(html, "fiches-a-relire").startswith(
        f"Fiches à relire (plus de 12 mois sans relecture, à ce jour) {before + 1} Voir les fiches à relire")
    listed = client.get("/entries/", query_string={"status": "revue_due"}).get_data(as_text=True)
    assert len(re.findall(r'class="entries-id">([^<]+)<', listed)) == before + 1


def test_an_empty_database_says_so(console):
    status, html = page(console.client("lea"))
    assert status == 200
    assert "— Aucune question sur la période." in figure(html, "part-from_kb")
    assert "— Aucun avis sur la période." in figure(html, "avis-utiles")
    assert html.count('<tr><th scope="row"><time') == 30 and "<rect" not in html


def test_an_unreadable_events_table_is_reported_and_the_rest_shown(console):
    with sqlite3.connect(db_path(console)) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")  # not Rasa's columns
    seed_feedback(console.settings.tracker_url, time.time())
    status, html = page(console.client("lea"))
    assert status == 503 and "Les conversations n'ont pas pu être lues (OperationalError)" in html
    assert "non disponible" in figure(html, "questions") and "<svg" not in html
    assert "2 1 nouvelle(s), 1 en cours" in figure(html, "demandes-ouvertes")


def test_refused_without_a_session_and_listed_first(console):
    reply = console.app.test_client().get("/tableau-de-bord/")
    assert reply.status_code == 302 and "/connexion" in reply.headers["Location"]
    home = console.client("lea").get("/").get_data(as_text=True)
    main = home.split("<main", 1)[1]
    assert main.index('href="/tableau-de-bord/"') < main.index('href="/entries/"')
    nav = home.split('<nav aria-label="', 1)[1]
    assert nav.index(">Tableau de bord<") < nav.index(">Fiches<")


def test_every_text_of_the_page_exists():
    template = Path(__file__).parents[1] / "bot" / "admin" / "templates" / "dashboard_index.html"
    used = set(re.findall(r"\bt\.([a-z_]+)", template.read_text(encoding="utf-8")))
    used |= set(re.findall(r'"(dashboard_[a-z_]+)"', template.read_text(encoding="utf-8")))
    assert used and not used - set(CONSOLE), used - set(CONSOLE)
