"""`make eval`: the project's own accuracy report, judged like the outside scorer.

Two sets: `tests/eval` (dev: read its failures, tune on it) and `tests/eval/blind` (written
blind from the five documents; report it, never tune on it). Every question goes over the
REST channel as a website visitor's would; the NLU endpoint is asked for the intent. The
report (`bot.eval_report`) gives single, dialogue turns, whole dialogues, off-topic declined,
invented facts, failures by kind, a per-topic table and a coverage/accuracy curve.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
import unicodedata
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Optional

import yaml

from bot.config import load_settings

FORMATION_WORDS = {"deis": r"\bdeis\b|ingenierie sociale", "master": r"\bmaster\b",
                   "but": r"\bbut\b|carrieres sociales"}


def norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    for a, b in (("œ", "oe"), ("æ", "ae"), ("’", "'"), ("‘", "'"), ("–", "-"), ("—", "-"),
                 ("\u00a0", " "), ("\u202f", " ")):
        s = s.replace(a, b)
    return re.sub(r"\s+", " ", s).strip()


class Client:
    def __init__(self, url: str, token: Optional[str]):
        self.url, self.token = url.rstrip("/"), token

    def _post(self, path: str, body: dict, timeout: float = 30.0):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")

    def send(self, sender: str, text: str):
        t = time.perf_counter()
        try:
            msgs, err = self._post("/webhooks/rest/webhook", {"sender": sender, "message": text}) or [], None
        except Exception as exc:  # noqa: BLE001 - a failed turn is reported, not fatal
            msgs, err = [], f"{type(exc).__name__}: {exc}"
        return msgs, (time.perf_counter() - t) * 1000, err

    def intent(self, text: str) -> Optional[str]:
        if not self.token:
            return None
        try:
            return (self._post(f"/model/parse?token={self.token}", {"text": text}).get("intent") or {}).get("name")
        except Exception:  # noqa: BLE001 - the intent is only for the report
            return None


def view(msgs: list) -> tuple[str, bool]:
    parts, kb = [], False
    for m in msgs:
        parts.append(m.get("text") or "")
        parts += [str(b.get("title", "")) for b in m.get("buttons") or []]
        kb = kb or bool(isinstance(m.get("custom"), dict) and m["custom"].get("kb_id"))
    return norm(" \n ".join(p for p in parts if p)), kb


def first_seen(msgs: list) -> Optional[tuple[int, bool]]:
    """(characters a website visitor reads first in the first knowledge answer: its short answer
    when it has one (the widget folds the rest under "Voir le détail"), else its text without the
    "Source" line; whether it had a short answer), or None when no knowledge answer was given."""
    texts: list[str] = []  # REST splits a text on blank lines and gives the payload its own message
    for m in msgs:
        custom = m.get("custom") if isinstance(m.get("custom"), dict) else {}
        if custom.get("kb_id"):
            if custom.get("short"):
                return len(str(custom["short"])), True
            shown = [t for t in texts if not t.startswith(("Source :", "Sources :"))]
            return len("\n\n".join(shown).strip()), False
        if m.get("text"):
            texts.append(str(m["text"]))
        elif custom:
            texts = []
    return None


def judge(item: dict, text: str, kb: bool, err: Optional[str]) -> Optional[bool]:
    if err:
        return False
    if any(norm(x) in text for x in item.get("must_not") or []):
        return False
    if item.get("expect_clarification"):
        return sum(bool(re.search(rx, text)) for rx in FORMATION_WORDS.values()) >= 2
    if item.get("expect_no_info") or item.get("kind"):
        return not kb
    anyl, alll = [norm(x) for x in item.get("expect_any") or []], [norm(x) for x in item.get("expect_all") or []]
    if not anyl and not alll:
        return None
    return bool(text) and (not anyl or any(x in text for x in anyl)) and all(x in text for x in alll)


def failure_kind(item: dict, text: str, kb: bool, err: Optional[str]) -> str:
    """Why a graded item failed, in a few kinds, so failures are read by kind and not one by one."""
    if err or not text:
        return "error or empty reply"
    if any(norm(x) in text for x in item.get("must_not") or []):
        return "invented fact (must_not)"
    if item.get("expect_clarification"):
        return "no clarification asked"
    if item.get("expect_no_info") or item.get("kind"):
        return "answered with facts (should decline)"
    asked = sum(bool(re.search(rx, text)) for rx in FORMATION_WORDS.values()) >= 2 and not kb
    if asked:
        return "needless clarification"
    return "wrong entry (kb answer without the fact)" if kb else "no knowledge answer"


def view_score(msgs: list) -> Optional[float]:
    """The assistant's confidence in its knowledge answer, when it gave one (custom payload)."""
    scores = [m["custom"].get("confidence") for m in msgs
              if isinstance(m.get("custom"), dict) and m["custom"].get("kb_id")]
    return max((float(s) for s in scores if s is not None), default=None)


def grade(item: dict, msgs: list, err: Optional[str]) -> tuple[bool, str, bool]:
    """(passed, normalised reply text, whether a knowledge entry answered) for one eval item."""
    text, kb = view(msgs)
    return bool(judge(item, text, kb, err)), text, kb


