"""The process-wide knowledge base: loaded lazily on first use, then kept up to date.

With `BOT_KB_RELOAD` on (the default), the first load also starts a watcher thread that polls
the knowledge files' modification times and sizes. When they change, it validates the folder
again and, if valid, builds the new base's search index and swaps it in with one assignment:
a request in flight keeps the base it started with, the next one gets the new one. A broken
edit is refused: the last valid base stays live and the `faq-check` messages are logged.
Both servers use this store (the action server for answers, Rasa's NLU components for names
and known words), so both follow an edit within a couple of seconds, with no retraining.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import date
from pathlib import Path
from typing import Optional

from bot.config import load_settings
from bot.kb.loader import check_knowledge, knowledge_files, load_knowledge_base
from bot.kb.model import KnowledgeBase

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_kb: Optional[KnowledgeBase] = None
_watcher: Optional["Watcher"] = None


def get_kb() -> KnowledgeBase:
    global _kb, _watcher  # noqa: PLW0603 - one knowledge base and one watcher per server process
    if _kb is None:
        with _lock:
            if _kb is None:
                s = load_settings()
                state = snapshot(s.knowledge_dir)  # before reading: an edit made meanwhile is seen
                kb = load_knowledge_base(s.knowledge_dir)
                _log_warnings(kb)
                _kb = kb
                if s.kb_reload and _watcher is None:
                    _watcher = Watcher(s.knowledge_dir, s.kb_reload_period, state)
                    _watcher.start()
    return _kb


def _log_warnings(kb: KnowledgeBase) -> None:
    """Expired entries one by one (they are no longer served); stale reviews as one line."""
    for w in kb.expired:
        logger.error("knowledge base: entry left out: %s", w)
    if kb.warnings:
        logger.warning("knowledge base: %d review warning(s); `make faq-check` lists them", len(kb.warnings))


def snapshot(root: Path) -> tuple:
    """What identifies the current state of the knowledge files: names, sizes, mtimes, and the
    day, so that an entry whose `expires` date has passed stops being served at midnight."""
    out: list = [date.today().isoformat()]
    for f in knowledge_files(root):
        try:
            st = f.stat()
            out.append((str(f), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(f), -1, -1))
    return tuple(out)


def reload(root: Path) -> bool:
    """Validate the folder and swap the new base in; keep the old one on any problem."""
    global _kb
    started = time.perf_counter()
    try:
        report = check_knowledge(root)
    except Exception:  # an unforeseen shape of YAML must not kill the watcher
        logger.exception("knowledge base not reloaded: unexpected error; the previous version stays live")
        return False
    if report.kb is None:
        logger.error("knowledge base not reloaded (%d problem(s)); version %s stays live:\n%s",
                     len(report.errors), _kb.version if _kb else "-", "\n".join(report.errors))
        return False
    kb = report.kb
    if _kb is not None and kb.version == _kb.version:
        return False
    # Build here, not in a visitor's request, the indexes this process used on the old base
    # (the action server searches; Rasa's NLU only needs names and known words).
    for name in ("entries_by_word", "words", "ranker"):
        if _kb is None or name in vars(_kb):
            getattr(kb, name)
    # The entry model takes about a second to train: the old one serves the new base meanwhile
    # (entries it has not seen score by their words alone), so an edit is live at once.
    retrain = _kb is not None and "entry_model" in vars(_kb)
    if retrain:
        vars(kb)["entry_model"] = _kb.entry_model
    _log_warnings(kb)
    old, _kb = _kb, kb
    logger.info("knowledge base reloaded: version %s -> %s, %d entries (%.2f s)",
                old.version if old else "-", kb.version, len(kb.entries), time.perf_counter() - started)
    if retrain:
        # In its own thread: the watcher goes on polling, so a second save a second after the
        # first is live as fast as the first (the model takes ~2 s to train on a busy machine).
        threading.Thread(target=_retrain, args=(kb, started), name="kb-entry-model", daemon=True).start()
    return True


def _retrain(kb: KnowledgeBase, started: float) -> None:
    try:
        vars(kb)["entry_model"] = type(kb).entry_model.func(kb)
    except Exception:  # the provisional model keeps serving
        logger.exception("entry model not retrained for version %s; the previous one keeps serving", kb.version)
        return
    logger.info("entry model retrained for version %s (%.2f s)", kb.version, time.perf_counter() - started)


class Watcher(threading.Thread):
    """Polls the knowledge files; a daemon, so it never keeps a process alive."""

    def __init__(self, root: Path, period: float, state: Optional[tuple] = None):
        super().__init__(name="kb-watcher", daemon=True)
        self.root, self.period = Path(root), period
        self._last = state if state is not None else snapshot(self.root)
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.period):
            current = snapshot(self.root)
            if current != self._last:
                self._last = current
                reload(self.root)

    def stop(self) -> None:
        self._stop.set()
