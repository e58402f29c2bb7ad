"""What every action shares: the knowledge base, injected or the process-wide one."""
from __future__ import annotations

from typing import Optional

from bot.kb.model import KnowledgeBase
from bot.kb.store import get_kb


class KnowledgeMixin:
    """For actions that read the knowledge base; tests pass a tiny one to the constructor.

    Not an Action subclass itself: rasa-sdk registers every Action subclass it finds.
    """

    def __init__(self, kb: Optional[KnowledgeBase] = None) -> None:
        super().__init__()
        self._kb = kb

    @property
    def kb(self) -> KnowledgeBase:
        return self._kb if self._kb is not None else get_kb()
