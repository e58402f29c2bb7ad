"""Staff FAQ workflow on the real servers (ports 5405/5455, one stack for the module).

The servers read a throw-away copy of knowledge/ (BOT_KNOWLEDGE_DIR) and a throw-away SQLite
tracker store. Checks: an edited answer is served within 2 s (measured), a broken edit is
refused while the previous answer stays live and the faq-check message is logged, a brand-new
entry is answered before any retraining, `faq-try` explains a decision, `gaps` on
conversations held through the servers, `purge`, and no message text in the INFO logs.
"""
import json
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from bot import launcher
from bot.config import ROOT
from bot.generate import generate_nlu
from bot.kb.loader import check_knowledge, load_knowledge_base

pytestmark = pytest.mark.e2e

NEW_ENTRY = """
  - id: deis.lieu.parking
    formation: deis
    topic: lieu
    title: "Stationnement à l'institut"
    answer: "Un parking gratuit est réservé aux stagiaires du DEIS, à l'entrée de l'institut."
    sources:
      - doc: service des admissions
        author: "Claire Martin"
    questions:
      - y a un parking pour les etudiants du deis ?
      - Où se garer à l'institut du DEIS ?
    reviewed: 2026-11-22
"""
# Words that appear only in what visitors typed: they must never reach the INFO logs.
PRIVATE_WORDS = ("cantine", "licorne", "Zoé")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, private_stack):
    tmp = tmp_path_factory.mktemp("faq")
    kdir = tmp / "knowledge"
    shutil.copytree(ROOT / "knowledge", kdir)
    # the copy trains exactly like knowledge/: no retraining
    with private_stack(tmp, 5405, 5455, knowledge_dir=kdir) as st:
        yield st.settings, tmp


