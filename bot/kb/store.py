"""The process-wide knowledge base: loaded lazily on first use, once, thread-safe."""
from __future__ import annotations

import threading
from typing import Optional

from bot.config import load_settings
from bot.kb.loader import load_knowledge_base
from bot.kb.model import KnowledgeBase

_lock = threading.Lock()
_kb: Optional[KnowledgeBase] = None


def get_kb() -> KnowledgeBase:
    global _kb
    if _kb is None:
        with _lock:
            if _kb is None:
                _kb = load_knowledge_base(load_settings().knowledge_dir)
    return _kb

