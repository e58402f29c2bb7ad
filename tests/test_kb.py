"""Loading and validating the real knowledge base; clear errors for broken files; search."""
import shutil
from pathlib import Path

import pytest

from bot.config import ROOT
from bot.kb import KnowledgeError, load_knowledge_base
from bot.kb.search import keyword_hits

KB_DIR = ROOT / "knowledge"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(KB_DIR)


def test_real_kb_covers_every_formation_topic_and_source(kb):
    assert len(kb.entries) >= 100
    assert {e.formation for e in kb.entries} >= {"but_cs", "master_cmc", "deis", "general"}
    assert {e.topic for e in kb.entries} == set(kb.topics)
    cited = {ref.doc for e in kb.entries for ref in e.sources}
    assert cited == set(kb.sources)
    assert {e.parcours for e in kb.entries if e.parcours} == set(kb.parcours)


@pytest.mark.parametrize("fact", ["25133201", "420", "700 heures", "175 heures", "160 €", "89 %", "huit à dix pages",
                                  "une semaine par mois", "120 crédits", "50 minutes", "Lavérune", "CAFERUIS",
                                  "sociologie des publics", "10 à 12 lignes", "22 à 26 semaines"])
def test_key_facts_of_the_documents_are_reachable(kb, fact):
    assert any(fact.lower() in e.answer.lower() for e in kb.entries), fact


def test_montpellier_facts_are_attributed_to_that_institute(kb):
    for e in kb.entries:
        if any(r.doc == "deis-montpellier" for r in e.sources) and any(x in e.answer for x in ("160 €", "89 %", "21 €")):
            assert "Montpellier" in e.answer, e.id


def test_disagreements_are_stated_with_both_sources(kb):
    hours = [e for e in kb.entries if "700" in e.answer and "175" in e.answer and e.formation == "deis"]
    assert any({r.doc for r in e.sources} >= {"deis-article", "deis-montpellier"} for e in hours)
    choice = kb.get("but_cs.parcours.choix") or next(e for e in kb.entries if "1re année" in e.answer and e.topic == "parcours")
    assert {r.doc for r in choice.sources} >= {"but-cs-guide", "but-cs-fiche-as"}


def test_sources_files_are_the_unedited_documents():
    seeds = ROOT.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("shared seeds not beside the repository")
    copies = {p.read_text() for p in (KB_DIR / "sources").glob("*.txt")}
    assert {p.read_text() for p in seeds.glob("0*.txt")} == copies


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "knowledge"
    shutil.copytree(KB_DIR, dest)
    return dest


def _problems(root: Path) -> str:
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge_base(root)
    return str(exc.value)


def test_malformed_yaml_names_file_and_line(tmp_path):
    root = _copy(tmp_path)
    (root / "entries" / "broken.yml").write_text("entries:\n  - id: x.y.z\n    answer: [oops\n")
    msg = _problems(root)
    assert "entries/broken.yml:" in msg and "YAML mal formé" in msg


def test_schema_errors_name_file_line_and_entry(tmp_path):
    root = _copy(tmp_path)
    (root / "entries" / "bad.yml").write_text(
        "entries:\n"
        "  - id: deis.frais.nouveau\n    formation: licence\n    topic: frais\n    title: T\n"
        "    answer: texte\n    sources: [{doc: inconnu}]\n"
        "  - id: deis.frais.vide\n    formation: deis\n    topic: frais\n    title: T\n    answer: ''\n"
        "    sources: [{doc: deis-montpellier}]\n"
        "  - id: deis.frais.selection\n    formation: deis\n    topic: meteo\n    title: T\n    answer: a\n"
        "    sources: [{doc: deis-montpellier}]\n")
    msg = _problems(root)
    assert "bad.yml:3: fiche deis.frais.nouveau : formation inconnue « licence »" in msg
    assert "source inconnue « inconnu »" in msg
    assert "fiche deis.frais.vide : le champ « answer » est vide" in msg
    assert "sujet inconnu « meteo »" in msg
    assert "l'identifiant « deis.frais.selection » existe déjà" in msg


def test_missing_field_and_duplicate_question(tmp_path):
    root = _copy(tmp_path)
    (root / "entries" / "dup.yml").write_text(
        "entries:\n  - id: deis.frais.autre\n    formation: deis\n    topic: frais\n    answer: a\n"
        "    sources: [{doc: deis-montpellier}]\n"
        "  - id: deis.frais.autre2\n    formation: deis\n    topic: frais\n    title: t\n    answer: a\n"
        "    sources: [{doc: deis-montpellier}]\n    questions: ['Q unique ?', 'q UNIQUE']\n"
        "  - id: deis.frais.autre3\n    formation: deis\n    topic: frais\n    title: t\n    answer: a\n"
        "    sources: [{doc: deis-montpellier}]\n    questions: ['q unique ?']\n")
    msg = _problems(root)
    assert "fiche deis.frais.autre : champ obligatoire « title » manquant" in msg
    assert "figure aussi dans la fiche deis.frais.autre2" in msg


def test_search_ranks_by_words_and_keywords(kb):
    best = kb.ranker.search("frais de sélection", allowed=[e.id for e in kb.entries if e.formation == "deis"])[0][0]
    assert best.topic == "frais"
    assert [e.formation for e in keyword_hits(kb.entries, "c'est quoi le code scolarité ?")] == ["but_cs"]
    assert keyword_hits(kb.entries, "les codes de la route") == []


def test_a_draft_is_checked_but_not_served(tmp_path):
    from bot.kb.loader import check_knowledge
    root = _copy(tmp_path)
    draft = ("entries:\n  - id: deis.frais.brouillon\n    status: brouillon\n    formation: deis\n    topic: frais\n"
             "    title: T\n    answer: a\n    sources: [{doc: deis-montpellier}]\n    questions: ['q brouillon']\n"
             "    reviewed: 2026-01-05\n")
    (root / "entries" / "draft.yml").write_text(draft)
    report = check_knowledge(root)
    assert report.errors == [] and report.drafts == ("deis.frais.brouillon",)
    assert load_knowledge_base(root).get("deis.frais.brouillon") is None
    # A draft is checked like any entry ...
    (root / "entries" / "draft.yml").write_text(draft.replace("formation: deis", "formation: licence"))
    assert "fiche deis.frais.brouillon : formation inconnue « licence »" in _problems(root)
    # ... and `status` takes only « brouillon » (absent: published).
    (root / "entries" / "draft.yml").write_text(draft.replace("status: brouillon", "status: publiée"))
    assert "draft.yml:3: fiche deis.frais.brouillon : statut « publiée » inconnu" in _problems(root)
    (root / "entries" / "draft.yml").write_text(draft.replace("    status: brouillon\n", ""))
    assert load_knowledge_base(root).get("deis.frais.brouillon") is not None


def test_check_a_change_without_writing_it(tmp_path):
    from bot.kb.loader import check_knowledge
    root = _copy(tmp_path)
    before = (root / "entries" / "faq.yml").read_text()
    broken = before.replace("    formation: general\n", "    formation: licence\n", 1)
    report = check_knowledge(root, texts={"entries/faq.yml": broken})
    assert report.kb is None and any(p.key == "unknown_formation" and p.entry for p in report.problems)
    assert (root / "entries" / "faq.yml").read_text() == before and check_knowledge(root).errors == []
