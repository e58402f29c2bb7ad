"""Readability warnings on the entries' texts (`knowledge/readability.yml`), for `faq-check`.

Only warnings: an answer that is long, a sentence that runs on, or an acronym used without its
meaning is a reason for staff to rewrite, never a reason to refuse the knowledge base.
Pure: the settings are passed in already read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.kb.checks import WARNING, Collector
from bot.kb.model import Entry
from bot.text import fold

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")


@dataclass(frozen=True)
class Readability:
    answer_chars: int = 900
    sentence_words: int = 40
    acronyms: dict[str, str] = field(default_factory=dict)  # acronym -> its expansion, as written


def build_readability(doc: Any, report) -> Readability:
    """Readability settings from the file's content; `report(key, **kw)` receives problems."""
    if doc is None:
        return Readability()
    if not isinstance(doc, dict):
        report("not_mapping_file", name="readability")
        return Readability()
    values = {}
    for key in ("answer_chars", "sentence_words"):
        if key in doc:
            if isinstance(doc[key], int) and not isinstance(doc[key], bool) and doc[key] > 0:
                values[key] = doc[key]
            else:
                report("rule_not_positive", name=key, value=doc[key])
    acronyms = doc.get("acronyms") or {}
    if not isinstance(acronyms, dict):
        report("not_mapping_file", name="readability.acronyms")
        acronyms = {}
    return Readability(acronyms={str(k): str(v).strip() for k, v in acronyms.items() if v}, **values)


def check_readability(entries: list[Entry], settings: Readability, out: Collector) -> None:
    """Warn on answers over `answer_chars`, sentences over `sentence_words` words, and acronyms
    of the list used in an answer that neither spells them out nor explains them in brackets."""
    for e in entries:
        path = Path(e.file)
        if len(e.answer) > settings.answer_chars:
            out.add(path, e.line, e.id, "long_answer", WARNING, length=len(e.answer), limit=settings.answer_chars)
        longest = max((s for s in _SENTENCE_END.split(e.answer) if s), key=lambda s: len(s.split()), default="")
        if len(longest.split()) > settings.sentence_words:
            out.add(path, e.line, e.id, "long_sentence", WARNING, words=len(longest.split()),
                    limit=settings.sentence_words, start=" ".join(longest.split()[:8]))
        for acronym in unexplained_acronyms(e.short + "\n" + e.answer, settings.acronyms):
            out.add(path, e.line, e.id, "unexplained_acronym", WARNING, value=acronym,
                    meaning=settings.acronyms[acronym])


def unexplained_acronyms(text: str, acronyms: dict[str, str]) -> list[str]:
    folded = fold(text)
    found = []
    for acronym, meaning in acronyms.items():
        uses = list(re.finditer(rf"(?<!\w)(?<!\w\.){re.escape(acronym)}(?!\w|\.\w)", text))
        if not uses or fold(meaning) in folded:
            continue
        if any(text[u.end():u.end() + 2].lstrip().startswith("(") for u in uses):
            continue
        found.append(acronym)
    return found
