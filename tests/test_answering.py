"""The dialogue policy (`bot.answering`) on a tiny knowledge base."""
from bot.answering import Answerer
from bot.policy_types import State, Turn


def decide(kb, text, intent, state=None, conf=0.9, **kw):
    ranking = kw.pop("ranking", {intent: conf} if intent else {})
    return Answerer(kb).decide(Turn(text=text, intent=intent, ranking=ranking, **kw), state or State())


def test_answers_topic_for_named_formation(tiny_kb):
    d = decide(tiny_kb, "combien de temps dure le DEIS ?", "ask_duree", formations=["deis"])
    assert d.kind == "answer" and [e.id for e in d.entries] == ["deis.duree.total"]
    assert d.formation == "deis" and d.topic == "duree"


def test_ranks_entries_of_the_topic_against_the_words(tiny_kb):
    d = decide(tiny_kb, "et si je paie moi-même ?", "ask_frais", State(formation="deis"))
    assert [e.id for e in d.entries] == ["deis.frais.remise"]


def test_clarifies_when_formation_unknown(tiny_kb):
    d = decide(tiny_kb, "ça dure combien ?", "ask_duree")
    assert d.kind == "clarify" and d.topic == "duree" and d.question == "ça dure combien ?"


def test_pending_question_answered_once_formation_given(tiny_kb):
    state = State(topic="frais", question="combien coûtent les frais de sélection ?", pending=True)
    d = decide(tiny_kb, "le deis", "inform_formation", state, formations=["deis"])
    assert [e.id for e in d.entries] == ["deis.frais.selection"]


def test_follow_up_keeps_formation_slot(tiny_kb):
    d = decide(tiny_kb, "et la durée ?", "ask_duree", State(formation="master_cmc", topic="frais"))
    assert [e.id for e in d.entries] == ["master_cmc.duree.total"]


def test_new_formation_replaces_previous_and_keeps_topic(tiny_kb):
    state = State(formation="deis", topic="duree", question="ça dure combien ?")
    d = decide(tiny_kb, "et pour le master ?", "inform_formation", state, formations=["master_cmc"])
    assert [e.id for e in d.entries] == ["master_cmc.duree.total"] and d.formation == "master_cmc"


def test_no_info_never_borrows_another_formation(tiny_kb):
    state = State(formation="deis", topic="frais", question="frais de sélection du DEIS ?")
    d = decide(tiny_kb, "et pour le BUT ?", "inform_formation", state, formations=["but_cs"])
    assert d.kind == "no_info" and d.entries == [] and d.no_info == ["but_cs"]


def test_keyword_identifies_formation_without_asking(tiny_kb):
    d = decide(tiny_kb, "le CV doit faire combien de pages ?", "ask_admission")
    assert [e.id for e in d.entries] == ["deis.admission.cv"]


def test_topic_not_needing_formation_uses_the_only_one(tiny_kb):
    d = decide(tiny_kb, "c'est quoi le rgpd", "ask_glossaire")
    assert [e.id for e in d.entries] == ["but_cs.glossaire.rgpd"]


def test_parcours_named_prefers_its_entry_and_implies_but(tiny_kb):
    d = decide(tiny_kb, "le parcours VTD c'est quoi", "ask_parcours", parcours="vtd")
    assert [e.id for e in d.entries] == ["but_cs.parcours.vtd"] and d.parcours == "vtd"


def test_parcours_dropped_when_formation_changes(tiny_kb):
    state = State(formation="but_cs", parcours="vtd", topic="parcours", question="x")
    d = decide(tiny_kb, "et le DEIS ça dure combien", "ask_duree", state, formations=["deis"])
    assert d.parcours is None


def test_two_formations_use_comparison_entry(tiny_kb):
    d = decide(tiny_kb, "entre le master et le DEIS lequel est le plus court ?", "ask_duree",
               formations=["master_cmc", "deis"])
    assert [e.id for e in d.entries] == ["general.duree.comparaison"]


def test_fallback_search_suggests_or_says_unknown(tiny_kb):
    d = decide(tiny_kb, "prix sélection", "nlu_fallback", ranking={"nlu_fallback": 0.45, "ask_frais": 0.1})
    assert d.kind in ("answer", "suggest") and d.entries[0].id == "deis.frais.selection"
    d = decide(tiny_kb, "zorglub wibble", "nlu_fallback", ranking={"nlu_fallback": 0.45})
    assert d.kind == "dont_know" and d.entries == []


def test_button_choice_answers_that_entry(tiny_kb):
    d = decide(tiny_kb, '/choose_entry{"kb_id": "deis.admission.cv"}', "choose_entry", kb_id="deis.admission.cv")
    assert [e.id for e in d.entries] == ["deis.admission.cv"] and d.formation == "deis"


def test_other_formation_is_not_answered_with_ours(tiny_kb):
    d = decide(tiny_kb, "le programme du BUT informatique ?", "ask_duree", other_formation=True)
    assert d.kind == "other_formation" and d.entries == []


def test_site_facts_are_not_given_for_another_town(tiny_kb):
    d = decide(tiny_kb, "frais de sélection du DEIS à Lyon ?", "ask_frais", formations=["deis"], places=["Lyon"])
    assert d.kind == "no_info" and d.no_info == ["deis"] and d.entries == []
    d = decide(tiny_kb, "frais de sélection du DEIS en France ?", "ask_frais", formations=["deis"], places=["France"])
    assert d.kind == "answer"


def test_how_much_question_needs_a_figure(tiny_kb):
    d = decide(tiny_kb, "le rgpd, combien de sanctions ?", "ask_glossaire", formations=["but_cs"])
    assert d.kind == "no_info"
    d = decide(tiny_kb, "le rgpd c'est quoi ?", "ask_glossaire", formations=["but_cs"])
    assert d.kind == "answer"


def test_elliptical_follow_up_keeps_the_subject(tiny_kb):
    state = State(formation="deis", topic="frais", question="frais de sélection ?")
    d = decide(tiny_kb, "et si je paie moi-même ?", "nlu_fallback", state, ranking={"nlu_fallback": 0.45})
    assert [e.id for e in d.entries] == ["deis.frais.remise"]


def test_out_of_scope_declines_unless_the_in_domain_score_says_a_question(tiny_kb):
    from bot.nlu_models import DomainModel
    d = decide(tiny_kb, "écris-moi un poème sur le DEIS", "out_of_scope", formations=["deis"],
               ranking={"out_of_scope": 0.97, "ask_duree": 0.02})
    assert d.kind == "decline" and d.entries == []
    turn = Turn(text="le DEIS s'étale sur combien de temps ?", intent="out_of_scope", formations=["deis"],
                ranking={"out_of_scope": 0.55, "ask_duree": 0.4}, sure_formation=True)
    assert Answerer(tiny_kb).decide(turn, State()).kind != "answer"  # no detector: DIET decides
    detector = DomainModel({"ask_duree": ["combien de temps dure la formation ?", "ça dure combien de temps ?",
                                          "la formation s'étale sur combien d'années ?"],
                            "out_of_scope": ["écris-moi un poème", "quel temps fait-il ?", "raconte une blague"]})
    d = Answerer(tiny_kb, domain_model=detector).decide(turn, State())
    assert [e.id for e in d.entries] == ["deis.duree.total"]


def test_two_close_entries_are_both_given(tiny_kb):
    d = decide(tiny_kb, "et niveau argent ?", "ask_frais", formations=["deis"])
    assert {e.id for e in d.entries} == {"deis.frais.selection", "deis.frais.remise"}
    assert all(e.formation == "deis" for e in d.entries)
