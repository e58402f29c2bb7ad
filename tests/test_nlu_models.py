"""The linear models beside DIET (bot.nlu_models): the topic model, the in-domain detector, the
one refusal rule (`second_opinion`), and the policy rules added with them (real knowledge base)."""
import pytest

from bot.answering import Answerer
from bot.config import ROOT
from bot.kb.loader import load_knowledge_base
from bot.mentions import strip_names
from bot.nlu_models import IN_DOMAIN_MIN, TOPIC_WEIGHT, DomainModel, TopicModel, second_opinion
from bot.policy_types import State, Turn

EXAMPLES = {
    "ask_frais": ["combien coûte la formation ?", "quel est le prix ?", "les frais d'inscription",
                  "c'est payant ?", "tarif de la formation", "ça coûte cher ?", "prix de l'année"],
    "ask_duree": ["combien de temps dure la formation ?", "ça dure combien d'années ?", "durée du cursus",
                  "la formation dure longtemps ?", "en combien de temps on l'obtient", "nombre d'années"],
    "greet": ["bonjour", "salut"],  # not a topic: left out of the topic model
    "out_of_scope": ["quel temps fait-il demain ?", "raconte-moi une blague", "recette de crêpes",
                     "qui a gagné le match ?", "écris un poème", "mon téléphone est cassé", "quel film ce soir ?"],
}


@pytest.fixture(scope="module")
def model():
    return TopicModel(EXAMPLES)


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base(ROOT / "knowledge")


def test_probabilities_cover_only_the_topic_intents(model):
    p = model.proba("quel est le prix de la formation ?")
    assert set(p) == {"ask_frais", "ask_duree"}
    assert sum(p.values()) == pytest.approx(1.0)
    assert max(p, key=p.get) == "ask_frais"


def test_blend_redistributes_only_the_topics_share(model):
    ranking = {"ask_duree": 0.6, "ask_frais": 0.2, "out_of_scope": 0.2}
    out = model.blend("le prix de la formation ?", ranking)
    assert out["out_of_scope"] == 0.2  # never turns an off-topic message into a question
    assert out["ask_frais"] + out["ask_duree"] == pytest.approx(0.8)
    assert out["ask_frais"] > out["ask_duree"]  # the model's opinion outweighs DIET's mistake
    assert out["ask_duree"] >= (1 - TOPIC_WEIGHT) * 0.6
    # Nothing to redistribute: the ranking is kept as it is.
    assert model.blend("merci", {"thanks": 0.9, "out_of_scope": 0.1}) == {"thanks": 0.9, "out_of_scope": 0.1}


def test_a_model_without_two_topics_gives_uniform_probabilities():
    assert TopicModel({"ask_frais": ["prix ?"]}).proba("prix") == {"ask_frais": 1.0}
    assert TopicModel({}).proba("prix") == {}


def _turn(kb, text, intent, formations=(), ranking=None, **kw):
    return Turn(text=text, intent=intent, ranking=ranking or {intent: 0.9}, formations=list(formations),
                query=strip_names(kb, text), sure_formation=bool(formations), **kw)


def test_the_topic_model_corrects_diet_on_topic_intents_only(kb, model):
    t = _turn(kb, "le prix de la formation ?", "ask_duree", ["deis"], ranking={"ask_duree": 0.6, "ask_frais": 0.4})
    assert second_opinion(t, model, None).intent == "ask_frais"
    assert second_opinion(t, None, None).intent == "ask_duree"  # no model: DIET alone
    t = _turn(kb, "le prix de la formation ?", "out_of_scope", ["deis"], ranking={"out_of_scope": 0.7, "ask_duree": 0.3})
    assert second_opinion(t, model, None).intent == "out_of_scope"


@pytest.fixture(scope="module")
def detector():
    return DomainModel(EXAMPLES)


def test_the_in_domain_detector_tells_questions_from_off_topic_messages(detector):
    assert detector.probability("combien coûte la formation ?") > 0.5
    assert detector.probability("raconte-moi une blague sur la météo") < 0.5
    # The score is the mean with DIET's probability of a question topic.
    p = detector.probability("combien coûte la formation ?")
    assert detector.score("combien coûte la formation ?", {"ask_frais": 0.5, "out_of_scope": 0.5}) == pytest.approx((p + 0.5) / 2)


