"""Load and validate the knowledge folder into a `KnowledgeBase`.

Validation runs once per load. Every problem names the file, the line and the entry, so a
staff member can fix a broken edit without reading Python.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from bot.kb.messages import MESSAGES
from bot.kb.model import GENERAL, Entry, Formation, KnowledgeBase, Parcours, SourceDoc, SourceRef, Topic
from bot.text import fold

ID_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){1,3}$")
MAX_ANSWER_CHARS = 1500
REQUIRED = ("id", "formation", "topic", "title", "answer", "sources")


class KnowledgeError(Exception):
    """One or more validation problems; str() lists them one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping under the key '__line__'."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


class _Collector:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[str] = []

    def add(self, file: Path, line: int, entry: str, key: str, **kw: Any) -> None:
        where = f"{self._rel(file)}:{line}" if line else self._rel(file)
        who = f" fiche {entry} :" if entry else ""
        self.problems.append(f"{where}:{who} {MESSAGES[key].format(**kw)}")

    def _rel(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root.parent))
        except ValueError:
            return str(file)


def _read_yaml(path: Path, out: _Collector) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except FileNotFoundError:
        out.add(path, 0, "", "missing_file", value=path)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        out.add(path, line, "", "yaml", detail=exc.problem or str(exc))
    except yaml.YAMLError as exc:
        out.add(path, 0, "", "yaml", detail=str(exc))
    return None


def _list(doc: Any, key: str, path: Path, out: _Collector) -> list:
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        if doc is not None:
            out.add(path, 1, "", "not_list", key=key)
        return []
    return items


def _meta(root: Path, out: _Collector):
    src_path, form_path, topic_path = root / "sources.yml", root / "formations.yml", root / "topics.yml"
    sources = {s["id"]: SourceDoc(s["id"], s["title"], s["formation"], s.get("provenance", ""),
                                  s["file"], s.get("url"))
               for s in _list(_read_yaml(src_path, out), "sources", src_path, out)}
    for s in sources.values():
        if not (root / s.file).is_file():
            out.add(src_path, 0, s.id, "missing_file", value=root / s.file)
        # The widget turns this into a link under each answer: web links only.
        if s.url is not None and not re.match(r"https?://[^\s/]+\S*$", str(s.url)):
            out.add(src_path, 0, s.id, "bad_url", value=s.url)
    fdoc = _read_yaml(form_path, out)
    formations = {f["id"]: Formation(f["id"], f["label"], f["short"], f["where_to_ask"],
                                     tuple(f.get("aliases", ())), tuple(f.get("hints", ())))
                  for f in _list(fdoc, "formations", form_path, out)}
    parcours = {p["id"]: Parcours(p["id"], p["label"], tuple(p.get("aliases", ())))
                for p in _list(fdoc, "parcours", form_path, out)}
    others = tuple(str(n) for n in (fdoc or {}).get("other_formations") or ())
    tdoc = _read_yaml(topic_path, out) or {}
    topics = {tid: Topic(tid, t["label"], bool(t.get("needs_formation", True)), tuple(t.get("related", ())))
              for tid, t in (tdoc.get("topics") or {}).items() if tid != "__line__"}
    return sources, formations, parcours, topics, others


def _entry(raw: Any, path: Path, ctx: dict, out: _Collector) -> Entry | None:
    if not isinstance(raw, dict):
        out.add(path, 0, "", "not_mapping")
        return None
    line, eid = raw.get("__line__", 0), str(raw.get("id", "?"))
    ok = True
    for f in REQUIRED:
        if f not in raw or raw[f] is None:
            out.add(path, line, eid, "missing", field=f)
            ok = False
        elif isinstance(raw[f], str) and not raw[f].strip():
            out.add(path, line, eid, "empty", field=f)
            ok = False
    if not ok:
        return None
    if not ID_RE.match(eid):
        out.add(path, line, eid, "bad_id", value=eid)
    checks = (("formation", set(ctx["formations"]) | {GENERAL}, "unknown_formation"),
              ("topic", set(ctx["topics"]), "unknown_topic"))
    for field_name, allowed, key in checks:
        if raw[field_name] not in allowed:
            out.add(path, line, eid, key, value=raw[field_name], allowed=", ".join(sorted(allowed)))
    if raw.get("parcours") and raw["parcours"] not in ctx["parcours"]:
        out.add(path, line, eid, "unknown_parcours", value=raw["parcours"],
                allowed=", ".join(sorted(ctx["parcours"])))
    answer = str(raw["answer"]).strip()
    if len(answer) > MAX_ANSWER_CHARS:
        out.add(path, line, eid, "too_long", length=len(answer), limit=MAX_ANSWER_CHARS)
    refs = []
    for s in raw["sources"] if isinstance(raw["sources"], list) else []:
        doc = s.get("doc") if isinstance(s, dict) else s
        if doc not in ctx["sources"]:
            out.add(path, line, eid, "unknown_source", value=doc, allowed=", ".join(sorted(ctx["sources"])))
        refs.append(SourceRef(str(doc), str(s.get("section", "")) if isinstance(s, dict) else ""))
    if not refs:
        out.add(path, line, eid, "no_sources")
    return Entry(id=eid, formation=raw["formation"], topic=raw["topic"], title=str(raw["title"]).strip(),
                 answer=answer, sources=tuple(refs),
                 questions=tuple(str(q).strip() for q in raw.get("questions") or () if str(q).strip()),
                 keywords=tuple(str(k).strip() for k in raw.get("keywords") or () if str(k).strip()),
                 parcours=raw.get("parcours") or None, file=str(path), line=line)


def _cross_checks(entries: list[Entry], out: _Collector) -> None:
    ids: dict[str, Entry] = {}
    questions: dict[str, Entry] = {}
    for e in entries:
        if e.id in ids:
            out.add(Path(e.file), e.line, e.id, "duplicate_id", value=e.id,
                    other=f"{Path(ids[e.id].file).name}:{ids[e.id].line}")
        ids.setdefault(e.id, e)
        for q in e.questions:
            key = fold(q).rstrip(" ?!.")
            other = questions.get(key)
            if other is not None and other.id != e.id:
                out.add(Path(e.file), e.line, e.id, "duplicate_question", value=q, other=other.id)
            questions.setdefault(key, e)


def knowledge_files(root: Path) -> list[Path]:
    """Every file whose change alters the knowledge base (used for versioning and reload)."""
    return [root / "sources.yml", root / "formations.yml", root / "topics.yml",
            *sorted((root / "entries").glob("**/*.yml"))]


def load_knowledge_base(root: Path | str) -> KnowledgeBase:
    """Read, validate and return the knowledge base; raise KnowledgeError listing every problem."""
    root = Path(root)
    out = _Collector(root)
    sources, formations, parcours, topics, others = _meta(root, out)
    ctx = {"sources": sources, "formations": formations, "parcours": parcours, "topics": topics}
    entries: list[Entry] = []
    files = sorted((root / "entries").glob("**/*.yml"))
    if not files:
        out.add(root / "entries", 0, "", "no_entries", value=root / "entries")
    for path in files:
        doc = _read_yaml(path, out)
        for raw in _list(doc, "entries", path, out):
            entry = _entry(raw, path, ctx, out)
            if entry is not None:
                entries.append(entry)
    _cross_checks(entries, out)
    if out.problems:
        raise KnowledgeError(out.problems)
    digest = hashlib.sha256()
    for f in knowledge_files(root):
        digest.update(f.read_bytes())
    return KnowledgeBase(formations=formations, parcours=parcours, topics=topics, sources=sources,
                         entries=tuple(entries), version=digest.hexdigest()[:12], other_formations=others)
