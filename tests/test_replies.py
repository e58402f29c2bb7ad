"""Every decision becomes at least one message (bot.replies), and only knowledge answers carry kb_id."""
import pytest

from bot.policy_types import DECISION_KINDS, Decision


@pytest.mark.parametrize("kind", DECISION_KINDS)
@pytest.mark.parametrize("with_entries", [False, True])
def test_every_decision_kind_gives_a_reply(tiny_kb, kind, with_entries):
    from bot.replies import replies_for
    entries = [tiny_kb.get("deis.duree.total")] if with_entries else []
    d = Decision(kind, entries, topic="duree", text="texte" if kind in ("assessment", "ask_profile", "profile_noted") else "")
    replies = replies_for(tiny_kb, d)
    assert replies, kind
    tagged = [r for r in replies if r.custom and r.custom.get("kb_id")]
    assert bool(tagged) == (with_entries and kind in ("answer", "assessment"))


def test_no_info_for_general_only_is_not_silent(tiny_kb):
    from bot.replies import replies_for
    replies = replies_for(tiny_kb, Decision("no_info", no_info=["general"], topic="duree"))
    assert [r.response for r in replies] == ["utter_dont_know"]


def test_an_uncovered_formation_a_source_mentions_gets_that_mention_without_kb_id(tiny_kb):
    import dataclasses

    from bot.answering import Answerer
    from bot.kb.model import OtherMention
    from bot.policy_types import State, Turn
    from bot.replies import replies_for
    kb = dataclasses.replace(tiny_kb, other_mentions=(
        OtherMention(("licence de psycho", "licence psycho"), "Le guide la cite comme plan B.", "doc-but_cs"),))
    turn = Turn(text="la licence psycho c'est bien ?", intent="ask_definition", other_formation=True)
    d = Answerer(kb).decide(turn, State())
    replies = replies_for(kb, d)
    assert [r.response for r in replies] == ["utter_other_formation", "utter_other_formation_mention"]
    assert replies[1].values == {"mention": "Le guide la cite comme plan B.", "mention_source": "Titre but_cs"}
    assert not any(r.custom for r in replies)
    # Another uncovered formation: the plain reply only.
    d = Answerer(kb).decide(Turn(text="le BUT informatique ?", intent="ask_definition", other_formation=True), State())
    assert [r.response for r in replies_for(kb, d)] == ["utter_other_formation"]
