"""Load and validate the knowledge folder into a `KnowledgeBase`.

Validation runs once per load (checks in bot/kb/checks.py). Every problem names the file,
the line and the entry, so a staff member can fix a broken edit without reading Python.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

import yaml

from bot.eligibility import build_eligibility
from bot.kb.checks import (
    DRAFT,
    ERROR,
    EXPIRED,
    WARNING,
    Collector,
    Problem,
    check_entry,
    check_suggestions,
    cross_checks,
)
from bot.kb.model import Entry, Formation, KnowledgeBase, OtherMention, Parcours, SourceDoc, Topic
from bot.kb.readability import build_readability, check_readability
from bot.kb.rules import build_rules
from bot.text import fold


class KnowledgeError(Exception):
    """One or more validation problems; str() lists them one per line."""

    def __init__(self, problems: list[str], warnings: Optional[list[str]] = None):
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("\n".join(problems))


@dataclass
class CheckReport:
    """What `faq-check` prints: errors (expired entries included), warnings, and the base if valid."""

    errors: list[str]
    warnings: list[str]
    kb: Optional[KnowledgeBase]
    problems: list[Problem] = field(default_factory=list)  # every finding, with its entry and message key
    drafts: tuple[str, ...] = ()  # ids of the valid entries left out as drafts (`status: brouillon`)


# libyaml's parser when PyYAML has it (about ten times faster: the live reload re-reads everything).
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):
    """SafeLoader that remembers where things are: the line of every mapping ('__line__'),
    of each of its keys ('__lines__') and of the items of its list values ('__items__')."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value
                                if isinstance(k, yaml.ScalarNode)}
        mapping["__items__"] = {k.value: [i.start_mark.line + 1 for i in v.value] for k, v in node.value
                                if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.SequenceNode)}
        return mapping


# Parsed files by content: a reload re-parses only the files that changed. Read-only use.
_parsed: dict[tuple[str, str], Any] = {}


# Dates stay text: the checks parse them, so "2026-13-45" gets a clear message with its line.
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()}


def _read_yaml(path: Path, out: Collector) -> Any:
    try:
        text = out.texts[path] if path in out.texts else path.read_text(encoding="utf-8")
        key = (str(path), hashlib.sha256(text.encode()).hexdigest())
        if key not in _parsed:
            doc = yaml.load(text, Loader=_LineLoader)
            for k in [k for k in _parsed if k[0] == key[0]]:
                del _parsed[k]
            _parsed[key] = doc
        return _parsed[key]
    except FileNotFoundError:
        out.add(path, 0, "", "missing_file", value=path)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        out.add(path, line, "", "yaml", detail=exc.problem or str(exc))
    except yaml.YAMLError as exc:
        out.add(path, 0, "", "yaml", detail=str(exc))
    except (ValueError, TypeError) as exc:  # e.g. "2026-13-45" looks like a date to YAML but is none
        out.add(path, 0, "", "yaml", detail=str(exc))
    return None


def _list(doc: Any, key: str, path: Path, out: Collector) -> list:
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        if doc is not None:
            out.add(path, 1, "", "not_list", name=key)
        return []
    return items


def _fields(item: Any, path: Path, out: Collector, *names: str) -> bool:
    """True when a metadata item (source, formation, parcours) has every required field."""
    if not isinstance(item, dict):
        out.add(path, 0, "", "not_mapping")
        return False
    missing = [n for n in names if not item.get(n)]
    for n in missing:
        out.add(path, item.get("__line__", 0), str(item.get("id", "")), "missing", field=n)
    return not missing


