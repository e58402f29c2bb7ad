"""Read and change knowledge entries in their YAML files, the way a careful person would by hand.

- Only the entry's own lines change: the block from its `- id:` line to the line before the next
  entry (trailing blank and comment lines excluded, they belong to what follows). Within the
  block, a field whose value did not change keeps its exact text, and so does an unchanged item
  of a list (a question, a source): the file's comments, quotes and layout survive an edit.
- Every write is checked first with the same checks as `make faq-check`, on the folder as it
  would be (`check_knowledge(..., texts=...)`): a change that breaks the base is never written.
- Writes are atomic (temporary file in the same folder, fsync, os.replace) and serialised by a
  lock (a thread lock, plus `flock` on the knowledge folder itself for other processes), so the
  live reload (bot/kb/store.py) only ever sees a whole, valid file.
- Every write is recorded in the console's history (`store.record`) with the entry's YAML
  before and after, for the diff view and the restore button.
"""
from __future__ import annotations

import copy
import fcntl
import os
import re
import tempfile
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import yaml

from bot.admin.entries_yaml import Block, ParsedFile, digest, entry_data, entry_files, read_file, render_entry
from bot.kb.checks import ERROR, EXPIRED
from bot.kb.loader import check_knowledge
from bot.kb.messages import CONSOLE, MESSAGES
from bot.text import fold

DRAFT = "brouillon"
# The form field a validation message is about, by message key (otherwise its `field`/`name`).
_FIELD_OF = {"bad_id": "id", "duplicate_id": "id", "unknown_formation": "formation", "unknown_topic": "topic",
             "unknown_parcours": "parcours", "unknown_source": "sources", "missing_author": "sources",
             "no_sources": "sources", "too_long": "answer", "missing_short": "short", "short_too_long": "short",
             "short_not_alone": "short", "long_answer": "answer", "long_sentence": "answer",
             "unexplained_acronym": "answer", "duplicate_question": "questions",
             "missing_reviewed": "reviewed", "future_review": "reviewed", "expired": "expires",
             "bad_status": "status"}


@dataclass(frozen=True)
class EntryText:
    entry_id: str
    file: str          # path relative to the knowledge dir, e.g. "entries/faq.yml"
    data: dict         # the entry's fields as in the file (dates as text)
    digest: str        # sha256 hex of the entry's current YAML: the version an editor started from
    text: str = ""     # the entry's current YAML (its lines in the file)


class EditConflict(Exception):
    """The entry changed (or disappeared) since the version the editor started from."""

    def __init__(self, current: Optional[EntryText] = None):
        self.current = current
        super().__init__(current.entry_id if current else "entry gone")


