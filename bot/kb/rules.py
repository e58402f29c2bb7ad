"""The rules and vocabularies the assistant reasons with (`knowledge/rules.yml`), validated.

Facts live in the entries; this file says how a question is read: which formation the parcours
belong to, which topics are site-specific, which words make a formation the origin of a
question, and which answer types (a price, a phone number…) an entry must hold to answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from bot.text import STOPWORDS, compile_patterns, fold, tokens


@dataclass(frozen=True)
class AnswerType:
    id: str
    asked: tuple[re.Pattern, ...]
    value: tuple[re.Pattern, ...]

    def is_asked(self, folded_question: str) -> bool:
        return any(p.search(folded_question) for p in self.asked)

    def held_by(self, folded_answer: str) -> bool:
        return any(p.search(folded_answer) for p in self.value)


@dataclass(frozen=True)
class QuantityUnit:
    """"Combien de semaines ?" needs a number of weeks: the unit is read from the question."""

    asked: Optional[re.Pattern] = None
    generic: frozenset[str] = frozenset()
    numbers: str = r"\d+"
    synonyms: tuple[frozenset[str], ...] = ()

    def pattern(self, folded_question: str) -> Optional[re.Pattern]:
        """The pattern an answer must match, or None when no precise unit is asked."""
        m = self.asked.search(folded_question) if self.asked else None
        if not m or m.group("unit") in self.generic:
            return None
        unit = m.group("unit")
        forms = next((s for s in self.synonyms if unit in s), {unit, unit.rstrip("s"), unit.rstrip("s") + "s"})
        alternatives = "|".join(sorted((re.escape(f) for f in forms), key=len, reverse=True))
        return re.compile(rf"\b{self.numbers}(?:\W+\w+){{0,2}}?\W*(?:{alternatives})(?!\w)")


@dataclass(frozen=True)
class Rules:
    """Empty by default: a base built in Python (tests) reasons with no rule unless given some."""

    parcours_formation: str = ""
    parcours_topics: frozenset[str] = frozenset()
    term_topics: frozenset[str] = frozenset()
    site_topics: frozenset[str] = frozenset()
    known_places: frozenset[str] = frozenset()
    origin_before_name: frozenset[str] = frozenset()
    origin_after_destination: frozenset[str] = frozenset()
    origin_topic: str = ""
    destination_topics: tuple[str, ...] = ()
    meaning_words: frozenset[str] = frozenset()
    courtesy: tuple[tuple[str, frozenset[str]], ...] = ()  # (response, its words), in file order
    follow_up_starts: tuple[str, ...] = ()
    follow_up_max_words: int = 0
    answer_types: tuple[AnswerType, ...] = field(default=())
    quantity_unit: QuantityUnit = field(default_factory=QuantityUnit)

    def courtesy_reply(self, text: str) -> Optional[str]:
        """The response for a message of courtesy words only ("merci, bonne soirée"), else None."""
        known = frozenset().union(*(v for _, v in self.courtesy)) if self.courtesy else frozenset()
        words = set(tokens(text)) - (STOPWORDS - known)
        if not words or not words <= known:
            return None
        return next((response for response, vocabulary in self.courtesy if words & vocabulary), None)

    def is_follow_up(self, text: str) -> bool:
        """A short message that continues the current subject ("et le jeudi aprem ?")."""
        words = fold(text).replace("'", " ").split()
        content = [w for w in words if w.isalnum()]
        return len(content) <= self.follow_up_max_words + 1 and any(
            words[:len(s.split())] == s.split() for s in self.follow_up_starts)

    def asked_types(self, question: str, units: bool = True) -> list[AnswerType]:
        folded = fold(question).replace("'", " ")
        types = [t for t in self.answer_types if t.is_asked(folded)]
        unit = self.quantity_unit.pattern(folded) if units else None
        if unit is not None:
            types.append(AnswerType("quantite_unite", (), (unit,)))
        return types


def _words(value: Any) -> frozenset[str]:
    return frozenset(fold(str(v)) for v in (value or ()) if str(v).strip())


def build_rules(doc: Any, topics: set[str], formations: set[str],
                problem: Callable[..., None]) -> Rules:
    """Rules from the parsed file; `problem(key, **values)` reports what is wrong (bot.kb.messages)."""
    if not isinstance(doc, dict):
        if doc is not None:
            problem("not_mapping")
        return Rules()

    def topic_list(key: str) -> tuple[str, ...]:
        values = tuple(str(t) for t in doc.get(key) or ())
        for t in values:
            if t not in topics:
                problem("unknown_topic", value=t, allowed=sorted(topics))
        return values

    origin = doc.get("origin") if isinstance(doc.get("origin"), dict) else {}
    parcours_formation = str(doc.get("parcours_formation") or "")
    if parcours_formation and parcours_formation not in formations:
        problem("unknown_formation", value=parcours_formation, allowed=sorted(formations))
    origin_topic = str(origin.get("origin_topic") or "")
    if origin_topic and origin_topic not in topics:
        problem("unknown_topic", value=origin_topic, allowed=sorted(topics))
    types = []
    raw_types = doc.get("answer_types") if isinstance(doc.get("answer_types"), dict) else {}
    for tid, spec in raw_types.items():
        if str(tid).startswith("__"):
            continue
        spec = spec if isinstance(spec, dict) else {}  # noqa: PLW2901 - a malformed spec counts as empty
        types.append(AnswerType(str(tid), compile_patterns(spec.get("asked"), f"answer_types.{tid}.asked", problem),
                                compile_patterns(spec.get("value"), f"answer_types.{tid}.value", problem)))
    qdoc = doc.get("quantity_unit") if isinstance(doc.get("quantity_unit"), dict) else {}
    quantity_unit = QuantityUnit()
    if qdoc:
        asked = compile_patterns([qdoc.get("asked")], "quantity_unit.asked", problem)
        if asked and "unit" not in asked[0].groupindex:
            problem("bad_pattern", value=qdoc.get("asked"), where="quantity_unit.asked", detail="(?P<unit>…) manquant")
        quantity_unit = QuantityUnit(asked[0] if asked else None, _words(qdoc.get("generic")),
                                     str(qdoc.get("numbers") or r"\d+"),
                                     tuple(frozenset(fold(str(w)) for w in group)
                                           for group in qdoc.get("synonyms") or () if isinstance(group, list)))
    return Rules(
        quantity_unit=quantity_unit,
        parcours_formation=parcours_formation,
        parcours_topics=frozenset(topic_list("parcours_topics")),
        term_topics=frozenset(topic_list("term_topics")),
        site_topics=frozenset(topic_list("site_topics")),
        known_places=_words(doc.get("known_places")),
        origin_before_name=_words(origin.get("before_name")),
        origin_after_destination=_words(origin.get("after_destination")),
        origin_topic=origin_topic,
        destination_topics=tuple(t for t in (str(x) for x in origin.get("destination_topics") or ()) if t in topics),
        meaning_words=_words(doc.get("meaning_words")),
        courtesy=tuple((str(k), _words(v)) for k, v in
                       (doc.get("courtesy") if isinstance(doc.get("courtesy"), dict) else {}).items()
                       if not str(k).startswith("__")),
        follow_up_starts=tuple(fold(str(w)).replace("'", " ") for w in doc.get("follow_up_starts") or ()),
        follow_up_max_words=int(doc.get("follow_up_max_words") or 0),
        answer_types=tuple(types),
    )

