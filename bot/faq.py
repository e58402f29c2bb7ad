"""Staff commands for the FAQ: `faq-check` (validate) and `faq-try` (what would it answer, why).

`faq-try` asks the RUNNING assistant's NLU (Rasa's `/model/parse`, with the API token) how it
understands a question, then runs the same answering policy as the action server on the
knowledge files as they are now on disk, which is what the live reload serves within seconds.
`try_question` does that and returns a `TryResult`; `faq_try` prints it, and the staff console's
preview page (bot/admin/unanswered.py) shows it.
"""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import yaml

from bot.config import ROOT, Settings
from bot.kb.loader import check_knowledge
from bot.kb.messages import STAFF
from bot.kb.model import KnowledgeBase
from bot.replies import replies_for


def faq_check(s: Settings) -> int:
    try:
        report = check_knowledge(s.knowledge_dir)
    except Exception as exc:  # noqa: BLE001 - a file shape no check foresaw: still a message, not a traceback
        print(STAFF["check_crash"].format(error=f"{exc.__class__.__name__}: {exc}"), file=sys.stderr)
        return 1
    if report.errors:
        print(STAFF["check_errors"].format(count=len(report.errors)), file=sys.stderr)
        for p in report.errors:
            print(f"  {STAFF['error']} {p}", file=sys.stderr)
    elif report.kb is not None:
        kb = report.kb
        print(STAFF["check_ok"].format(entries=len(kb.entries), sources=len(kb.sources), version=kb.version))
    if report.warnings:
        print(STAFF["check_warnings"].format(count=len(report.warnings)))
        for w in report.warnings:
            print(f"  {STAFF['warning']} {w}")
    return 1 if report.errors else 0


def _token(s: Settings) -> str:
    if s.auth_token:
        return s.auth_token
    path = s.run_dir / "auth_token"
    return path.read_text().strip() if path.is_file() else ""


