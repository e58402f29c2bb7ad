"""Turn a policy `Decision` into the messages the assistant sends, as data.

One function for the action server (which hands each message to rasa-sdk's dispatcher) and for
`make faq-try` (which prints them with the domain's texts), so staff see what visitors get.
Every decision gives at least one message: a turn never ends in silence.

Contract with the website and the outside scorer: every message built from a knowledge entry
carries a `custom` payload with `kb_id` and `sources`; no other message does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from bot.kb.model import Entry, KnowledgeBase
from bot.other_mentions import other_mention
from bot.policy_types import Decision

FORMATION_ORDER = ("but_cs", "master_cmc", "deis")


@dataclass
class Reply:
    response: str  # a response name of domain.yml
    values: dict[str, str] = field(default_factory=dict)  # its {placeholders}
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: Optional[dict[str, Any]] = None  # the json_message (knowledge answers only)


def entry_reply(kb: KnowledgeBase, e: Entry, confidence: float, text: str = "", detail: bool = False) -> Reply:
    """A knowledge answer: the entry's text (or one composed from its rules) and its sources.

    An entry with a short answer is sent short answer first, then its full answer as the detail
    (utter_kb_short*), both also in `custom` (`short`, `detail`): the website widget shows the
    short answer and folds the detail under "Voir le détail"; the shell and REST show both, the
    short one first. Sending the short answer alone lost the fact asked too often (measured on the
    dev set, docs/answer-quality.md). `detail` ("plus de détails"): the full answer alone.
    """
    titles = kb.source_titles(e)
    many = "" if len(titles) == 1 else "_many"
    sources = " ; ".join(titles)
    custom = {"kb_id": e.id, "formation": e.formation, "topic": e.topic, "title": e.title,
              "sources": kb.source_payload(e), "confidence": round(confidence, 3)}
    if text or detail or not e.has_detail:
        return Reply(f"utter_kb_answer{many}", {"answer": text or e.answer, "sources": sources}, custom=custom)
    return Reply(f"utter_kb_short{many}", {"short": e.short, "detail": e.answer, "sources": sources},
                 custom={**custom, "short": e.short, "detail": e.answer})


def replies_for(kb: KnowledgeBase, d: Decision) -> list[Reply]:
    out: list[Reply] = []
    if d.kind == "answer":
        out += [entry_reply(kb, e, d.confidence, detail=d.detail) for e in d.entries]
    elif d.kind == "assessment" and d.entries:
        out.append(entry_reply(kb, d.entries[0], d.confidence, d.text))
    elif d.kind == "courtesy" and d.text.startswith("utter_"):
        out.append(Reply(d.text))
    elif d.kind in ("ask_profile", "profile_noted") and d.text:
        out.append(Reply("utter_profile", {"text": d.text}))
    if d.kind in ("answer", "no_info"):
        topic = kb.topics[d.topic].label if d.topic in kb.topics else ""
        for f in d.no_info:
            form = kb.formations.get(f)
            if form:
                out.append(Reply("utter_no_info" if topic else "utter_no_info_any",
                                 {"topic": topic, "formation": form.label, "where": form.where_to_ask}))
    elif d.kind == "clarify":
        out.append(Reply("utter_ask_formation", buttons=[
            {"title": kb.formations[f].short, "payload": intent_payload("inform_formation", "formation", f)}
            for f in FORMATION_ORDER if f in kb.formations]))
    elif d.kind == "suggest":
        out.append(Reply("utter_did_you_mean", buttons=[
            {"title": e.title, "payload": intent_payload("choose_entry", "kb_id", e.id)} for e in d.entries]))
    elif d.kind == "decline":
        out.append(Reply("utter_out_of_scope"))
    elif d.kind == "other_formation":
        out.append(Reply("utter_other_formation"))
        mention = other_mention(kb, d.question or "")
        if mention and mention.source in kb.sources:  # a source mentions it: say what, and where (no kb_id)
            out.append(Reply("utter_other_formation_mention",
                             {"mention": mention.text, "mention_source": kb.sources[mention.source].title}))
    return out or [Reply("utter_dont_know")]


def intent_payload(intent: str, entity: str, value: str) -> str:
    return f"/{intent}{json.dumps({entity: value})}"
