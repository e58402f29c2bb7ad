"""Recognise messages that must not reach the knowledge answers.

Runs on the raw message before the NLU sees it (see bot.nlu). Returns a reason code, each
with its own French reply in the domain (`utter_input_<reason>`).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Optional

from bot.text import STOPWORDS, fold, strip_control, tokens

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>|javascript:|\{\{.*\}\}|\$\{[^}]*\}"
                  r"|\b(drop|truncate)\s+table\b|\bselect\s+\*\s+from\b|\bunion\s+select\b", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_INJECTION = re.compile(
    r"(ignore[rz]?|oublie[rz]?|disregard|ignore all)\s+(\w+\s+){0,4}"
    r"(instructions?|consignes?|regles?|prompts?|directives?|instructions precedentes)"
    r"|prompt systeme|system prompt|jailbreak|mode developpeur|developer mode"
    r"|(tu es|tu seras|vous etes) (maintenant|desormais|a partir de maintenant)"
    r"|(fais|faites) comme si tu|agis (comme|en tant que)|role ?play|nouvelles? consignes?"
    r"|(revele|affiche|montre|donne)[sz]?(-moi)? (ton|tes|votre|vos) (prompt|instructions|consignes)")
_FOREIGN = {
    "en": set("the is are what how long does do can which where who why when program degree cost much many "
              "years you your my of and for with about please hello there apply requirements job jobs school "
              "course courses get after need study".split()),
    "es": set("cuanto cuanta cuesta como donde puedo el los las una del por para hola cual cuales carrera anos "
              "duracion gracias quiero estudiar universidad tiene salidas profesionales requisitos dura hay "
              "necesito despues".split()),
    "de": set("was wie ist der die das kostet lange dauert ich kann ein eine und fur mit studium wo welche hallo "
              "bitte gibt den dem zum bei kosten jahre voraussetzungen zulassung nach brauche".split()),
    "it": set("quanto costa della sono che dove come posso anni durata corso laurea quali requisiti ciao "
              "grazie dopo".split()),
}
_SPECIAL = {"es": "¿¡ñ", "de": "ßäöü", "it": ""}
_FRENCH_ONLY = (STOPWORDS | {"formation", "diplome", "parcours", "stage", "combien", "annee", "ans", "frais",
                             "metier", "cout", "duree", "quels", "quelles", "faut", "apres"}) \
    - set().union(*_FOREIGN.values())


def _foreign(raw: str, words: list[str]) -> bool:
    french = sum(w in _FRENCH_ONLY for w in words)
    for lang, vocab in _FOREIGN.items():
        score = len({w for w in words if w in vocab}) + 2 * any(c in raw.lower() for c in _SPECIAL.get(lang, ""))
        if score >= 2 and score >= french:
            return True
    return False


def _trigrams(word: str) -> set[str]:
    padded = f"_{word}_"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def _plausible(word: str, known: frozenset[str], grams: frozenset[str]) -> bool:
    """A word we know, or one shaped like the words we know (most of its letter triples)."""
    if word in known or word in STOPWORDS or word.isdigit():
        return True
    if not re.search(r"[aeiouy]", word) or re.search(r"(.)\1\1", word) or len(word) > 25:
        return False
    tri = _trigrams(word)
    return len(tri & grams) >= 0.75 * len(tri)


def _gibberish(words: list[str], known: frozenset[str]) -> bool:
    grams = _grams_of(known)
    return not any(_plausible(w, known, grams) for w in words)


@lru_cache(maxsize=2)
def _grams_of(known: frozenset[str]) -> frozenset[str]:
    return frozenset(g for w in known | STOPWORDS for g in _trigrams(w))


def check_input(text: Optional[str], max_chars: int, known_words: Iterable[str] = ()) -> Optional[str]:
    """Reason code for a message to refuse, or None when it may go to the NLU."""
    raw = strip_control(text or "")
    if not raw.strip():
        return "empty"
    if len(raw) > max_chars:
        return "too_long"
    if _TAG.search(raw):
        return "markup"
    if _INJECTION.search(fold(raw)):
        return "injection"
    if not _LETTER.search(raw):
        return "no_words"
    words = tokens(raw)
    if _foreign(raw, words):
        return "other_language"
    known = known_words if isinstance(known_words, frozenset) else frozenset(known_words)
    if _gibberish(words, known):
        return "gibberish"
    return None


def clean_for_nlu(text: str, max_chars: int) -> str:
    """What the NLU reads: no control characters, no markup, at most max_chars characters."""
    return _TAG.sub(" ", strip_control((text or "")[:max_chars * 2]))[:max_chars]
