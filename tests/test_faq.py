"""Staff FAQ tools without servers: every validation error and its message, dates, the
`faq-check` command, the live-reload store, and the unanswered-question grouping."""
import logging
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from bot.config import ROOT
from bot.conversations import LoggedTurn, group, unanswered
from bot.kb import load_knowledge_base, store
from bot.kb.loader import check_knowledge

KB_DIR = ROOT / "knowledge"
TODAY = date(2026, 11, 22)
GOOD = """\
  - id: deis.lieu.parking
    formation: deis
    topic: lieu
    title: "Stationnement à l'institut"
    answer: "Un parking gratuit est réservé aux stagiaires."
    sources:
      - doc: service des admissions
        author: "Claire Martin"
    questions:
      - Où se garer à l'institut du DEIS ?
    reviewed: 2026-11-01
"""


@pytest.fixture
def kb_copy(tmp_path):
    dest = tmp_path / "knowledge"
    shutil.copytree(KB_DIR, dest)
    return dest


def write(root: Path, body: str, name: str = "test.yml") -> Path:
    path = root / "entries" / name
    path.write_text("entries:\n" + body, encoding="utf-8")
    return path


def errors(root: Path, today=TODAY) -> str:
    return "\n".join(check_knowledge(root, today).errors)


def variant(**changes) -> str:
    """GOOD with some fields changed (None drops the field's line)."""
    out = []
    for line in GOOD.splitlines():
        key = line.strip().removeprefix("- ").split(":")[0]
        if key in changes:
            if changes[key] is not None:
                out.append(line[:line.index(key)] + f"{key}: {changes[key]}")
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def test_staff_entry_with_author_is_valid_and_cites_the_service(kb_copy):
    write(kb_copy, GOOD)
    kb = load_knowledge_base(kb_copy, TODAY)
    e = kb.get("deis.lieu.parking")
    assert e.reviewed == date(2026, 11, 1) and e.sources[0].doc == "service-admissions"
    assert kb.source_titles(e) == ["Service des admissions"]
    assert kb.source_payload(e)[0]["author"] == "Claire Martin"


@pytest.mark.parametrize("changes, expected", [
    ({"formation": "licence"}, "test.yml:3: fiche deis.lieu.parking : formation inconnue « licence » : utilisez l'une de"),
    ({"topic": "meteo"}, "test.yml:4: fiche deis.lieu.parking : sujet inconnu « meteo » : utilisez l'un de"),
    ({"title": None}, "test.yml:2: fiche deis.lieu.parking : champ obligatoire « title » manquant : ajoutez-le."),
    ({"answer": "''"}, "test.yml:6: fiche deis.lieu.parking : le champ « answer » est vide : écrivez un texte."),
    ({"answer": "'" + "x" * 1600 + "'"}, "test.yml:6: fiche deis.lieu.parking : réponse trop longue (1600 caractères, maximum 1500)"),
    ({"reviewed": None}, "fiche deis.lieu.parking : champ obligatoire « reviewed » manquant : ajoutez la date de votre dernière relecture, par exemple « reviewed: 2026-11-22 »."),
    ({"reviewed": "22/11/2026"}, "test.yml:12: fiche deis.lieu.parking : date « 22/11/2026 » invalide dans « reviewed » : écrivez-la sous la forme AAAA-MM-JJ"),
    ({"reviewed": "2026-13-45"}, "test.yml:12: fiche deis.lieu.parking : date « 2026-13-45 » invalide dans « reviewed »"),
    ({"id": "DEIS Parking"}, "identifiant « DEIS Parking » invalide"),
])
def test_each_field_error_names_file_line_entry_and_fix(kb_copy, changes, expected):
    write(kb_copy, variant(**changes))
    assert expected in errors(kb_copy)


def test_unknown_source_and_missing_author(kb_copy):
    body = GOOD.replace("doc: service des admissions", "doc: brochure-2027").replace(
        "deis.lieu.parking", "deis.lieu.parking2").replace("Où se garer", "Où stationner")
    write(kb_copy, GOOD.replace('        author: "Claire Martin"\n', "") + body)
    msg = errors(kb_copy)
    assert ("test.yml:8: fiche deis.lieu.parking : la source « Service des admissions » demande un auteur : "
            "ajoutez « author: Prénom Nom »") in msg
    assert "test.yml:18: fiche deis.lieu.parking2 : source inconnue « brochure-2027 » : utilisez l'une de" in msg