def test_one_refusal_rule_whatever_diet_said(kb, model, detector):
    # DIET hesitates towards "out of scope" on a question: the in-domain score makes it a question.
    t = _turn(kb, "combien coûte la formation ?", "out_of_scope", ranking={"out_of_scope": 0.55, "ask_frais": 0.45})
    read = second_opinion(t, model, detector)
    assert detector.score(t.text, t.ranking) >= IN_DOMAIN_MIN
    assert read.intent == "ask_frais" and read.ranking["out_of_scope"] == 0.0
    # DIET calls a joke request a question: the score is low, so it is out of scope.
    t = _turn(kb, "raconte-moi une blague", "ask_duree", ranking={"ask_duree": 0.3, "out_of_scope": 0.7})
    read = second_opinion(t, model, detector)
    assert detector.score(t.text, t.ranking) < IN_DOMAIN_MIN and read.intent == "out_of_scope"
    assert Answerer(kb, None, model, detector).decide(t, State()).kind == "decline"
    # Greetings, "plus de détails" and buttons are read as DIET says.
    for intent, kb_id in (("greet", None), ("ask_detail", None), ("ask_frais", "deis.frais.selection")):
        t = _turn(kb, "/x", intent, ranking={intent: 0.2, "out_of_scope": 0.8}, kb_id=kb_id)
        assert second_opinion(t, model, detector) == t


def test_the_action_and_faq_try_use_the_models_of_the_training_data():
    from bot.lexicon import answerer_for, nlu_models
    topics, domain = nlu_models()
    a = answerer_for(load_knowledge_base(ROOT / "knowledge"))
    assert a.topic_model is topics and a.domain_model is domain
    assert "ask_frais" in topics.proba("combien coûte le DEIS ?")
    assert domain.probability("combien coûte le DEIS ?") > domain.probability("quel temps fait-il à Brest ?")


def test_only_a_name_keeps_a_topic_the_nlu_is_sure_of(kb):
    # "ingénieur social" names the DEIS, but the question is about the job, not the diploma.
    t = _turn(kb, "C'est quoi un ingénieur social ?", "ask_metier", ["deis"], ranking={"ask_metier": 0.98},
              names_only=True)
    d = Answerer(kb).decide(t, State())
    assert d.kind == "answer" and d.topic == "metier" and d.entries[0].topic == "metier"
    # "et pour le DEIS ?" after a question still asks that question again.
    t = _turn(kb, "et pour le DEIS ?", "ask_definition", ["deis"], ranking={"ask_definition": 0.98}, names_only=True)
    d = Answerer(kb).decide(t, State(topic="duree", question="ça dure combien de temps ?", formation="master_cmc"))
    assert d.topic == "duree" and d.entries[0].formation == "deis"


def test_the_meaning_of_a_parcours_named_with_its_formation(kb):
    t = _turn(kb, "VTD en BUT CS ça veut dire quoi ?", "ask_glossaire", ["but_cs"], parcours="vtd")
    d = Answerer(kb).decide(t, State())
    assert d.kind == "answer" and "but_cs.glossaire.cs" not in [e.id for e in d.entries]
    assert any("villes et territoires durables" in e.answer.lower() for e in d.entries)


def test_how_much_someone_is_paid_needs_an_amount(kb):
    t = _turn(kb, "Combien est payé un alternant en BUT carrières sociales ?", "ask_stage", ["but_cs"])
    d = Answerer(kb).decide(t, State())
    assert d.kind == "no_info" and not d.entries
    # Whether the alternance is paid is still answered.
    t = _turn(kb, "l'alternance en BUT carrières sociales est-elle rémunérée ?", "ask_stage", ["but_cs"])
    assert Answerer(kb).decide(t, State()).kind == "answer"


def test_how_the_but_is_assessed_is_answered_from_the_guide(kb):
    t = _turn(kb, "Comment est-on évalué en BUT carrières sociales ?", "ask_evaluation", ["but_cs"])
    d = Answerer(kb).decide(t, State())
    assert d.kind == "answer" and d.entries[0].id == "but_cs.evaluation.modalites"
    assert "règlement" in d.entries[0].answer  # says what the guide does not give