def parse(s: Settings, text: str) -> dict:
    """The running NLU's reading of a message; raises ConnectionError or PermissionError."""
    req = urllib.request.Request(f"{s.rasa_url}/model/parse?token={_token(s)}",
                                 data=json.dumps({"text": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise PermissionError(exc.code) from exc
        raise ConnectionError(str(exc)) from exc
    except OSError as exc:
        raise ConnectionError(str(exc)) from exc


def _responses() -> dict[str, str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {k: v[0].get("text", "") for k, v in (domain.get("responses") or {}).items() if v}


def _fixed_actions() -> dict[str, str]:
    """Intent -> the fixed response or action its rule runs, when it is not `action_answer`."""
    rules = yaml.safe_load((ROOT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    out = {}
    for r in rules:
        steps = r.get("steps") or []
        if len(steps) == 2 and "intent" in steps[0] and steps[1].get("action") != "action_answer":
            out[steps[0]["intent"]] = steps[1]["action"]
    return out


def _fill(template: str, **values: str) -> str:
    class _Keep(dict):
        def __missing__(self, key):
            return "{" + key + "}"
    return template.format_map(_Keep(values))


def reply_lines(kb: KnowledgeBase, decision, responses: dict[str, str]) -> list[str]:
    """The messages the action server sends for a decision (the same `bot.replies`), as text."""
    lines = []
    for reply in replies_for(kb, decision):
        text = _fill(responses.get(reply.response, ""), **reply.values)
        lines.append("\n".join([text] + [STAFF["try_button"].format(title=b["title"]) for b in reply.buttons]))
    return lines


@dataclass
class TryResult:
    """What the running assistant would answer to a question, and why (`faq-try`, the console)."""
    text: str
    intent: Optional[str]
    confidence: float
    other_intents: list[tuple[str, float]]   # the next intents of the NLU's ranking
    entities: list[tuple[str, str]]          # (entity, value)
    kind: str                                # the decision's kind, or "fixed" (a fixed reply)
    kind_label: str                          # the same, in French
    reply: list[str]                         # the messages sent, as text
    chosen: list[tuple[str, str, str]] = field(default_factory=list)   # (id, title, file:line)
    ranking: list[tuple[str, float, bool]] = field(default_factory=list)  # (id, score, given)
    how: str = ""                            # how the ranking's scores are computed, in French

    @property
    def fixed(self) -> bool:
        return self.kind == "fixed"


class TryError(Exception):
    """The question cannot be tried; str() is the French message, `details` the problems found,
    `key` says which case ("not_running", "bad_token", "kb_invalid")."""

    def __init__(self, key: str, message: str, details: Sequence[str] = ()):
        super().__init__(message)
        self.key, self.details = key, list(details)

    @property
    def exit_code(self) -> int:
        return 1 if self.key == "kb_invalid" else 2


def current_kb(s: Settings) -> KnowledgeBase:
    """The knowledge files as they are now on disk; raises TryError when they are invalid."""
    report = check_knowledge(s.knowledge_dir)
    if report.kb is None:
        raise TryError("kb_invalid", STAFF["kb_invalid"], report.errors)
    return report.kb


def try_question(s: Settings, text: str, formation: Optional[str] = None,
                 kb: Optional[KnowledgeBase] = None) -> TryResult:
    """Ask the running NLU, then decide as the action server does on `kb` (by default the
    knowledge files as they are now). Raises TryError."""
    from bot.lexicon import answerer_for
    from bot.policy_types import State
    from bot.turns import read_turn

    try:
        parsed = parse(s, text)
    except PermissionError as exc:
        raise TryError("bad_token", STAFF["bad_token"].format(path=s.run_dir / "auth_token")) from exc
    except ConnectionError as exc:
        raise TryError("not_running", STAFF["not_running"].format(url=s.rasa_url)) from exc
    kb = kb if kb is not None else current_kb(s)
    intent = parsed.get("intent") or {}
    name = intent.get("name")
    result = TryResult(
        text, name, intent.get("confidence") or 0.0,
        [(r["name"], r.get("confidence", 0)) for r in (parsed.get("intent_ranking") or [])[1:4]],
        [(str(e.get("entity")), str(e.get("value"))) for e in parsed.get("entities") or []], "", "", [])
    responses, fixed = _responses(), _fixed_actions()
    if name in fixed:  # chit-chat and rejected input get a fixed reply, not a knowledge search
        action = fixed[name]
        key = f"utter_input_{parsed.get('input_issue')}" if action == "action_reject_input" else action
        return _fixed(result, key, responses.get(key) or responses.get("utter_default", ""))
    turn = read_turn(kb, parsed)
    if name == "greet" and not turn.formations and not turn.parcours:  # as action_answer does
        return _fixed(result, "utter_greet", responses["utter_greet"])
    decision = answerer_for(kb).decide(turn, State(formation=formation))
    result.kind, result.kind_label = decision.kind, STAFF.get(f"kind_{decision.kind}", decision.kind)
    given = {e.id for e in decision.entries}
    result.chosen = [(e.id, e.title, f"{_rel(e.file, s.knowledge_dir)}:{e.line}") for e in decision.entries]
    result.ranking = [(eid, score, eid in given) for eid, score in decision.candidates or decision.scores]
    if result.ranking:
        result.how = STAFF["how_search" if decision.searched else "how_topic"]
    result.reply = ([responses["utter_greet"]] if name == "greet" else []) + reply_lines(kb, decision, responses)
    return result


def _fixed(result: TryResult, action: str, text: str) -> TryResult:
    result.kind, result.kind_label, result.reply = "fixed", STAFF["try_fixed"].format(action=action), [text]
    return result


def faq_try(s: Settings, text: str, formation: Optional[str] = None) -> int:
    try:
        r = try_question(s, text, formation)
    except TryError as exc:
        print(exc, file=sys.stderr)
        for p in exc.details:
            print(f"  {STAFF['error']} {p}", file=sys.stderr)
        return exc.exit_code
    print(STAFF["try_question"].format(text=text))
    print(STAFF["try_intent"].format(intent=r.intent, confidence=r.confidence))
    if r.other_intents:
        print(STAFF["try_others"].format(others=", ".join(f"{n} {c:.2f}" for n, c in r.other_intents)))
    ents = [f"{e} = {v}" for e, v in r.entities]
    print(STAFF["try_entities"].format(entities=", ".join(ents)) if ents else STAFF["try_no_entities"])
    print(STAFF["try_decision"].format(kind=r.kind_label))
    if not r.fixed:
        for eid, title, where in r.chosen:
            print(STAFF["try_chosen"].format(id=eid, title=title, where=where))
        if r.ranking:
            print(STAFF["try_ranking"].format(how=r.how))
            for eid, score, given in r.ranking:
                print(f"  {'*' if given else ' '} {score:6.3f}  {eid}")
        else:
            print(STAFF["try_no_ranking"])
    print(STAFF["try_reply"])
    print("\n\n".join(_indent(line) for line in r.reply))
    return 0


def _rel(path: str, knowledge_dir: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(knowledge_dir.resolve().parent))
    except ValueError:
        return path


def _indent(text: str) -> str:
    return "\n".join(f"  | {line}" for line in text.splitlines())