class InvalidEntry(Exception):
    """The change would break the knowledge base: field name ("" for general) -> French messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))


# --- where the entries are --------------------------------------------------------------------
def _text_of(block: Block, rel: str) -> EntryText:
    return EntryText(block.entry_id, rel, copy.deepcopy(block.data), digest(block.text), block.text)


def _find(kdir: Path, entry_id: str) -> Optional[tuple[Path, str, ParsedFile, Block]]:
    for path in entry_files(kdir):
        try:
            text, parsed = read_file(path)
        except yaml.YAMLError:
            continue
        for block in parsed.blocks:
            if block.entry_id == entry_id:
                return path, text, parsed, block
    return None


def list_entries(kdir: Path) -> list[EntryText]:
    """Every entry of every entries file, drafts included (files that do not parse are skipped)."""
    kdir = Path(kdir)
    out = []
    for path in entry_files(kdir):
        try:
            _, parsed = read_file(path)
        except yaml.YAMLError:
            continue
        out.extend(_text_of(b, path.relative_to(kdir).as_posix()) for b in parsed.blocks)
    return out


def read_entry(kdir: Path, entry_id: str) -> Optional[EntryText]:
    found = _find(Path(kdir), entry_id)
    if found is None:
        return None
    path, _, _, block = found
    return _text_of(block, path.relative_to(kdir).as_posix())


# --- writing ----------------------------------------------------------------------------------
_write_lock = threading.Lock()


@contextmanager
def _locked(kdir: Path) -> Iterator[None]:
    """One writer at a time: threads of this process, then processes (flock on the folder)."""
    with _write_lock:
        fd = os.open(kdir, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = (path.stat().st_mode & 0o7777) if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # not *.yml
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _message(p) -> tuple[str, str]:
    """(field, French message) of a validation problem about the entry being written; a field
    named in the message is given its name on the form ("Réponse" rather than "answer")."""
    kw = dict(p.kw)
    field = kw.get("field") or kw.get("name") or _FIELD_OF.get(p.key, "")
    for name in ("field", "name"):
        if f"entries_field_{kw.get(name)}" in CONSOLE:
            kw[name] = CONSOLE[f"entries_field_{kw[name]}"]
    return field, MESSAGES[p.key].format(**kw) if p.key in MESSAGES else p.message


def _validate(kdir: Path, rel: str, new_text: str, entry_id: str, strict: bool) -> None:
    """Raise InvalidEntry when the folder with `new_text` in `rel` has errors faq-check would
    report that it has not now (strict: also every error of the entry itself)."""
    levels = (ERROR, EXPIRED)
    after = [p for p in check_knowledge(kdir, texts={rel: new_text}).problems if p.level in levels]
    if not after:
        return
    known = {(p.entry, p.key, p.message) for p in check_knowledge(kdir).problems if p.level in levels}
    errors: dict[str, list[str]] = {}
    for p in after:
        mine = p.entry == entry_id or (p.key == "duplicate_question" and dict(p.kw).get("other") == entry_id)
        if (p.entry, p.key, p.message) in known and not (strict and mine):
            continue
        if p.key == "duplicate_question" and p.entry != entry_id:  # reported on the other entry
            field, text = "questions", MESSAGES["duplicate_question"].format(value=dict(p.kw)["value"],
                                                                              other=p.entry)
        else:
            field, text = _message(p) if mine else ("", p.text)
        errors.setdefault(field, []).append(text)
    if errors:
        raise InvalidEntry(errors)


def _replace(kdir: Path, path: Path, text: str, block: Block, new_block: str, entry_id: str,
             user: str, store, action: str, strict: bool = True) -> EntryText:
    rel = path.relative_to(kdir).as_posix()
    if new_block == block.text:
        return _text_of(block, rel)
    lines = text.splitlines(keepends=True)
    new_text = "".join(lines[:block.start]) + new_block + "".join(lines[block.end:])
    _validate(kdir, rel, new_text, entry_id, strict)
    _atomic_write(path, new_text)
    store.record(entry_id, rel, user, action, block.text, new_block)
    return EntryText(entry_id, rel, entry_data(new_block), digest(new_block), new_block)


def _locate(kdir: Path, entry_id: str, expected_digest: Optional[str]):
    found = _find(kdir, entry_id)
    if found is None:
        raise EditConflict(None)
    path, text, parsed, block = found
    if expected_digest is not None and digest(block.text) != expected_digest:
        raise EditConflict(_text_of(block, path.relative_to(kdir).as_posix()))
    return path, text, parsed, block


def save_entry(kdir: Path, entry_id: str, data: dict, expected_digest: str, user: str, store,
               action: str = "edit") -> EntryText:
    """Replace the entry's fields by `data` (its id cannot change); EditConflict if the entry is
    no longer at `expected_digest`, InvalidEntry if faq-check would refuse the result."""
    kdir = Path(kdir)
    if str(data.get("id", entry_id)) != entry_id:
        raise InvalidEntry({"id": [CONSOLE["entries_id_fixed"]]})
    with _locked(kdir):
        path, text, _, block = _locate(kdir, entry_id, expected_digest)
        new_block = render_entry({**data, "id": entry_id}, block, block.dash)
        return _replace(kdir, path, text, block, new_block, entry_id, user, store, action)


def restore_entry(kdir: Path, entry_id: str, yaml_text: str, expected_digest: str, user: str,
                  store) -> EntryText:
    """Put back a version of the entry from the history, exactly as it was written."""
    kdir = Path(kdir)
    if str(entry_data(yaml_text).get("id", "")) != entry_id:
        raise InvalidEntry({"": [CONSOLE["entries_restore_other"]]})
    with _locked(kdir):
        path, text, _, block = _locate(kdir, entry_id, expected_digest)
        new_block = yaml_text if yaml_text.endswith("\n") else yaml_text + "\n"
        return _replace(kdir, path, text, block, new_block, entry_id, user, store, "restore")


def _safe_rel(file: str) -> str:
    rel = Path(file)
    if rel.is_absolute() or ".." in rel.parts or rel.parts[:1] != ("entries",) or rel.suffix != ".yml":
        raise ValueError(f"not an entries file: {file!r}")
    return rel.as_posix()


def create_entry(kdir: Path, data: dict, user: str, store, file: str = "entries/faq.yml") -> EntryText:
    """Add a new entry, as a draft (`status: brouillon`), at the end of `file`."""
    kdir, rel = Path(kdir), _safe_rel(file)
    data = {**data, "status": DRAFT}
    entry_id = str(data.get("id") or "")
    with _locked(kdir):
        path = kdir / rel
        text, parsed = read_file(path)
        lines = parsed.lines
        dash = parsed.blocks[-1].dash if parsed.blocks else "  - "
        block = render_entry(data, None, dash)
        if parsed.blocks:
            at = parsed.blocks[-1].end
            head, tail = "".join(lines[:at]), "".join(lines[at:])
            new_text = head + "\n" + block + tail
        elif isinstance(parsed.seq, yaml.Node):  # `entries:` empty or `entries: []`
            at = parsed.seq.start_mark.line
            head = "".join(lines[:at]) + re.sub(r"\[\s*\]", "", lines[at]).rstrip() + "\n"
            new_text = head + block + "".join(lines[at + 1:])
        else:
            new_text = text + ("" if not text or text.endswith("\n") else "\n") + "entries:\n" + block
        _validate(kdir, rel, new_text, entry_id, strict=True)
        _atomic_write(path, new_text)
        store.record(entry_id, rel, user, "create", None, block)
        return EntryText(entry_id, rel, entry_data(block), digest(block), block)


def question_key(text: str) -> str:
    """How questions are compared (as faq-check finds duplicates)."""
    return fold(text).rstrip(" ?!.")


def add_question(kdir: Path, entry_id: str, question: str, user: str, store) -> EntryText:
    """Append an example question to the entry (nothing done if it already has it)."""
    kdir = Path(kdir)
    question = " ".join(str(question).split())
    if not question:
        raise InvalidEntry({"questions": [CONSOLE["entries_question_empty"]]})
    with _locked(kdir):
        found = _find(kdir, entry_id)
        if found is None:
            raise InvalidEntry({"": [MESSAGES["unknown_entry"].format(value=entry_id)]})
        path, text, _, block = found
        questions = list(block.data.get("questions") or [])
        if any(question_key(str(q)) == question_key(question) for q in questions):
            return _text_of(block, path.relative_to(kdir).as_posix())
        data = {**block.data, "questions": [*questions, question]}
        new_block = render_entry(data, block, block.dash)
        return _replace(kdir, path, text, block, new_block, entry_id, user, store, "add_question", strict=False)


def preview_block(kdir: Path, entry_id: str, data: dict) -> Optional[str]:
    """The YAML the entry would have with `data` (for showing a conflict), None if it is gone."""
    found = _find(Path(kdir), entry_id)
    if found is None:
        return None
    block = found[3]
    return render_entry({**data, "id": entry_id}, block, block.dash)