def say(s, text, sender=None):
    body = {"sender": sender or f"t-{uuid.uuid4().hex[:8]}", "message": text}
    req = urllib.request.Request(s.rasa_url + "/webhooks/rest/webhook", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        msgs = json.loads(r.read())
    ids = [m["custom"]["kb_id"] for m in msgs if isinstance(m.get("custom"), dict) and m["custom"].get("kb_id")]
    return "\n".join(m.get("text", "") for m in msgs), ids


def until(predicate, timeout):
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if predicate():
            return time.perf_counter() - start
        time.sleep(0.05)
    return None


def run_cli(s, *args):
    env = {**launcher.server_env(s), "BOT_RASA_PORT": str(s.rasa_port), "BOT_RUN_DIR": str(s.run_dir),
           "BOT_AUTH_TOKEN": s.auth_token}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


FEES_Q = "c'est combien les frais de sélection du DEIS ?"


def test_edited_answer_is_served_within_two_seconds(stack):
    s, tmp = stack
    assert "160 €" in say(s, FEES_Q)[0]
    path = s.knowledge_dir / "entries" / "deis.yml"
    path.write_text(path.read_text().replace("sont de 160 €, dont 50 €", "sont de 170 €, dont 50 €"))
    elapsed = until(lambda: "170 €" in say(s, FEES_Q)[0], timeout=10)
    print(f"\nreload: edited answer served after {elapsed:.2f} s" if elapsed else "\nreload: not seen")
    (tmp / "reload_seconds.txt").write_text(f"{elapsed}")
    assert elapsed is not None and elapsed < 2.0, elapsed
    assert "knowledge base reloaded" in (tmp / "servers.log").read_text()


def test_broken_edit_is_refused_and_logged_like_faq_check(stack):
    s, tmp = stack
    path = s.knowledge_dir / "entries" / "deis.yml"
    good = path.read_text()
    path.write_text(good.replace("    topic: frais\n", "    topic: tarifs\n", 1))
    expected = check_knowledge(s.knowledge_dir).errors
    assert expected and "sujet inconnu « tarifs »" in expected[0]
    log = tmp / "servers.log"
    assert until(lambda: all(e in log.read_text() for e in expected), timeout=10) is not None
    assert "ERROR" in next(line for line in log.read_text().splitlines() if "not reloaded" in line)
    text, ids = say(s, FEES_Q)
    assert "170 €" in text and ids == ["deis.frais.selection"]  # the last valid base is still live
    path.write_text(good)


def test_brand_new_entry_is_answered_before_retraining(stack, tmp_path):
    s, _ = stack
    path = s.knowledge_dir / "entries" / "faq.yml"
    path.write_text(path.read_text() + NEW_ENTRY)
    assert until(lambda: say(s, "Où se garer à l'institut du DEIS ?")[1] == ["deis.lieu.parking"], timeout=10)
    # The classifier calls this one out of scope: only the knowledge search knows the new entry.
    text, ids = say(s, "y a un parking pour les etudiants du deis ?")
    assert ids == ["deis.lieu.parking"] and "Service des admissions" in text
    # `make train` would then learn its questions from generated files, never hand copies.
    nlu = tmp_path / "nlu"
    shutil.copytree(ROOT / "data" / "nlu", nlu, ignore=shutil.ignore_patterns("generated"))
    generate_nlu(load_knowledge_base(s.knowledge_dir), nlu)
    generated = (nlu / "generated" / "knowledge_questions.yml").read_text()
    assert "    - Où se garer à l'institut du DEIS ?" in generated.split("intent: ask_lieu")[1].split("- intent:")[0]


def test_faq_try_explains_the_decision(stack):
    s, _ = stack
    out = run_cli(s, "faq-try", FEES_Q)
    assert out.returncode == 0, out.stderr
    assert "intention ask_frais" in out.stdout and "formation = deis" in out.stdout
    assert "Fiche choisie : deis.frais.selection" in out.stdout and "170 €" in out.stdout
    ranking = out.stdout.split("Fiches envisagées")[1].split("Réponse de l'assistant")[0]
    assert ranking.count("\n") >= 3 and "* " in ranking  # the chosen entry and runners-up with scores


SEEDED = [  # (conversation, messages): what visitors asked, answered or not
    ("v1", ["combien coûte la cantine au master CMC ?"]),  # a price no entry holds: never answered
    ("v2", ["Bonjour", "est-ce qu'il y a une cantine pour le master ?"]),
    ("v3", ["la cantine du master cmc c'est combien ?", "merci"]),  # a price again: the subject is the test's
    ("v4", ["y a des stages ?", "bon tant pis"]),
    ("v5", ["y a des stages ?", "le DEIS"]),
    ("v6", ["quels sont les frais d'inscription du master CMC ?"]),
    ("v7", ["blorp la licorne vwxz"]),
    ("v8", ["combien de temps dure le BUT carrières sociales ?", "Je m'appelle Zoé, merci"]),
]


def test_gaps_lists_unanswered_questions_grouped(stack):
    s, tmp = stack
    for sender, messages in SEEDED:
        for m in messages:
            say(s, m, sender)
    out = run_cli(s, "gaps", "--out", str(tmp / "gaps.csv"))
    print("\n" + out.stdout)
    assert out.returncode == 0, out.stderr
    rows = (tmp / "gaps.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "nombre;dernière fois;motif;question type;autres formulations"
    table = {r.split(";")[3]: r.split(";") for r in rows[1:]}
    cantine = [r for q, r in table.items() if "cantine" in q]
    assert len(cantine) == 1 and cantine[0][0] == "3"  # three wordings, one subject
    assert any("y a des stages" in q and "précision abandonnée" in r[2] for q, r in table.items())
    assert any("frais d'inscription" in q and "information absente" in r[2] for q, r in table.items())
    assert any("licorne" in q for q in table) and "bon tant pis" not in table
    assert not any("dure le BUT" in q for q in table)  # answered
    assert sum(1 for q in table if "y a des stages" in q) == 1 and table[
        next(q for q in table if "y a des stages" in q)][0] == "1"  # v5 chose a formation


def test_purge_deletes_old_conversations(stack):
    s, tmp = stack
    db = tmp / "tracker.db"
    old = time.time() - 100 * 86400
    with sqlite3.connect(db) as c:
        c.execute("UPDATE events SET timestamp = ? WHERE sender_id IN ('v1', 'v2')", (old,))
        before = c.execute("SELECT COUNT(*) FROM events WHERE sender_id IN ('v1', 'v2')").fetchone()[0]
    out = run_cli(s, "purge", "--days", "90")
    assert out.returncode == 0, out.stderr
    assert f"{before} événement(s), 2 conversation(s) entièrement effacée(s)" in out.stdout
    with sqlite3.connect(db) as c:
        senders = {r[0] for r in c.execute("SELECT DISTINCT sender_id FROM events")}
    assert not senders & {"v1", "v2"} and {"v3", "v8"} <= senders
    assert "rien à supprimer" in run_cli(s, "purge", "--days", "90").stdout
    assert say(s, "combien de temps dure le DEIS ?", "v1")[1]  # a purged visitor starts afresh


def test_info_logs_hold_no_message_text(stack):
    _s, tmp = stack
    log = (tmp / "servers.log").read_text()
    assert "decision kind=" in log and " INFO " in log  # the log is real and at INFO level
    leaked = [w for w in PRIVATE_WORDS if w.lower() in log.lower()]
    assert not leaked, leaked
