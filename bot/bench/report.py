"""The bench's output: machine description, markdown table with ratios, latency plot."""
from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

import psutil

from bot.bench.stats import ratio

SYSTEMS = (("assistant", "assistant"), ("tfidf", "(a) TF-IDF, no Rasa"), ("default", "(b) Rasa default, no spaCy"))


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    import rasa
    load = os.getloadavg()
    return (f"{cpu}, {psutil.cpu_count()} logical cores, {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, Rasa {rasa.__version__}; "
            f"load average at start {load[0]:.2f} ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _get(res: dict, *keys):
    for k in keys:
        if not isinstance(res, dict) or res.get(k) is None:
            return None
        res = res[k]
    return res


def _acc(pair) -> Optional[float]:
    return 100 * pair[0] / pair[1] if pair and pair[1] else None


def levels(results: dict) -> list[int]:
    """The concurrency levels measured, over every system."""
    return sorted({int(n) for res in results.values() if isinstance(res, dict) for n in res.get("load") or {}})


def _rows(results: dict) -> list[tuple[str, Callable[[dict], Optional[float]], str, str]]:
    """(label, getter, number format, target) for each line of the table."""
    rows = [
        ("knowledge answer, one user, p50 (ms)", lambda r: _get(r, "one_user", "p50"), "{:.0f}", "≤ 35"),
        ("knowledge answer, one user, p95 (ms)", lambda r: _get(r, "one_user", "p95"), "{:.0f}", "≤ 70"),
        ("knowledge answer, one user, p99 (ms)", lambda r: _get(r, "one_user", "p99"), "{:.0f}", ""),
        ("knowledge answers timed (n)", lambda r: _get(r, "one_user", "n"), "{:.0f}", "≥ 300"),
    ]
    for n in levels(results):
        rows += [(f"{n} conversations: throughput (msg/s)", lambda r, n=n: _get(r, "load", str(n), "throughput"),
                  "{:.1f}", "≥ 60"),
                 (f"{n} conversations: p50 (ms)", lambda r, n=n: _get(r, "load", str(n), "p50"), "{:.0f}", ""),
                 (f"{n} conversations: p95 (ms)", lambda r, n=n: _get(r, "load", str(n), "p95"), "{:.0f}", "≤ 300")]
    rows += [
        ("server CPU per message under load, Rasa (ms)", lambda r: _get(r, "cpu_ms", "rasa"), "{:.1f}", ""),
        ("server CPU per message under load, action server (ms)", lambda r: _get(r, "cpu_ms", "actions"),
         "{:.1f}", ""),
        ("NLU parse in process, p50 (ms)", lambda r: _get(r, "nlu", "p50"), "{:.1f}", ""),
        ("NLU parse in process, p95 (ms)", lambda r: _get(r, "nlu", "p95"), "{:.1f}", ""),
        ("100 000-character message (ms)", lambda r: _get(r, "long", "long_ms"), "{:.0f}", "< 50"),
        ("delay it adds to a simple question (ms)", lambda r: _get(r, "long", "added_ms"), "{:.0f}", "< 50"),
        ("cold start: process start → first answer (s)", lambda r: r.get("cold_start_s"), "{:.1f}", "≤ 25"),
        ("training from scratch (s)", lambda r: r.get("train_s"), "{:.0f}", ""),
        ("model size (MB)", lambda r: r.get("model_mb"), "{:.1f}", ""),
        ("resident memory, Rasa / in-process server (MB)", lambda r: _get(r, "rss", "rasa"), "{:.0f}", "≤ 1200"),
        ("resident memory, action server (MB)", lambda r: _get(r, "rss", "actions"), "{:.0f}", ""),
        ("answer accuracy, single questions (%)", lambda r: _acc(_get(r, "eval", "single")), "{:.1f}", ""),
        ("dialogue turns (%)", lambda r: _acc(_get(r, "eval", "dialogue_turns")), "{:.1f}", ""),
        ("out of scope declined (%)", lambda r: _acc(_get(r, "eval", "out_of_scope")), "{:.1f}", ""),
        ("intent accuracy (%)", lambda r: _acc(_get(r, "eval", "intent")), "{:.1f}", ""),
    ]
    return rows


def _fmt(value: Optional[float], fmt: str) -> str:
    return "—" if value is None or value != value else fmt.format(value)


def table(results: dict, machine_text: str, notes: list[str]) -> str:
    head = ["measure", *(label for _, label in SYSTEMS), "assistant / (a)", "assistant / (b)", "target"]
    lines = [f"Machine: {machine_text}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, get, fmt, target in _rows(results):
        vals = [get(results.get(key) or {}) for key, _ in SYSTEMS]
        ratios = [ratio(vals[0], vals[1]), ratio(vals[0], vals[2])]
        cells = [_fmt(v, fmt) for v in vals] + [_fmt(x, "{:.2f}") for x in ratios]
        lines.append("| " + " | ".join([label, *cells, target]) + " |")
    return "\n".join(lines + [""] + [f"- {n}" for n in notes]) + "\n"


def plot(results: dict, path: Path) -> Optional[Path]:
    """Box plots of every message's latency, one panel per system, one box per load level."""
    import warnings
    with warnings.catch_warnings():  # matplotlib 3.5 calls pyparsing's deprecated names
        warnings.simplefilter("ignore")
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

    panels = [(label, res) for key, label in SYSTEMS if (res := results.get(key))]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.5), squeeze=False)
    for ax, (label, res) in zip(axes[0], panels):
        data, names = [], []
        if _get(res, "one_user", "latencies"):
            data.append(res["one_user"]["latencies"])
            names.append("1")
        for n in levels(results):
            lat = _get(res, "load", str(n), "latencies")
            if lat:
                data.append(lat)
                names.append(str(n))
        if data:
            ax.boxplot(data, labels=names, whis=(5, 95), showfliers=True, flierprops={"markersize": 2})
        ax.set_yscale("log")
        ax.set_title(label)
        ax.set_xlabel("concurrent conversations")
        ax.set_ylabel("latency per message (ms, log)")
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("Latency per concurrency level (box: p25–p75, whiskers: p5–p95)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