def test_duplicate_id_and_same_question_in_two_entries(kb_copy):
    write(kb_copy, GOOD + GOOD.replace("Où se garer à l'institut du DEIS ?", "Combien coûte la sélection pour le DEIS ?"))
    msg = errors(kb_copy)
    assert "test.yml:13: fiche deis.lieu.parking : l'identifiant « deis.lieu.parking » existe déjà (test.yml:2)" in msg
    assert ("test.yml:22: fiche deis.lieu.parking : la question « Combien coûte la sélection pour le DEIS ? » "
            "figure aussi dans la fiche deis.frais.selection : gardez-la dans une seule fiche.") in msg


def test_malformed_yaml_names_the_line(kb_copy):
    write(kb_copy, GOOD.replace('title: "Stationnement', 'title: "Stationnement: "oups'))
    msg = errors(kb_copy)
    assert "knowledge/entries/test.yml:5: YAML mal formé" in msg and "guillemets" in msg


def test_expired_entry_is_an_error_for_check_but_only_left_out_when_serving(kb_copy):
    write(kb_copy, GOOD.replace("    reviewed:", "    expires: 2026-11-21\n    reviewed:"))
    report = check_knowledge(kb_copy, TODAY)
    assert any("test.yml:12: fiche deis.lieu.parking : fiche expirée depuis le 2026-11-21" in e for e in report.errors)
    kb = load_knowledge_base(kb_copy, TODAY)  # the assistant keeps running without it
    assert kb.get("deis.lieu.parking") is None and any("expirée" in w for w in kb.expired)
    assert load_knowledge_base(kb_copy, date(2026, 11, 21)).get("deis.lieu.parking") is not None


def test_review_in_the_future_is_a_warning(kb_copy):
    write(kb_copy, variant(reviewed="2027-01-01"))
    report = check_knowledge(kb_copy, TODAY)
    assert not report.errors and any("date de relecture « 2027-01-01 » dans le futur" in w for w in report.warnings)


def test_review_older_than_a_year_is_a_warning(kb_copy):
    write(kb_copy, GOOD.replace("reviewed: 2026-11-01", "reviewed: 2025-11-01"))
    report = check_knowledge(kb_copy, TODAY)
    assert not report.errors and report.kb.get("deis.lieu.parking")
    assert any("test.yml:12: fiche deis.lieu.parking : fiche non relue depuis plus de 12 mois" in w
               for w in report.warnings)


def test_every_real_entry_is_reviewed_and_valid():
    report = check_knowledge(KB_DIR)
    assert not report.errors and all(e.reviewed for e in report.kb.entries)


