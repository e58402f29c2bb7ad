"""Plain data classes of the knowledge base and its read-only query interface."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Optional

from bot.kb.rules import Rules

if TYPE_CHECKING:
    from bot.eligibility import Eligibility
from bot.text import tokens

GENERAL = "general"


@dataclass(frozen=True)
class SourceDoc:
    id: str
    title: str
    formation: str
    provenance: str
    file: str
    url: Optional[str] = None
    # "document": one of the source texts; "service": answers written by the admissions staff,
    # each entry then names its author.
    kind: str = "document"


@dataclass(frozen=True)
class SourceRef:
    doc: str
    section: str = ""
    author: str = ""


@dataclass(frozen=True)
class Formation:
    id: str
    label: str
    short: str
    where_to_ask: str
    aliases: tuple[str, ...]
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parcours:
    id: str
    label: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class OtherMention:
    """What a source says of a formation the assistant does not cover (knowledge/formations.yml)."""
    names: tuple[str, ...]
    text: str
    source: str
    section: str = ""


@dataclass(frozen=True)
class Topic:
    id: str
    label: str
    needs_formation: bool
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    id: str
    formation: str
    topic: str
    title: str
    answer: str
    sources: tuple[SourceRef, ...]
    questions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    parcours: Optional[str] = None
    file: str = ""
    line: int = 0
    reviewed: Optional[date] = None
    expires: Optional[date] = None
    # What a visitor sees first: one or two sentences holding the fact asked (empty when the whole
    # answer is that short already). The full `answer` is the detail, sent when asked.
    short: str = ""

    @property
    def has_detail(self) -> bool:
        return bool(self.short) and self.short != self.answer


@dataclass
class KnowledgeBase:
    """Read-only view over validated entries; what actions and search depend on."""

    formations: dict[str, Formation]
    parcours: dict[str, Parcours]
    topics: dict[str, Topic]
    sources: dict[str, SourceDoc]
    entries: tuple[Entry, ...]
    version: str = ""
    other_formations: tuple[str, ...] = ()
    other_mentions: tuple[OtherMention, ...] = ()
    # Non-blocking findings of the validation: review warnings, and expired entries left out.
    warnings: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    # How questions are read (knowledge/rules.yml): answer types, origin words, site topics…
    rules: Rules = field(default_factory=Rules)
    # Who can apply, and the diploma table (knowledge/eligibility.yml); None when absent.
    eligibility: Optional["Eligibility"] = None
    _by_id: dict[str, Entry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {e.id: e for e in self.entries}

    def get(self, entry_id: str) -> Optional[Entry]:
        return self._by_id.get(entry_id)

    def formations_with_topic(self, topic: str) -> list[str]:
        return sorted({e.formation for e in self.entries if e.topic == topic and e.formation != GENERAL})

    def source_titles(self, entry: Entry) -> list[str]:
        seen: list[str] = []
        for ref in entry.sources:
            title = self.sources[ref.doc].title
            if title not in seen:
                seen.append(title)
        return seen

    def source_payload(self, entry: Entry) -> list[dict]:
        out = []
        for ref in entry.sources:
            doc = self.sources[ref.doc]
            item = {"doc": doc.id, "title": doc.title, "section": ref.section}
            if ref.author:
                item["author"] = ref.author
            if doc.url:
                item["url"] = doc.url
            out.append(item)
        return out

    @cached_property
    def entries_by_word(self) -> dict[str, list[Entry]]:
        """Folded word -> the entries whose title, answer, questions or keywords contain it."""
        index: dict[str, list[Entry]] = {}
        for e in self.entries:
            for word in set(tokens(" ".join((e.title, e.answer, *e.questions, *e.keywords)))):
                index.setdefault(word, []).append(e)
        return index

    @cached_property
    def entries_by_question(self) -> dict[str, list[Entry]]:
        """An example question's folded words -> the entries listing it (usually one)."""
        index: dict[str, list[Entry]] = {}
        for e in self.entries:
            for q in e.questions:
                index.setdefault(" ".join(tokens(q)), []).append(e)
        return index

    @cached_property
    def words(self) -> frozenset[str]:
        """Every folded word of the entries and of the ways formations are named."""
        words = set(self.entries_by_word)
        names = [n for f in self.formations.values() for n in (*f.aliases, *f.hints, f.label)]
        names += [n for p in self.parcours.values() for n in (*p.aliases, p.label)]
        for name in (*names, *self.other_formations):
            words.update(tokens(name))
        return frozenset(words)

    @cached_property
    def entry_model(self):
        """The entry classifier (bot.kb.retriever), trained on this base's entries."""
        from bot.kb.retriever import EntryModel
        from bot.mentions import strip_names
        return EntryModel(self.entries, strip=lambda text: strip_names(self, text))

    @cached_property
    def ranker(self):
        # Imported here: building the index is the costly part and only search needs it.
        from bot.kb.search import Ranker
        return Ranker(self.entries)
