"""Markdown report of `make eval`: one column per set, failures by kind, per-topic table, and
the coverage/accuracy curve over the refusal threshold (from the confidence each knowledge
answer carries in its `custom` payload)."""
from __future__ import annotations

import statistics

THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def _pct(ok: int, n: int) -> str:
    return f"{ok}/{n} ({100 * ok / max(n, 1):.1f} %)"


def _latency(res: dict) -> str:
    lat = sorted(res["kb_latency"]) or [0.0]
    return f"p50 {statistics.median(lat):.0f} ms, p95 {lat[int(0.95 * (len(lat) - 1))]:.0f} ms"


def _first(res: dict) -> str:
    """Length of what a visitor reads first in a knowledge answer, and how often it came short."""
    seen = [a["first"] for a in res["answers"] if a.get("first")]
    if not seen:
        return "—"
    lengths = sorted(n for n, _ in seen)
    short = sum(s for _, s in seen)
    return (f"median {statistics.median(lengths):.0f}, max {lengths[-1]} chars; "
            f"with a short answer {short}/{len(seen)} ({100 * short / len(seen):.0f} %)")


def _curve(results: dict) -> list[str]:
    """If answers under a threshold were refused: share of answerable items still answered and
    right, and share of should-decline items then declined."""
    names = list(results)
    lines = ["| threshold | " + " | ".join(f"{n}: answered / right / declined ok" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for t in THRESHOLDS:
        cells = []
        for n in names:
            rows = results[n]["answers"]
            pos = [a for a in rows if a["answerable"]]
            neg = [a for a in rows if not a["answerable"]]
            kept = [a for a in pos if a["kb"] and (a["score"] is None or a["score"] >= t)]
            right = sum(a["passed"] for a in kept)
            declined = sum(not a["kb"] or (a["score"] is not None and a["score"] < t) for a in neg)
            cells.append(f"{100 * len(kept) / max(len(pos), 1):.0f} % / {100 * right / max(len(pos), 1):.0f} % / "
                         f"{100 * declined / max(len(neg), 1):.0f} %")
        lines.append(f"| {t:.1f} | " + " | ".join(cells) + " |")
    return lines


def report_all(results: dict) -> str:
    names = list(results)
    head = "| measure | " + " | ".join(names) + " |"
    rows = [("answer accuracy, single questions", "single"), ("dialogue turns", "dialogue_turns"),
            ("whole dialogues", "dialogues"), ("off-topic and unanswerable declined", "out_of_scope"),
            ("intent accuracy (topic)", "intent")]
    lines = ["# Evaluation: dev set (tests/eval) and blind set (tests/eval/blind)", "", head,
             "|---|" + "---|" * len(names)]
    for label, key in rows:
        lines.append(f"| {label} | " + " | ".join(_pct(*results[n][key]) for n in names) + " |")
    hits = " | ".join(str(results[n]["must_not_hits"]) for n in names)
    lines.append(f"| invented facts (must_not hits) | {hits} |")
    lines.append("| knowledge answer latency over REST | " + " | ".join(_latency(results[n]) for n in names) + " |")
    lines.append("| knowledge answers: what a widget visitor reads first | "
                 + " | ".join(_first(results[n]) for n in names) + " |")
    lines += ["", "## Failures by kind", "", "| kind | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    kinds = sorted({k for n in names for k in results[n]["kinds"]})
    for k in kinds:
        lines.append(f"| {k} | " + " | ".join(str(results[n]["kinds"].get(k, 0)) for n in names) + " |")
    lines += ["", "## Coverage and accuracy over the refusal threshold", ""] + _curve(results)
    for n in names:
        lines += ["", f"## Per topic ({n})", "", "| topic | questions | answer accuracy | intent accuracy |",
                  "|---|---|---|---|"]
        for topic, (q, ok, in_n, in_ok) in sorted(results[n]["topics"].items()):
            lines.append(f"| {topic} | {q} | {100 * ok / max(q, 1):.0f} % | {100 * in_ok / max(in_n, 1):.0f} % |")
    return "\n".join(lines) + "\n"


def report_set(res: dict, title: str) -> str:
    return report_all({title: res})
