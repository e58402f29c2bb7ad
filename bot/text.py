"""Text normalisation shared by search, mention matching and input checks.

Visitors write without accents, in SMS style and with typos, so every comparison happens
on folded text: lower case, no accents, plain apostrophes, single spaces.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Callable

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-",
                              "\u00a0": " ", "\u202f": " ", "œ": "oe", "æ": "ae"})
_TOKEN = re.compile(r"[a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")

# Function words and question words: they say nothing about the topic of a question.
STOPWORDS = frozenset("""
a au aux avec ce ces c ca cela celle celui cet cette d dans de des du elle elles en et est etre
eux il ils j je l la le les leur leurs lui m ma mais me meme mes moi mon n ne nos notre nous o on
ou par pas pour qu que qui s sa se ses son sur t ta te tes toi ton tu un une vos votre vous y
quoi quel quelle quels quelles comment combien pourquoi quand ou est-ce esque ya il-y-a
suis es sommes etes sont ai as avons avez ont fait faire faut peut peux puis pouvez veux voudrais
bonjour salut svp stp merci bien tres plus moins aussi alors donc si oui non bah ben hey
c koi kesako cb cmb jpeux jveux chui g pk pq ptdr mdr lol
""".split())


@lru_cache(maxsize=65536)  # the same entry texts are folded again at every (re)load of the base
def fold(text: str) -> str:
    """Lower-case, strip accents and unify punctuation; keeps word boundaries."""
    text = text.translate(_APOSTROPHES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"\s+", " ", text).strip()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def content_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in STOPWORDS and len(t) > 1]


def strip_control(text: str) -> str:
    """Remove control and invisible formatting characters, keep newlines and tabs as spaces."""
    return _CONTROL.sub("", text.replace("\t", " ").replace("\r", " "))


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Like fold() but without collapsing spaces, plus the original index of each output char."""
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        f = unicodedata.normalize("NFKD", ch.translate(_APOSTROPHES))
        f = "".join(c for c in f if not unicodedata.combining(c)).lower()
        out.append(f)
        offsets.extend([i] * len(f))
    offsets.append(len(text))
    return "".join(out), offsets


# Words that add nothing when a message only names a formation ("et pour le master alors ?").
FILLER = STOPWORDS | frozenset("""
plutot celui celle ceux parle parlons concernant sujet question formation diplome interesse
interessee renseigner renseignements infos info information informations aimerais savoir
choisis choix prends option alors ok okay daccord du coup ah euh hum voila cas propos niveau
""".split())


def without_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given character spans blanked out."""
    out = text
    for start, end in sorted(spans, reverse=True):
        out = out[:start] + " " + out[end:]
    return " ".join(out.split())


def is_filler_only(text: str) -> bool:
    return all(t in FILLER or len(t) <= 1 for t in tokens(text))


def compile_patterns(values: Any, where: str, problem: Callable[..., None]) -> tuple[re.Pattern, ...]:
    """The regular expressions of a list in a knowledge file; a bad or missing one is reported."""
    out = []
    for v in values if isinstance(values, list) else []:
        try:
            out.append(re.compile(str(v)))
        except re.error as exc:
            problem("bad_pattern", value=v, where=where, detail=str(exc))
    if not out:
        problem("missing", field=where)
    return tuple(out)
