"""The policy's vocabulary: what it reads (`Turn`, `State`) and what it decides (`Decision`).

Plain data, no behaviour: bot.turns builds Turn and State from Rasa's parse and slots,
bot.answering decides, bot.replies turns a Decision into messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from bot.kb.model import Entry


@dataclass
class State:
    formation: Optional[str] = None
    parcours: Optional[str] = None
    topic: Optional[str] = None
    question: Optional[str] = None
    pending: bool = False
    # What the visitor said about themselves (bot.eligibility.read_profile), as the slot keeps it.
    profile: dict = field(default_factory=dict)
    # The entries of the last knowledge answer, whose detail "plus de détails" asks for.
    answered: list[str] = field(default_factory=list)


@dataclass
class Turn:
    text: str
    intent: Optional[str]
    ranking: dict[str, float] = field(default_factory=dict)
    formations: list[str] = field(default_factory=list)
    parcours: Optional[str] = None
    kb_id: Optional[str] = None
    # The message without the formation and parcours names: what is compared with entries.
    query: Optional[str] = None
    # True when the message does nothing but name a formation ("le DEIS", "et pour le master ?").
    names_only: bool = False
    # A formation the assistant does not cover is named ("le BUT informatique").
    other_formation: bool = False
    # A formation is named by one of its aliases, not only hinted at ("Rennes", "IUT").
    sure_formation: bool = False
    # Places named in the message (spaCy LOC entities).
    places: list[str] = field(default_factory=list)
    # Formations in the order they are named, each with the two folded words before its name.
    named: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Decision:
    kind: str  # answer | clarify | no_info | suggest | dont_know | decline | other_formation
    entries: list[Entry] = field(default_factory=list)
    no_info: list[str] = field(default_factory=list)
    topic: Optional[str] = None
    formation: Optional[str] = None
    parcours: Optional[str] = None
    question: Optional[str] = None
    scores: list[tuple[str, float]] = field(default_factory=list)
    # For staff (`faq-try`): the best entries before any filter, as (id, score); not used to decide.
    candidates: list[tuple[str, float]] = field(default_factory=list)
    searched: bool = False  # ranked by the all-entries search (no usable topic)
    # The entry model's probability of the first entry given (0 when none): sent with the answer.
    confidence: float = 0.0
    # assessment (entries[0] is the source entry), ask_profile, profile_noted: the text to send;
    # courtesy: the name of the domain response to send ("utter_thanks").
    text: str = ""
    # The visitor's profile after this turn (None: unchanged).
    profile: Optional[dict] = None
    # answer: the full answers were asked for ("plus de détails"): sent without the short answer.
    detail: bool = False


DECISION_KINDS = ("answer", "clarify", "no_info", "suggest", "dont_know", "decline", "other_formation",
                  "assessment", "ask_profile", "profile_noted", "courtesy")
AWAITING = "awaiting"  # profile key: the item the assistant asked for ("experience", "diploma")
