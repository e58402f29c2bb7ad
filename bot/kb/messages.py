"""Messages shown to staff, read from `knowledge/staff_messages.yml` (French text is data).

MESSAGES: knowledge validation (`faq-check`, live reload logs); STAFF: the other staff commands
(`faq-try`, `gaps`, `purge`); CONSOLE: the staff console's pages (`make admin`). They are the
program's own text, so they are read from the repository's `knowledge/`, whatever
BOT_KNOWLEDGE_DIR says.
"""
from __future__ import annotations

from pathlib import Path

import yaml

PATH = Path(__file__).resolve().parents[2] / "knowledge" / "staff_messages.yml"
_TEXTS = yaml.safe_load(PATH.read_text(encoding="utf-8"))

MESSAGES: dict = _TEXTS["validation"]
STAFF: dict = _TEXTS["commands"]
CONSOLE: dict = _TEXTS["console"]