def _meta(root: Path, out: Collector):
    src_path, form_path, topic_path = root / "sources.yml", root / "formations.yml", root / "topics.yml"
    sources: dict[str, SourceDoc] = {}
    aliases: dict[str, str] = {}
    for s in _list(_read_yaml(src_path, out), "sources", src_path, out):
        if not _fields(s, src_path, out, "id", "title", "formation"):
            continue
        kind = str(s.get("kind") or "document")
        sources[s["id"]] = SourceDoc(s["id"], s["title"], s["formation"], s.get("provenance", ""),
                                     str(s.get("file") or ""), s.get("url"), kind)
        for name in (s["id"], *(s.get("aliases") or ())):
            aliases[fold(str(name))] = s["id"]
        if kind == "document" and not (s.get("file") and (root / str(s["file"])).is_file()):
            out.add(src_path, s["__line__"], s["id"], "missing_file", value=root / str(s.get("file")))
        # The widget turns this into a link under each answer: web links only.
        url = s.get("url")
        if url is not None and not re.match(r"https?://[^\s/]+\S*$", str(url)):
            out.add(src_path, s["__line__"], s["id"], "bad_url", value=url)
    fdoc = _read_yaml(form_path, out)
    formations = {f["id"]: Formation(f["id"], f["label"], f["short"], f["where_to_ask"],
                                     tuple(f.get("aliases", ())), tuple(f.get("hints", ())))
                  for f in _list(fdoc, "formations", form_path, out)
                  if _fields(f, form_path, out, "id", "label", "short", "where_to_ask")}
    parcours = {p["id"]: Parcours(p["id"], p["label"], tuple(p.get("aliases", ())))
                for p in _list(fdoc, "parcours", form_path, out) if _fields(p, form_path, out, "id", "label")}
    others = tuple(str(n) for n in (fdoc if isinstance(fdoc, dict) else {}).get("other_formations") or ())
    mentions = _other_mentions(fdoc, sources, form_path, out)
    tdoc = _read_yaml(topic_path, out)
    tdoc = tdoc if isinstance(tdoc, dict) else {}
    if tdoc and not isinstance(tdoc.get("topics"), dict):
        out.add(topic_path, 1, "", "not_mapping")
    topics = {str(tid): Topic(str(tid), t["label"], bool(t.get("needs_formation", True)), tuple(t.get("related", ())))
              for tid, t in (tdoc.get("topics") if isinstance(tdoc.get("topics"), dict) else {}).items()
              if not str(tid).startswith("__") and _fields(t, topic_path, out, "label")}
    return sources, aliases, formations, parcours, topics, (others, mentions)


def _other_mentions(fdoc: Any, sources: dict[str, SourceDoc], path: Path, out: Collector) -> tuple:
    """What a source says of a formation it does not cover (the BUT guide's "plan B" licences)."""
    found = []
    if not isinstance(fdoc, dict) or "other_mentions" not in fdoc:
        return ()
    for m in _list(fdoc, "other_mentions", path, out):
        if not _fields(m, path, out, "names", "text", "source"):
            continue
        if m["source"] not in sources:
            out.add(path, m.get("__line__", 0), "", "unknown_source", value=m["source"],
                    allowed=", ".join(sorted(sources)))
            continue
        found.append(OtherMention(tuple(str(n) for n in m["names"]), " ".join(str(m["text"]).split()),
                                  str(m["source"]), str(m.get("section") or "")))
    return tuple(found)


def knowledge_files(root: Path) -> list[Path]:
    """Every file whose change alters the knowledge base (used for versioning and reload)."""
    return [root / "sources.yml", root / "formations.yml", root / "topics.yml", root / "rules.yml",
            root / "eligibility.yml", root / "readability.yml",
            *sorted((root / "entries").glob("**/*.yml"))]


SUGGESTIONS_FILE = "suggestions.yml"


def _suggestions(root: Path, out: Collector) -> list[str]:
    """The widget's suggested questions (optional file: without it the widget shows none)."""
    path = root / SUGGESTIONS_FILE
    if not path.is_file():
        return []
    before = len(out.problems)
    doc = _read_yaml(path, out)
    if doc is None and len(out.problems) > before:  # unreadable YAML, already reported
        return []
    return check_suggestions(doc, path, out)


def load_suggestions(root: Path | str) -> tuple[list[str], list[str]]:
    """(valid suggested questions, French error lines) of `root`/suggestions.yml, for the
    channel that serves them (bot/channels/feedback.py) without validating the whole base."""
    out = Collector(Path(root))
    good = _suggestions(Path(root), out)
    return good, out.of(ERROR)


