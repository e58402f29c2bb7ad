"""`make eval`: the project's own accuracy report on tests/eval, judged like the outside scorer.

Sends every question over the REST channel (as a website visitor would) and asks the NLU
endpoint for the intent. Reports intent accuracy, answer accuracy (expected facts present),
dialogue turns, out-of-scope declined, knowledge-answer latency and a per-topic table.
"""
from __future__ import annotations

import json
import os
import re
import statistics
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
        except Exception as exc:  # a failed turn is reported, not fatal
            msgs, err = [], f"{type(exc).__name__}: {exc}"
        return msgs, (time.perf_counter() - t) * 1000, err

    def intent(self, text: str) -> Optional[str]:
        if not self.token:
            return None
        try:
            return (self._post(f"/model/parse?token={self.token}", {"text": text}).get("intent") or {}).get("name")
        except Exception:
            return None


def view(msgs: list) -> tuple[str, bool]:
    parts, kb = [], False
    for m in msgs:
        parts.append(m.get("text") or "")
        parts += [str(b.get("title", "")) for b in m.get("buttons") or []]
        kb = kb or bool(isinstance(m.get("custom"), dict) and m["custom"].get("kb_id"))
    return norm(" \n ".join(p for p in parts if p)), kb


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


def grade(item: dict, msgs: list, err: Optional[str]) -> tuple[bool, str, bool]:
    """(passed, normalised reply text, whether a knowledge entry answered) for one eval item."""
    text, kb = view(msgs)
    return bool(judge(item, text, kb, err)), text, kb


def load_set(sets: Path, name: str, limit: Optional[int] = None) -> list[dict]:
    """One of tests/eval's sets (single, dialogues, out_of_scope), optionally its first items."""
    items = yaml.safe_load((Path(sets) / f"{name}.yml").read_text()) or []
    return items[:limit] if limit is not None else items


def _pct(ok: int, n: int) -> str:
    return f"{ok}/{n} ({100 * ok / max(n, 1):.1f} %)"


def evaluate(client: Client, sets: Path, limit: Optional[int] = None) -> dict:
    """Run the three sets through a client (anything with `send` and `intent`, see Client)."""
    tag = uuid.uuid4().hex[:6]
    res: dict = {"failures": [], "topics": defaultdict(lambda: [0, 0, 0, 0]), "kb_latency": []}
    single = load_set(sets, "single", limit)
    ok = intent_ok = intent_n = 0
    for it in single:
        msgs, ms, err = client.send(f"eval-{tag}-{it['id']}", it["text"])
        passed, text, kb = grade(it, msgs, err)
        if kb:
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
        if not passed:
            res["failures"].append({"id": it["id"], "q": it["text"], "intent": predicted, "reply": text[:240]})
    res["single"], res["intent"] = (ok, len(single)), (intent_ok, intent_n)
    turns_ok = turns_n = whole = 0
    dialogues = load_set(sets, "dialogues", limit)
    for dl in dialogues:
        all_ok = True
        for i, t in enumerate(dl["turns"]):
            msgs, ms, err = client.send(f"eval-{tag}-{dl['id']}", t["text"])
            text, kb = view(msgs)
            passed = judge(t, text, kb, err)
            if passed is None:
                continue
            turns_n += 1
            turns_ok += passed
            if not passed:
                all_ok = False
                res["failures"].append({"id": f"{dl['id']}#{i}", "q": t["text"], "reply": text[:240]})
        whole += all_ok
    res["dialogue_turns"], res["dialogues"] = (turns_ok, turns_n), (whole, len(dialogues))
    oos = load_set(sets, "out_of_scope", limit)
    declined = 0
    for it in oos:
        msgs, _, err = client.send(f"eval-{tag}-{it['id']}", it["text"])
        passed, text, _ = grade(it, msgs, err)
        declined += passed
        if not passed:
            res["failures"].append({"id": it["id"], "q": it["text"][:120], "reply": text[:240]})
    res["out_of_scope"] = (declined, len(oos))
    return res


def report(res: dict) -> str:
    lat = sorted(res["kb_latency"]) or [0.0]
    lines = ["# Evaluation on tests/eval", "",
             "| measure | result |", "|---|---|",
             f"| intent accuracy (single questions) | {_pct(*res['intent'])} |",
             f"| answer accuracy (expected facts present) | {_pct(*res['single'])} |",
             f"| dialogue turns | {_pct(*res['dialogue_turns'])} |",
             f"| whole dialogues | {_pct(*res['dialogues'])} |",
             f"| out of scope declined | {_pct(*res['out_of_scope'])} |",
             f"| knowledge answer latency over REST | p50 {statistics.median(lat):.0f} ms, "
             f"p95 {lat[int(0.95 * (len(lat) - 1))]:.0f} ms (n={len(res['kb_latency'])}) |", "",
             "| topic | questions | answer accuracy | intent accuracy |", "|---|---|---|---|"]
    for topic, (n, ok, in_n, in_ok) in sorted(res["topics"].items()):
        lines.append(f"| {topic} | {n} | {100 * ok / max(n, 1):.0f} % | {100 * in_ok / max(in_n, 1):.0f} % |")
    return "\n".join(lines) + "\n"


def _own_servers(tmp: Path):
    """Start a private action server + Rasa on other ports with a throw-away tracker store."""
    from bot import launcher
    s = launcher.isolated_settings(tmp, rasa_port=5105, action_port=5155)
    model = launcher.ensure_trained(s)
    return s, launcher.start_stack(s, model, s.auth_token, log=subprocess.DEVNULL)


def main(sets: str, out: str, url: Optional[str]) -> int:
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if url:
                token = os.environ.get("BOT_AUTH_TOKEN") or _saved_token()
                client = Client(url, token)
            else:
                s, procs = _own_servers(Path(tmp))
                client = Client(s.rasa_url, s.auth_token)
            res = evaluate(client, Path(sets))
        finally:
            from bot.launcher import stop
            stop(*procs)
    text = report(res)
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "eval.md").write_text(text)
    (Path(out) / "eval-failures.json").write_text(json.dumps(res["failures"], ensure_ascii=False, indent=1))
    print(text)
    print(f"Details: {Path(out) / 'eval.md'} and {Path(out) / 'eval-failures.json'}")
    return 0


def _saved_token() -> Optional[str]:
    path = load_settings().run_dir / "auth_token"
    return path.read_text().strip() if path.is_file() else None
