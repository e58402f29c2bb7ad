"""The applicant profile and the DEIS access rules (bot.eligibility) on knowledge/eligibility.yml."""
import pytest

from bot.config import ROOT
from bot.eligibility import asks_dispenses, asks_eligibility, assess_access, assess_dispenses, read_profile
from bot.kb.loader import load_knowledge_base


@pytest.fixture(scope="module")
def rules():
    return load_knowledge_base(ROOT / "knowledge").eligibility


def profile_of(rules, *messages):
    p: dict = {}
    for m in messages:
        p = read_profile(rules, m, p)
    return p


def test_profile_is_built_over_several_messages(rules):
    p = profile_of(rules, "je suis éducatrice spécialisée", "ça fait 2 ans que je travaille en foyer")
    assert p["diplomas"] == ["dees"] and p["experience"] == 2 and p["experience_social"]


def test_words_about_someone_else_or_a_parcours_are_not_a_profile(rules):
    assert profile_of(rules, "le parcours éducation spécialisée dure combien ?") == {}
    assert profile_of(rules, "c'est quoi un master ?") == {}


def test_missing_experience_is_counted(rules):
    a = assess_access(rules, profile_of(rules, "je suis éducateur spécialisé depuis 2 ans"))
    assert a.kind == "not_yet" and "3 ans" in a.text and "vous en avez 2" in a.text


def test_condition_met_is_named_with_the_sources_disagreement(rules):
    a = assess_access(rules, profile_of(rules, "j'ai un master en sociologie"))
    assert a.kind == "eligible" and "cinq ans d'études supérieures" in a.text
    assert "ne concordent pas" in a.text and a.entry_id == "deis.prerequis.conditions"


def test_paramedical_with_experience_and_foreign_diploma(rules):
    a = assess_access(rules, profile_of(rules, "j'ai un diplôme d'infirmière obtenu au Liban, 6 ans d'expérience en association"))
    assert a.kind == "eligible" and "attestation" in a.text


def test_corps_needs_three_years(rules):
    assert assess_access(rules, profile_of(rules, "je suis CPIP depuis 1 an")).kind == "not_yet"
    assert assess_access(rules, profile_of(rules, "je suis CPIP depuis 4 ans")).kind == "eligible"


def test_asks_for_the_one_missing_item(rules):
    assert assess_access(rules, profile_of(rules, "je suis assistante sociale")).kind == "ask"
    assert "diplôme le plus élevé" in assess_access(rules, {"experience": 4}).text
    # The answer to "how many years?" may be a bare number.
    p = read_profile(rules, "5 ans", {"diplomas": ["deass"]}, expecting_years=True)
    assert assess_access(rules, p).kind == "eligible"


def test_other_field_experience_does_not_count(rules):
    a = assess_access(rules, profile_of(rules, "j'ai une licence et 5 ans d'expérience dans la banque"))
    assert a.kind == "not_yet"


def test_dispenses(rules):
    assert "dispense du DF3" in assess_dispenses(rules, profile_of(rules, "j'ai le CAFERUIS")).text
    assert "DF1 et du DF3" in assess_dispenses(rules, profile_of(rules, "j'ai le DSTS")).text
    assert "allègement possible" in assess_dispenses(rules, profile_of(rules, "j'ai un master")).text
    assert "aucun de vos diplômes" in assess_dispenses(rules, profile_of(rules, "je suis infirmier")).text


def test_question_shapes(rules):
    assert asks_eligibility(rules, "je peux faire le DEIS ?")
    assert asks_eligibility(rules, "c'est possible pour moi ?")
    assert asks_dispenses(rules, "j'aurai des allègements ?")
    assert not asks_eligibility(rules, "combien coûte le DEIS ?")
