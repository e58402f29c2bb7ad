"""Reply to a message the NLU flagged as unusable (empty, too long, markup, injection…)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

ISSUES = ("empty", "too_long", "markup", "injection", "no_words", "other_language", "gibberish")


class ActionRejectInput(Action):
    def name(self) -> Text:
        return "action_reject_input"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        issue = tracker.latest_message.get("input_issue")
        dispatcher.utter_message(response=f"utter_input_{issue}" if issue in ISSUES else "utter_default")
        return []