def load_set(sets: Path, name: str, limit: Optional[int] = None) -> list[dict]:
    """One of the sets (single, dialogues, out_of_scope) of a folder, optionally its first items."""
    path = Path(sets) / f"{name}.yml"
    items = (yaml.safe_load(path.read_text()) or []) if path.is_file() else []
    return items[:limit] if limit is not None else items


class _Tally:
    """Graded items of one set: counts, failures by kind, and (confidence, passed) of answers."""

    def __init__(self, res: dict):
        self.res = res

    def add(self, ident: str, item: dict, msgs: list, err: Optional[str], q: Optional[str] = None) -> Optional[bool]:
        text, kb = view(msgs)
        passed = judge(item, text, kb, err)
        if passed is None:
            return None
        must_not = [x for x in item.get("must_not") or [] if norm(x) in text]
        self.res["must_not_hits"] += bool(must_not)
        answerable = not (item.get("expect_no_info") or item.get("kind") or item.get("expect_clarification"))
        self.res["answers"].append({"answerable": answerable, "kb": kb, "score": view_score(msgs),
                                    "passed": bool(passed), "first": first_seen(msgs)})
        if not passed:
            kind = failure_kind(item, text, kb, err)
            self.res["kinds"][kind] += 1
            self.res["failures"].append({"id": ident, "kind": kind, "q": (q or item.get("text", ""))[:160],
                                         "reply": text[:240]})
        return bool(passed)


def evaluate(client: Client, sets: Path, limit: Optional[int] = None) -> dict:
    """Run the three sets of a folder through a client (anything with `send` and `intent`)."""
    tag = uuid.uuid4().hex[:6]
    res: dict = {"failures": [], "topics": defaultdict(lambda: [0, 0, 0, 0]), "kb_latency": [],
                 "kinds": defaultdict(int), "must_not_hits": 0, "answers": []}
    tally = _Tally(res)
    single = load_set(sets, "single", limit)
    ok = intent_ok = intent_n = 0
    for it in single:
        msgs, ms, err = client.send(f"eval-{tag}-{it['id']}", it["text"])
        passed = bool(tally.add(it["id"], it, msgs, err))
        if view(msgs)[1]:
            res["kb_latency"].append(ms)
        ok += passed
        row = res["topics"][it.get("topic", "?")]
        row[0] += 1
        row[1] += passed
        predicted = client.intent(it["text"])
        if predicted is not None and it.get("topic"):
            intent_n += 1
            hit = predicted == f"ask_{it['topic']}"
            intent_ok += hit
            row[2] += 1
            row[3] += hit
    res["single"], res["intent"] = (ok, len(single)), (intent_ok, intent_n)
    turns_ok = turns_n = whole = 0
    dialogues = load_set(sets, "dialogues", limit)
    for dl in dialogues:
        all_ok = True
        for i, t in enumerate(dl["turns"]):
            msgs, ms, err = client.send(f"eval-{tag}-{dl['id']}", t["text"])
            passed = tally.add(f"{dl['id']}#{i}", t, msgs, err)
            if passed is None:
                continue
            turns_n += 1
            turns_ok += passed
            all_ok = all_ok and passed
        whole += all_ok
    res["dialogue_turns"], res["dialogues"] = (turns_ok, turns_n), (whole, len(dialogues))
    oos = load_set(sets, "out_of_scope", limit)
    declined = 0
    for it in oos:
        msgs, _, err = client.send(f"eval-{tag}-{it['id']}", it["text"])
        declined += bool(tally.add(it["id"], it, msgs, err))
    res["out_of_scope"] = (declined, len(oos))
    return res


def report(res: dict, title: str = "tests/eval") -> str:
    from bot.eval_report import report_set
    return report_set(res, title)


def _own_servers(tmp: Path):
    """Start a private action server + Rasa on other ports with a throw-away tracker store."""
    from bot import launcher
    s = launcher.isolated_settings(tmp, rasa_port=5105, action_port=5155)
    model = launcher.ensure_trained(s)
    return s, launcher.start_stack(s, model, s.auth_token, log=subprocess.DEVNULL)


DEFAULT_SETS = (("dev", "tests/eval"), ("blind", "tests/eval/blind"))


def main(sets: Optional[str], out: str, url: Optional[str]) -> int:
    """Evaluate the dev and blind sets (or one folder given with --sets) and write the reports."""
    from bot.config import ROOT
    from bot.eval_report import report_all
    named = [(Path(sets).name, Path(sets))] if sets else [(n, ROOT / p) for n, p in DEFAULT_SETS]
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if url:
                token = os.environ.get("BOT_AUTH_TOKEN") or _saved_token()
                client = Client(url, token)
            else:
                s, procs = _own_servers(Path(tmp))
                client = Client(s.rasa_url, s.auth_token)
            results = {name: evaluate(client, path) for name, path in named if path.is_dir()}
        finally:
            from bot.launcher import stop
            stop(*procs)
    text = report_all(results)
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "eval.md").write_text(text)
    failures = {name: r["failures"] for name, r in results.items()}
    (Path(out) / "eval-failures.json").write_text(json.dumps(failures, ensure_ascii=False, indent=1))
    print(text)
    print(f"Details: {Path(out) / 'eval.md'} and {Path(out) / 'eval-failures.json'}")
    return 0


def _saved_token() -> Optional[str]:
    path = load_settings().run_dir / "auth_token"
    return path.read_text().strip() if path.is_file() else None
