"""Short answers first, the detail folded: validation of `short:`, readability warnings, the
replies (short answer then detail), "plus de détails", and the action's slot."""
import asyncio
import dataclasses
import shutil
from datetime import date
from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer
from bot.answering import NO_DETAIL, Answerer
from bot.config import ROOT
from bot.kb.checks import MAX_SHORT_CHARS
from bot.kb.loader import check_knowledge
from bot.kb.model import Entry, SourceRef
from bot.kb.readability import Readability, unexplained_acronyms
from bot.policy_types import State, Turn
from bot.replies import replies_for

LONG = ("L'admission se fait sur dossier puis par un entretien. Le dossier comprend un CV de huit à dix pages, "
        "une lettre de motivation et la copie des diplômes. L'entretien dure 45 minutes devant deux membres "
        "du jury, qui apprécient le projet et l'expérience du candidat.")
SHORT = "On entre sur dossier (CV, lettre de motivation, diplômes), puis après un entretien devant un jury."


@pytest.fixture
def kb(tiny_kb):
    entry = Entry(id="deis.admission.dossier", formation="deis", topic="admission", title="Admission : dossier et entretien",
                  answer=LONG, short=SHORT, sources=(SourceRef("doc-deis", "Admission"),),
                  questions=("comment se passe l'admission au DEIS ?", "combien de minutes dure l'entretien ?"))
    return dataclasses.replace(tiny_kb, entries=tiny_kb.entries + (entry,))


def decide(kb, text, intent, state=None, **turn):
    return Answerer(kb).decide(Turn(text=text, intent=intent, ranking={intent: 0.9}, **turn), state or State())


# -- validation ---------------------------------------------------------------------------------

def _base(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", root)
    return root


def _entry_yaml(answer: str, short: str = "") -> str:
    lines = ["entries:", "  - id: deis.frais.essai", "    formation: deis", "    topic: frais", "    title: T"]
    if short:
        lines.append(f"    short: \"{short}\"")
    lines += [f"    answer: \"{answer}\"", "    sources: [{doc: deis-montpellier}]", "    reviewed: 2026-11-01", ""]
    return "\n".join(lines)


def _messages(root: Path) -> str:
    report = check_knowledge(root, today=date(2026, 11, 30))
    return "\n".join(report.errors + report.warnings)


def test_a_long_answer_needs_a_short_one(tmp_path):
    root = _base(tmp_path)
    (root / "entries" / "essai.yml").write_text(_entry_yaml("x " * 150))
    assert "fiche deis.frais.essai : réponse courte « short » manquante" in _messages(root)
    # An answer that is short already is its own short answer.
    (root / "entries" / "essai.yml").write_text(_entry_yaml("Les frais de sélection sont de 160 euros."))
    assert "deis.frais.essai" not in _messages(root)


def test_a_short_answer_is_short_and_says_something(tmp_path):
    root = _base(tmp_path)
    (root / "entries" / "essai.yml").write_text(_entry_yaml("x " * 150, "y " * (MAX_SHORT_CHARS // 2 + 5)))
    assert "réponse courte trop longue" in _messages(root)
    (root / "entries" / "essai.yml").write_text(_entry_yaml("x " * 150, "Voici les conditions d'accès :"))
    assert "réponse courte qui ne dit rien seule" in _messages(root)


def test_readability_warnings_do_not_block_the_base(tmp_path):
    root = _base(tmp_path)
    long_sentence = " ".join(["mot"] * 45) + "."
    (root / "entries" / "essai.yml").write_text(
        _entry_yaml(long_sentence + " Le CASF le prévoit. " + "Ceci est court. " * 60, "Les frais dépendent du CASF, qui les fixe."))
    report = check_knowledge(root, today=date(2026, 11, 30))
    warnings = "\n".join(report.warnings)
    assert report.kb is not None and not [e for e in report.errors if "essai" in e]
    assert "fiche deis.frais.essai : réponse longue" in warnings
    assert "phrase de 45 mots" in warnings
    assert "le sigle « CASF » n'est pas expliqué" in warnings


def test_an_acronym_is_explained_by_its_meaning_or_brackets():
    acronyms = {"CASF": "code de l'action sociale et des familles"}
    assert unexplained_acronyms("Article du CASF.", acronyms) == ["CASF"]
    assert unexplained_acronyms("Le CASF (le code qui régit l'action sociale).", acronyms) == []
    assert unexplained_acronyms("Le Code de l’action sociale et des familles (CASF).", acronyms) == []
    assert unexplained_acronyms("CASFX n'est pas le sigle.", acronyms) == []
    assert Readability().answer_chars == 900


# -- policy and replies --------------------------------------------------------------------------

def test_a_long_entry_is_sent_short_answer_first_then_its_detail(kb):
    d = decide(kb, "comment se passe l'admission au DEIS ?", "ask_admission", formations=["deis"])
    assert [e.id for e in d.entries][:1] == ["deis.admission.dossier"] and not d.detail
    reply = replies_for(kb, d)[0]
    assert reply.response == "utter_kb_short" and (reply.values["short"], reply.values["detail"]) == (SHORT, LONG)
    assert reply.custom["kb_id"] == "deis.admission.dossier"
    assert (reply.custom["short"], reply.custom["detail"]) == (SHORT, LONG)
    assert not reply.buttons


def test_the_short_answer_comes_first_in_the_text(kb):
    import yaml

    from bot.config import ROOT
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    for name in ("utter_kb_short", "utter_kb_short_many"):
        text = responses[name][0]["text"]
        assert text.index("{short}") < text.index("{detail}") < text.index("{sources}")


def test_more_details_gives_the_full_answers_last_given(kb):
    state = State(formation="deis", answered=["deis.admission.dossier"])
    d = decide(kb, "tu peux développer ?", "ask_detail", state)
    assert d.kind == "answer" and d.detail and [e.id for e in d.entries] == ["deis.admission.dossier"]
    reply = replies_for(kb, d)[0]
    assert reply.response == "utter_kb_answer" and reply.values["answer"] == LONG and "short" not in reply.custom
    # The button names its entry, whatever was answered last.
    d = decide(kb, '/ask_detail{"kb_id": "deis.admission.dossier"}', "ask_detail", State(), kb_id="deis.admission.dossier")
    assert d.detail and d.entries[0].id == "deis.admission.dossier"


def test_more_details_before_any_answer_says_so(kb):
    d = decide(kb, "plus de détails", "ask_detail")
    assert (d.kind, d.text) == ("courtesy", NO_DETAIL)
    assert [r.response for r in replies_for(kb, d)] == [NO_DETAIL]


def test_a_short_entry_is_sent_whole_without_button(kb):
    d = decide(kb, "frais de sélection du DEIS ?", "ask_frais", formations=["deis"])
    reply = replies_for(kb, d)[0]
    assert reply.response == "utter_kb_answer" and "detail" not in reply.custom and "short" not in reply.custom


def test_the_action_remembers_what_it_answered(kb, tracker_factory):
    t = tracker_factory("comment se passe l'admission au DEIS ?", "ask_admission",
                        entities=[{"entity": "formation", "value": "deis"}])
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswer(kb).run(dispatcher, t, {}))
    assert dispatcher.messages[0]["response"] == "utter_kb_short"
    assert dispatcher.messages[0]["short"] == SHORT and dispatcher.messages[0]["custom"]["detail"] == LONG
    assert SlotSet("answered", [e["custom"]["kb_id"] for e in dispatcher.messages if e.get("custom")]) in events
