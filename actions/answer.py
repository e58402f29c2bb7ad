"""The knowledge answer: turns a `bot.answering.Decision` into messages and slot events.

Contract with the website and the outside scorer: every message built from a knowledge
entry carries a `custom` payload with `kb_id` and `sources`; no other message does.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import KnowledgeMixin
from bot.answering import Answerer, Decision, State, Turn
from bot.kb.model import Entry, KnowledgeBase
from bot.text import fold, is_filler_only, tokens, without_spans

logger = logging.getLogger(__name__)
FORMATION_ORDER = ("but_cs", "master_cmc", "deis")


def resolve(kb: KnowledgeBase, kind: str, value: Any) -> Optional[str]:
    """Map an entity value (an id, or an alias the synonym mapper left as is) to an id."""
    table = kb.formations if kind == "formation" else kb.parcours
    if value in table:
        return str(value)
    folded = fold(str(value))
    for ident, item in table.items():
        names = (*item.aliases, *getattr(item, "hints", ()))
        if any(fold(a) == folded for a in names):
            return ident
    return None


def read_turn(kb: KnowledgeBase, tracker: Tracker) -> Turn:
    msg = tracker.latest_message or {}
    formations: List[str] = []
    places: List[str] = []
    parcours = kb_id = None
    other = sure = False
    spans = []
    for ent in msg.get("entities") or []:
        kind, value = ent.get("entity"), ent.get("value")
        # Only sure names are blanked out of the words compared with entries: a hint such as
        # "CAFERUIS" is also the subject of the question.
        if kind in ("formation", "parcours") and isinstance(ent.get("start"), int) \
                and ent.get("confidence_entity", 1.0) >= 1.0:
            spans.append((ent["start"], ent["end"]))
        if kind == "kb_id":
            kb_id = str(value)
        elif kind == "other_formation":
            other = True
        elif kind == "LOC" and _after_preposition(msg.get("text") or "", ent.get("start")):
            places.append(str(value))
        elif kind in ("formation", "parcours"):
            ident = resolve(kb, kind, value)
            sure = sure or bool(ident and ent.get("confidence_entity", 1.0) >= 1.0)
            if ident and kind == "formation" and ident not in formations:
                formations.append(ident)
            elif ident and kind == "parcours" and parcours is None:
                parcours = ident
    text = msg.get("text") or ""
    query = without_spans(text, spans)
    return Turn(text=text, intent=(msg.get("intent") or {}).get("name"),
                ranking={r["name"]: r.get("confidence", 0.0) for r in msg.get("intent_ranking") or []},
                formations=formations, parcours=parcours, kb_id=kb_id, query=query,
                names_only=bool(formations or parcours) and is_filler_only(query),
                other_formation=other, places=places, sure_formation=sure)


_PLACE_PREPOSITIONS = {"a", "de", "d", "en", "au", "aux", "sur", "vers", "pres", "dans"}


def _after_preposition(text: str, start: Any) -> bool:
    """spaCy's small model also tags "Bonsoir" as a place: keep places introduced as such."""
    if not isinstance(start, int):
        return False
    before = tokens(text[:start])
    return bool(before) and before[-1] in _PLACE_PREPOSITIONS


def read_state(tracker: Tracker) -> State:
    return State(formation=tracker.get_slot("formation"), parcours=tracker.get_slot("parcours"),
                 topic=tracker.get_slot("topic"), question=tracker.get_slot("question"),
                 pending=bool(tracker.get_slot("pending")))


class ActionAnswer(KnowledgeMixin, Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = self.kb
        turn, state = read_turn(kb, tracker), read_state(tracker)
        if turn.intent == "greet":
            dispatcher.utter_message(response="utter_greet")
            if not turn.formations and not turn.parcours:
                return []
        decision = Answerer(kb).decide(turn, state)
        logger.info("decision kind=%s topic=%s formation=%s entries=%s kb=%s", decision.kind,
                    decision.topic, decision.formation, [e.id for e in decision.entries], kb.version)
        self._utter(kb, dispatcher, decision)
        return self._events(decision, state)

    def _utter(self, kb: KnowledgeBase, dispatcher: CollectingDispatcher, d: Decision) -> None:
        if d.kind == "answer":
            for e in d.entries:
                self._utter_entry(kb, dispatcher, e)
        if d.kind in ("answer", "no_info"):
            topic = kb.topics[d.topic].label if d.topic in kb.topics else ""
            for f in d.no_info:
                form = kb.formations.get(f)
                if form:
                    dispatcher.utter_message(response="utter_no_info", topic=topic, formation=form.label,
                                             where=form.where_to_ask)
        elif d.kind == "clarify":
            buttons = [{"title": kb.formations[f].short, "payload": _intent_payload("inform_formation", "formation", f)}
                       for f in FORMATION_ORDER if f in kb.formations]
            dispatcher.utter_message(response="utter_ask_formation", buttons=buttons)
        elif d.kind == "suggest":
            buttons = [{"title": e.title, "payload": _intent_payload("choose_entry", "kb_id", e.id)}
                       for e in d.entries]
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        elif d.kind == "dont_know":
            dispatcher.utter_message(response="utter_dont_know")
        elif d.kind == "decline":
            dispatcher.utter_message(response="utter_out_of_scope")
        elif d.kind == "other_formation":
            dispatcher.utter_message(response="utter_other_formation")

    @staticmethod
    def _utter_entry(kb: KnowledgeBase, dispatcher: CollectingDispatcher, e: Entry) -> None:
        titles = kb.source_titles(e)
        dispatcher.utter_message(
            response="utter_kb_answer" if len(titles) == 1 else "utter_kb_answer_many",
            answer=e.answer, sources=" ; ".join(titles),
            json_message={"kb_id": e.id, "formation": e.formation, "topic": e.topic,
                          "title": e.title, "sources": kb.source_payload(e)})

    @staticmethod
    def _events(d: Decision, state: State) -> List[Dict[Text, Any]]:
        events = []
        if d.kind in ("answer", "no_info", "clarify"):
            events += [SlotSet("topic", d.topic), SlotSet("question", d.question)]
        if d.formation and d.formation != state.formation:
            events.append(SlotSet("formation", d.formation))
        if d.kind != "clarify" and (d.parcours or None) != state.parcours:
            events.append(SlotSet("parcours", d.parcours))
        pending = d.kind == "clarify"
        if pending != state.pending:
            events.append(SlotSet("pending", pending))
        return events


def _intent_payload(intent: str, entity: str, value: str) -> str:
    return f"/{intent}{json.dumps({entity: value})}"
