"""Read one parsed message (Rasa's NLU result, as the tracker keeps it) into a policy `Turn`.

Shared by the action server and `make faq-try`, so both understand a message the same way.
"""
from __future__ import annotations

from typing import Any, Optional

from bot import slots
from bot.kb.model import KnowledgeBase
from bot.policy_types import State, Turn
from bot.text import fold, is_filler_only, tokens, without_spans

_PLACE_PREPOSITIONS = {"a", "de", "d", "en", "au", "aux", "sur", "vers", "pres", "dans"}


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


def read_turn(kb: KnowledgeBase, message: dict) -> Turn:
    """A policy turn from a parsed message: intent ranking, formations, parcours, places."""
    formations: list[str] = []
    named: list[tuple[int, str, str]] = []  # (start, formation, the two folded words before its name)
    places: list[str] = []
    parcours = kb_id = None
    other = sure = False
    spans = []
    text = message.get("text") or ""
    for ent in message.get("entities") or []:
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
        elif kind == "LOC" and _after_preposition(text, ent.get("start")):
            places.append(str(value))
        elif kind in ("formation", "parcours"):
            ident = resolve(kb, kind, value)
            sure = sure or bool(ident and ent.get("confidence_entity", 1.0) >= 1.0)
            if ident and kind == "formation":
                start = ent["start"] if isinstance(ent.get("start"), int) else len(text)
                named.append((start, ident, " ".join(tokens(text[:start])[-2:])))
                if ident not in formations:
                    formations.append(ident)
            elif ident and kind == "parcours" and parcours is None:
                parcours = ident
    query = without_spans(text, spans)
    return Turn(text=text, intent=(message.get("intent") or {}).get("name"),
                ranking={r["name"]: r.get("confidence", 0.0) for r in message.get("intent_ranking") or []},
                formations=formations, parcours=parcours, kb_id=kb_id, query=query,
                names_only=bool(formations or parcours) and is_filler_only(query),
                other_formation=other, places=places, sure_formation=sure,
                named=[(f, before) for _, f, before in sorted(named)])


def _after_preposition(text: str, start: Any) -> bool:
    """spaCy's small model also tags "Bonsoir" as a place: keep places introduced as such."""
    if not isinstance(start, int):
        return False
    before = tokens(text[:start])
    return bool(before) and before[-1] in _PLACE_PREPOSITIONS


def read_state(values: dict) -> State:
    """The conversation's state from its slot values (name -> value, names in bot.slots)."""
    profile = values.get(slots.PROFILE)
    return State(formation=values.get(slots.FORMATION), parcours=values.get(slots.PARCOURS),
                 topic=values.get(slots.TOPIC), question=values.get(slots.QUESTION),
                 pending=bool(values.get(slots.PENDING)),
                 profile=dict(profile) if isinstance(profile, dict) else {},
                 answered=[str(i) for i in values.get(slots.ANSWERED) or [] if i])
