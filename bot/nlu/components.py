"""Rasa NLU graph components of the assistant.

- `InputSanitizer` (first): flags bad input on the raw text, then caps its length and strips
  control characters and markup so the rest of the pipeline reads a bounded, clean text.
- `KnowledgeEntityExtractor`: tags `formation` and `parcours` using the knowledge base's
  aliases (accent- and typo-tolerant); EntitySynonymMapper then maps aliases to ids.
- `InputGuard` (last): turns a flagged message into the `invalid_input` intent, so a bad
  message never receives a knowledge answer whatever the classifier thought.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.config import load_settings
from bot.inputcheck import check_input, clean_for_nlu
from bot.kb.store import get_kb
from bot.lexicon import known_words
from bot.mentions import MentionFinder

INPUT_ISSUE = "input_issue"
INVALID_INTENT = "invalid_input"
FLAGGED_CHARS = 80


class _Stateless(GraphComponent):
    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = config

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class InputSanitizer(_Stateless):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": None}

    def _max(self) -> int:
        return int(self.config.get("max_chars") or load_settings().max_message_chars)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        limit = self._max()
        for message in messages:
            text = message.get(TEXT) or ""
            issue = check_input(text, limit, known_words(get_kb()))
            cleaned = clean_for_nlu(text, limit)
            if issue:
                message.set(INPUT_ISSUE, issue, add_to_output=True)
                # InputGuard replaces a flagged message's intent and entities whatever the
                # pipeline finds: spaCy, DIET and the alias matcher need only a little of its
                # text (a 1 000-character one took ~200 ms of NLU for nothing, see make bench).
                cleaned = cleaned[:FLAGGED_CHARS]
            message.set(TEXT, cleaned)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class KnowledgeEntityExtractor(_Stateless, EntityExtractorMixin):
    _finder: Optional[MentionFinder] = None

    def _mentions(self) -> MentionFinder:
        kb = get_kb()
        if self._finder is None or self._finder_version != kb.version:
            self._finder, self._finder_version = MentionFinder(kb), kb.version
        return self._finder

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = [{"entity": m.kind, "value": m.alias, "start": m.start, "end": m.end,
                      "confidence_entity": 1.0 if m.strong else 0.6}
                     for m in self._mentions().find(message.get(TEXT) or "")]
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found),
                        add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class InputGuard(_Stateless):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(INPUT_ISSUE):
                message.set(INTENT, {"name": INVALID_INTENT, "confidence": 1.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [{"name": INVALID_INTENT, "confidence": 1.0}],
                            add_to_output=True)
                message.set(ENTITIES, [], add_to_output=True)
        return messages