def check_knowledge(root: Path | str, today: Optional[date] = None,
                    texts: Optional[dict[str, str]] = None) -> CheckReport:
    """Validate every knowledge file; build the base unless a real error was found.

    An expired entry is an error for `faq-check`, but a running assistant only leaves it out
    (and logs why): the passing of a date must not take the whole assistant down. So is a draft
    (`status: brouillon`): checked like the others, never given to visitors.
    `texts` (path relative to `root` -> content) checks the folder as it would be with those
    files changed, without writing them (the staff console checks an edit before saving it).
    """
    root, today = Path(root), today or date.today()
    overrides = {root / name: text for name, text in (texts or {}).items()}
    out = Collector(root, overrides)
    sources, aliases, formations, parcours, topics, (others, mentions) = _meta(root, out)
    rules_path = root / "rules.yml"
    rules = build_rules(_read_yaml(rules_path, out), set(topics), set(formations),
                        lambda key, **kw: out.add(rules_path, 0, "", key, **kw))
    elig_path = root / "eligibility.yml"
    eligibility = build_eligibility(_read_yaml(elig_path, out) if elig_path.is_file() else None,
                                    lambda key, **kw: out.add(elig_path, 0, "", key, **kw))
    # The widget's suggested questions: errors for faq-check, but never a reason to refuse the
    # base (the running channel keeps the last valid list, bot/channels/feedback.py).
    suggestion_problems = Collector(root)
    _suggestions(root, suggestion_problems)
    ctx = {"sources": sources, "source_aliases": aliases, "formations": formations,
           "parcours": parcours, "topics": topics}
    entries: list[Entry] = []
    question_lines: dict[tuple[str, int], list[int]] = {}
    files = sorted(set((root / "entries").glob("**/*.yml"))
                   | {p for p in overrides if p.suffix == ".yml" and (root / "entries") in p.parents})
    drafts: set[str] = set()
    if not files:
        out.add(root / "entries", 0, "", "no_entries", value=root / "entries")
    for path in files:
        doc = _read_yaml(path, out)
        for raw in _list(doc, "entries", path, out):
            entry = check_entry(raw, path, ctx, out, today)
            if entry is not None:
                entries.append(entry)
                if raw.get("status") == DRAFT:
                    drafts.add(entry.id)
                question_lines[(entry.file, entry.line)] = (raw.get("__items__") or {}).get("questions") or []
    cross_checks(entries, question_lines, out)
    read_path = root / "readability.yml"
    readability = build_readability(_read_yaml(read_path, out) if read_path.is_file() else None,
                                    lambda key, **kw: out.add(read_path, 0, "", key, WARNING, **kw))
    check_readability(entries, readability, out)
    known = {e.id for e in entries if e.id not in drafts}
    for ref in (eligibility.conditions_entry, eligibility.dispenses_entry) if eligibility else ():
        if ref not in known:
            out.add(elig_path, 0, "", "unknown_entry", value=ref)
    errors, warnings = out.of(ERROR, EXPIRED) + suggestion_problems.of(ERROR), out.of(WARNING)
    problems = out.problems + suggestion_problems.problems
    if out.of(ERROR):
        return CheckReport(errors, warnings, None, problems)
    expired = {p.entry for p in out.problems if p.level == EXPIRED}
    digest = hashlib.sha256()
    for f in knowledge_files(root):
        digest.update(overrides[f].encode() if f in overrides else f.read_bytes())
    kb = KnowledgeBase(formations=formations, parcours=parcours, topics=topics, sources=sources,
                       entries=tuple(e for e in entries if e.id not in expired and e.id not in drafts),
                       version=digest.hexdigest()[:12], other_formations=others, other_mentions=mentions,
                       warnings=tuple(warnings), expired=tuple(out.of(EXPIRED)), rules=rules,
                       eligibility=eligibility)
    return CheckReport(errors, warnings, kb, problems, tuple(sorted(drafts)))


def load_knowledge_base(root: Path | str, today: Optional[date] = None) -> KnowledgeBase:
    """Read, validate and return the knowledge base; raise KnowledgeError listing every problem.

    Expired entries are left out and listed in `kb.expired` rather than fatal (see above).
    """
    report = check_knowledge(root, today)
    if report.kb is None:
        raise KnowledgeError(report.errors, report.warnings)
    return report.kb
