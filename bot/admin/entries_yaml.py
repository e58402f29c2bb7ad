"""The YAML of knowledge entries: finding an entry's lines in its file, and writing an entry
back so that what did not change keeps its exact text (used by bot/admin/knowledge_files.py).

An entry's block runs from its `- id:` line to the line before the next entry, trailing blank and
comment lines excluded (they belong to what follows). When an entry is written again, a field
whose value did not change keeps its lines, and so does an unchanged item of a list (a question,
a source); a changed field is written by PyYAML (answers as `|-` literal blocks), indented like
the file, in double quotes where its neighbours are.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Optional

import yaml

# The order of the fields in a new entry, and where a field added to an entry goes.
FIELD_ORDER = ("id", "status", "formation", "topic", "parcours", "title", "short", "answer", "sources", "questions",
               "keywords", "reviewed", "expires")
REQUIRED_KEYS = ("id", "formation", "topic", "title", "answer", "sources")  # kept even when empty
DATE_KEYS = ("reviewed", "expires")


# --- YAML in and out ------------------------------------------------------------------------
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """Safe loader keeping dates as text, like the knowledge loader (the checks parse them)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()}


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as in the knowledge files."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


class _Literal(str):
    """Text always written as a literal block (an answer, even of one line, like the others)."""


def _represent_str(dumper: yaml.SafeDumper, value: str):
    if "\n" in value or isinstance(value, _Literal):  # a literal block (`|-`), as written by hand
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Literal, _represent_str)


def _dump(value: Any, indent: int) -> list[str]:
    text = yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    return [(" " * indent + line) if line.strip() else line for line in text.splitlines(keepends=True)]


def _construct(node: yaml.Node) -> Any:
    return _Loader("").construct_object(node, deep=True)


def _norm(value: Any) -> Any:
    """A value as compared for "unchanged": scalars as text (keyword 2024 == "2024")."""
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return None if value is None else str(value)


def _prepare(data: dict) -> dict:
    """Fields to write: empty optional fields dropped, dates as dates (written unquoted),
    multi-line text without trailing spaces (so it can be a literal block)."""
    out = {}
    for key, given in data.items():
        value = given
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
            if "\n" in value:
                value = "\n".join(line.rstrip() for line in value.split("\n")).strip("\n")
        if key == "answer" and isinstance(value, str) and value.strip():
            value = _Literal(value)
        if key in DATE_KEYS and isinstance(value, str):
            with suppress(ValueError):
                value = date.fromisoformat(value.strip())
        if key not in REQUIRED_KEYS and value in (None, "", [], {}):
            continue
        out[key] = value
    return out


def entry_data(text: str) -> dict:
    """The fields of an entry's YAML (as stored in the history)."""
    doc = yaml.load(text, Loader=_Loader)
    return doc[0] if isinstance(doc, list) and doc and isinstance(doc[0], dict) else {}


# --- where the entries are --------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    entry_id: str
    start: int           # first line (0-based): the `- id:` line
    end: int             # line after the last one
    dash: str            # what precedes the first key on the first line, e.g. "  - "
    node: yaml.MappingNode
    data: dict
    text: str


@dataclass(frozen=True)
class ParsedFile:
    lines: list
    blocks: list
    seq: Optional[yaml.Node]    # the value of `entries:`
    root: Optional[yaml.Node]


_files: dict[str, tuple[str, ParsedFile]] = {}  # parsed files by path, with their content's hash
_cache_lock = threading.Lock()


def parse(text: str) -> ParsedFile:
    lines = text.splitlines(keepends=True)
    root = yaml.compose(text, Loader=_Loader)
    seq = None
    if isinstance(root, yaml.MappingNode):
        seq = next((v for k, v in root.value if getattr(k, "value", None) == "entries"), None)
    blocks: list[Block] = []
    items = seq.value if isinstance(seq, yaml.SequenceNode) and not seq.flow_style else []
    for i, item in enumerate(items):
        if not isinstance(item, yaml.MappingNode) or item.flow_style or not item.value:
            continue
        start = item.start_mark.line
        if i + 1 < len(items):
            end = items[i + 1].start_mark.line
        else:  # the sequence ends where the next thing starts (a top-level key) or at the end
            end = min(seq.end_mark.line + (1 if seq.end_mark.column else 0), len(lines))
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        ids = [v for k, v in item.value if getattr(k, "value", None) == "id"]
        eid = str(_construct(ids[0])) if ids else ""
        blocks.append(Block(eid, start, end, lines[start][:item.start_mark.column], item,
                             _construct(item), "".join(lines[start:end])))
    return ParsedFile(lines, blocks, seq, root)


