"""The knowledge answer: runs the policy (`bot.answering`) on the latest message and sends the
messages `bot.replies` builds for its decision, then sets the conversation's slots."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import KnowledgeMixin
from bot import slots
from bot.eligibility import read_profile
from bot.lexicon import answerer_for
from bot.policy_types import Decision, State
from bot.replies import replies_for
from bot.turns import read_state, read_turn

logger = logging.getLogger(__name__)


class ActionAnswer(KnowledgeMixin, Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = self.kb
        turn = read_turn(kb, tracker.latest_message or {})
        state = read_state({name: tracker.get_slot(name) for name in slots.ALL})
        if turn.intent == "greet":
            dispatcher.utter_message(response="utter_greet")
            # "bonjour, je suis éducatrice" or "bonjour, le DEIS ?": the greeting, then the rest.
            if not turn.formations and not turn.parcours and not read_profile(kb.eligibility, turn.text):
                return []
        decision = answerer_for(kb).decide(turn, state)
        logger.info("decision kind=%s topic=%s formation=%s entries=%s kb=%s", decision.kind,
                    decision.topic, decision.formation, [e.id for e in decision.entries], kb.version)
        for reply in replies_for(kb, decision):
            dispatcher.utter_message(response=reply.response, buttons=reply.buttons or None,
                                     json_message=reply.custom, **reply.values)
        return self._events(decision, state)

    @staticmethod
    def _events(d: Decision, state: State) -> List[Dict[Text, Any]]:
        events = []
        if d.kind in ("answer", "no_info", "clarify", "assessment", "ask_profile"):
            events += [SlotSet(slots.TOPIC, d.topic), SlotSet(slots.QUESTION, d.question)]
        if d.formation and d.formation != state.formation:
            events.append(SlotSet(slots.FORMATION, d.formation))
        if d.kind != "clarify" and (d.parcours or None) != state.parcours:
            events.append(SlotSet(slots.PARCOURS, d.parcours))
        if d.profile is not None and d.profile != state.profile:
            events.append(SlotSet(slots.PROFILE, d.profile))
        if d.kind in ("answer", "assessment") and d.entries:
            answered = [e.id for e in d.entries]
            if answered != state.answered:
                events.append(SlotSet(slots.ANSWERED, answered))
        pending = d.kind == "clarify"
        if pending != state.pending:
            events.append(SlotSet(slots.PENDING, pending))
        return events