def _faq_check(root: Path):
    env = {"BOT_KNOWLEDGE_DIR": str(root), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "bot", "faq-check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_faq_check_command_exit_status_and_output(kb_copy):
    ok = _faq_check(kb_copy)
    assert ok.returncode == 0 and "Base de connaissances valide" in ok.stdout
    write(kb_copy, variant(topic="meteo"))
    bad = _faq_check(kb_copy)
    assert bad.returncode == 1
    assert "1 erreur(s)" in bad.stderr and "ERREUR knowledge/entries/test.yml:4: fiche deis.lieu.parking : sujet inconnu" in bad.stderr


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_store_swaps_a_valid_edit_and_keeps_the_last_valid_base(kb_copy, monkeypatch, caplog):
    monkeypatch.setenv("BOT_KNOWLEDGE_DIR", str(kb_copy))
    monkeypatch.setenv("BOT_KB_RELOAD_PERIOD", "0.1")
    monkeypatch.setattr(store, "_kb", None)
    monkeypatch.setattr(store, "_watcher", None)
    caplog.set_level(logging.INFO, logger="bot.kb.store")
    try:
        first = store.get_kb()
        assert store.get_kb() is first and first.get("deis.lieu.parking") is None
        write(kb_copy, GOOD)
        assert _wait(lambda: store.get_kb().get("deis.lieu.parking") is not None)
        assert _wait(lambda: "knowledge base reloaded" in caplog.text)
        live = store.get_kb()
        write(kb_copy, variant(topic="meteo"))
        assert _wait(lambda: "sujet inconnu « meteo »" in caplog.text)
        assert store.get_kb() is live  # the broken edit was refused
        assert any(r.levelname == "ERROR" and "test.yml:4: fiche deis.lieu.parking" in r.getMessage()
                   for r in caplog.records)
    finally:
        if store._watcher is not None:
            store._watcher.stop()


def test_unanswered_messages_are_classified_and_grouped():
    t = [LoggedTurn("a", "il y a un parking ?", 10, "ask_lieu", [], ["action_answer", "utter_no_info"]),
         LoggedTurn("a", "y a t il un parking", 20, "ask_lieu", [], ["action_answer", "utter_no_info"]),
         LoggedTurn("b", "combien ça coûte ?", 30, "ask_frais", [], ["action_answer", "utter_ask_formation"]),
         LoggedTurn("b", "merci", 40, "thanks", [], ["utter_thanks"]),
         LoggedTurn("c", "blorp la licorne", 50, "nlu_fallback", [], ["action_answer", "utter_dont_know"]),
         LoggedTurn("d", "combien ça coûte ?", 60, "ask_frais", [], ["utter_ask_formation"]),
         LoggedTurn("d", "le DEIS", 70, "inform_formation", ["formation"], ["action_answer"]),
         # "bon tant pis" refused after a clarification: the visitor gives up, no subject is asked.
         LoggedTurn("e", "y a des stages ?", 80, "ask_stage", [], ["action_answer", "utter_ask_formation"]),
         LoggedTurn("e", "bon tant pis", 90, "out_of_scope", [], ["action_answer", "utter_out_of_scope"])]
    found = unanswered(t)
    assert [(r, x.text) for r, x in found] == [("no_info", "il y a un parking ?"), ("no_info", "y a t il un parking"),
                                              ("clarify", "combien ça coûte ?"), ("fallback", "blorp la licorne"),
                                              ("clarify", "y a des stages ?")]
    groups = group(found)
    assert (groups[0].count, groups[0].reason) == (2, "no_info") and len(groups) == 4
    assert [g.count for g in group([("decline", LoggedTurn("x", q, 1, None, [])) for q in (
        "y a-t-il une cantine au master CMC ?", "est-ce qu'il y a une cantine pour le master ?",
        "la cantine du master cmc elle est bien ?", "poème sur la mer")], ignore={"master", "cmc"})] == [3, 1]


def test_faq_try_without_a_running_assistant_says_to_run_make_serve(tmp_path):
    # 5455 is this suite's action-server port: no Rasa ever listens there.
    env = {"BOT_RASA_PORT": "5455", "BOT_RUN_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "bot", "faq-try", "combien coûte le DEIS ?"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "lancez-le avec « make serve »" in out.stderr
    empty = subprocess.run([sys.executable, "-m", "bot", "faq-try"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert empty.returncode == 2 and 'make faq-try Q=' in empty.stderr


def test_gaps_and_purge_on_an_empty_store_say_so(tmp_path):
    env = {"BOT_TRACKER_URL": f"sqlite:///{tmp_path / 'none.db'}", "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "bot", *a], cwd=ROOT, env=env,  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    gaps = run("gaps", "--out", str(tmp_path / "gaps.csv"))
    assert gaps.returncode == 0 and "Aucune question sans réponse" in gaps.stdout
    assert (tmp_path / "gaps.csv").read_text(encoding="utf-8-sig").startswith("nombre;dernière fois;motif")
    purge = run("purge", "--days", "90")
    assert purge.returncode == 0 and "Aucun historique" in purge.stdout
    assert not (tmp_path / "none.db").exists()  # reading never creates an empty database


def test_rules_and_eligibility_files_are_checked_in_french(kb_copy):
    rules = kb_copy / "rules.yml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("site_topics: [lieu,", "site_topics: [cantine, lieu,")
                     .replace("'@'", "'(@'"), encoding="utf-8")
    elig = kb_copy / "eligibility.yml"
    elig.write_text(elig.read_text(encoding="utf-8").replace("conditions_entry: deis.prerequis.conditions",
                                                              "conditions_entry: deis.prerequis.inconnue"), encoding="utf-8")
    msg = "\n".join(check_knowledge(kb_copy, TODAY).errors)
    assert "knowledge/rules.yml: sujet inconnu « cantine »" in msg
    assert "motif « (@ » invalide dans « answer_types.email.value »" in msg
    assert "knowledge/eligibility.yml: fiche inconnue « deis.prerequis.inconnue »" in msg