def read_file(path: Path) -> tuple[str, ParsedFile]:
    text = path.read_bytes().decode("utf-8") if path.exists() else ""
    key = hashlib.sha256(text.encode()).hexdigest()
    with _cache_lock:
        hit = _files.get(str(path))
    if hit and hit[0] == key:
        return text, hit[1]
    parsed = parse(text)
    with _cache_lock:
        _files[str(path)] = (key, parsed)
    return text, parsed


def entry_files(kdir: Path) -> list[Path]:
    return sorted((kdir / "entries").glob("**/*.yml"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- rendering an entry -------------------------------------------------------------------
def _order(old: list[str], new: list[str]) -> list[str]:
    keys = [k for k in old if k in new]
    rank = {k: i for i, k in enumerate(FIELD_ORDER)}
    for k in new:
        if k in keys:
            continue
        if k not in rank:
            keys.append(k)
            continue
        pos = 0
        for i, other in enumerate(keys):
            if other in rank and rank[other] < rank[k]:
                pos = i + 1
        keys.insert(pos, k)
    return keys


def _list_lines(key: str, value: list, chunk: list[str], node: yaml.Node, key_line: int, indent: int) -> list[str]:
    """A list field, keeping the text of its unchanged items (block lists), or on one line when
    it was (`keywords: [a, b]`)."""
    if isinstance(node, yaml.SequenceNode) and node.flow_style and len(chunk) == 1 \
            and all(isinstance(v, (str, int, float)) and "\n" not in str(v) for v in value):
        flow = yaml.dump(value, Dumper=_Dumper, allow_unicode=True, default_flow_style=True, width=1000).strip()
        return [f"{' ' * indent}{key}: {flow}\n"]
    items = node.value if isinstance(node, yaml.SequenceNode) and not node.flow_style else []
    starts = [n.start_mark.line - key_line for n in items]
    dash = re.match(r"^(\s*)- ", chunk[starts[0]]) if items and 0 < starts[0] < len(chunk) else None
    if not items or dash is None or len(set(starts)) != len(starts):
        return _dump({key: value}, indent)
    old = [(_norm(_construct(n)), chunk[s:(starts[i + 1] if i + 1 < len(starts) else len(chunk))])
           for i, (n, s) in enumerate(zip(items, starts))]
    quoted = all(isinstance(n, yaml.ScalarNode) and n.style == '"' for n in items)
    out = chunk[:starts[0]]
    for item in value:
        same = next((i for i, (v, _) in enumerate(old) if v == _norm(item)), None)
        if same is not None:
            out.extend(old.pop(same)[1])
        elif quoted and isinstance(item, str) and "\n" not in item:  # like its neighbours: "…"
            out.append(f"{dash.group(1)}- {_quote(item)}\n")
        else:
            out.extend(_dump([item], len(dash.group(1))))
    return out


def _quote(text: str) -> str:
    """A double-quoted YAML scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def render_entry(data: dict, block: Optional[Block], dash: str) -> str:
    """The YAML lines of an entry; with `block` (its current text), unchanged parts are kept."""
    data = _prepare(data)
    indent = len(dash)
    if block is None:
        keys = _order([], list(data))
        lines = _dump([{k: data[k] for k in keys}], len(dash) - len(dash.lstrip()))
        return "".join(lines)
    node, lines = block.node, block.text.splitlines(keepends=True)
    starts = [k.start_mark.line - block.start for k, _ in node.value]
    if starts[0] != 0 or len(set(starts)) != len(starts) or any(not isinstance(k, yaml.ScalarNode)
                                                                for k, _ in node.value):
        return render_entry(data, None, dash)
    first = " " * indent + lines[0][indent:]
    lines = [first, *lines[1:]]
    chunks = {k.value: (v, lines[s:(starts[i + 1] if i + 1 < len(starts) else len(lines))], s)
              for i, ((k, v), s) in enumerate(zip(node.value, starts))}
    out: list[str] = []
    for key in _order(list(chunks), list(data)):
        value = data[key]
        if key in chunks:
            vnode, chunk, s = chunks[key]
            if _norm(_construct(vnode)) == _norm(value):
                out.extend(chunk)
            elif isinstance(value, list) and value:
                out.extend(_list_lines(key, value, chunk, vnode, s + block.start, indent))
            elif isinstance(value, str) and "\n" not in value and getattr(vnode, "style", None) == '"':
                out.append(f"{' ' * indent}{key}: {_quote(value)}\n")
            else:
                out.extend(_dump({key: value}, indent))
        else:
            out.extend(_dump({key: value}, indent))
    out[0] = dash + out[0][indent:]
    if not out[-1].endswith("\n"):
        out[-1] += "\n"
    return "".join(out)
