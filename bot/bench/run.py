"""The whole bench (`make bench`) and its few-seconds version (`make bench-smoke`).

Order matters on a 2-core machine: trainings first, then one stack at a time, and the
in-process NLU last, so no measure shares the CPU with another part of the bench.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bot import launcher
from bot.bench import load, nlu, report, systems
from bot.bench.stats import summary
from bot.bench.tfidf import TfidfBaseline
from bot.config import ROOT, load_settings
from bot.evaluate import evaluate, load_set

EVAL_SETS = ROOT / "tests" / "eval"


@dataclass(frozen=True)
class Plan:
    eval_limit: Optional[int]      # items per eval set (None: all 456 / 40 / 88)
    levels: tuple[int, ...]        # concurrent conversations
    load_messages: int             # messages per concurrency level
    long_repeats: int
    floor_repeats: int
    nlu_texts: Optional[int]       # questions parsed in process (None: all)
    train: bool                    # time trainings from scratch
    baseline_rasa: bool            # run baseline (b) (needs its training)


FULL = Plan(eval_limit=None, levels=(8, 32, 64), load_messages=320, long_repeats=7, floor_repeats=40,
            nlu_texts=None, train=True, baseline_rasa=True)
SMOKE = Plan(eval_limit=3, levels=(2, 4), load_messages=8, long_repeats=1, floor_repeats=3,
             nlu_texts=3, train=False, baseline_rasa=False)


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _eval_measures(client, plan: Plan) -> dict:
    res = evaluate(client, EVAL_SETS, plan.eval_limit)
    return {"eval": {k: res[k] for k in ("single", "intent", "dialogue_turns", "dialogues", "out_of_scope")},
            "one_user": {"latencies": res["kb_latency"], **summary(res["kb_latency"])}}


def _client_measures(client, questions: list[str], plan: Plan, cpu=None) -> dict:
    """Accuracy, one user, concurrency levels, the long message; `cpu()` gives server CPU seconds."""
    out = _eval_measures(client, plan)
    out["load"] = {}
    before, sent = cpu() if cpu else None, 0
    for users in plan.levels:
        _log(f"  {users} concurrent conversations")
        out["load"][str(users)] = level = load.concurrent(client, questions, users, max(plan.load_messages, users))
        sent += len(level["latencies"]) + level["errors"]
    if cpu and sent:
        # CPU time per message barely depends on other jobs sharing the machine, unlike latency.
        out["cpu_ms"] = {k: (v - before[k]) * 1000 / sent for k, v in cpu().items()}
    out["long"] = load.long_message(client, plan.long_repeats)
    return out


def run_tfidf(questions: list[str], plan: Plan) -> dict:
    _log("baseline (a): TF-IDF retrieval in process")
    baseline = TfidfBaseline(load_settings().knowledge_dir)
    out = _client_measures(baseline, questions, plan)
    out["nlu"] = nlu.retrieval_latency(baseline, questions[:plan.nlu_texts])
    out["train_s"], out["model_mb"] = baseline.fit_s, baseline.model_bytes() / 1e6
    t = time.perf_counter()
    probe = subprocess.run([sys.executable, "-m", "bot.bench.tfidf"], cwd=ROOT, check=True,
                           capture_output=True, text=True)
    out["cold_start_s"] = time.perf_counter() - t
    out["rss"] = {"rasa": json.loads(probe.stdout)["rss_mb"]}
    return out


def run_stack(name: str, model: Path, port: int, tmp: Path, questions: list[str], plan: Plan) -> dict:
    _log(f"{name}: starting the servers")
    with open(tmp / f"{name}-servers.log", "w") as log:
        stack = systems.start(name, model, port, tmp / name, log)
        try:
            out = {"cold_start_s": stack.cold_start_s, "model_mb": systems.model_mb(model)}
            _log(f"{name}: ready in {stack.cold_start_s:.1f} s; eval set, one user")
            out.update(_client_measures(stack.client, questions, plan, stack.cpu_s))
            out["floor"] = load.floors(stack.client, plan.floor_repeats)
            out["rss"] = stack.rss_mb()
        finally:
            stack.stop()
    return out


def run(plan: Plan, out_dir: Path) -> dict:
    machine = report.machine()
    questions = [q["text"] for q in load_set(EVAL_SETS, "single")]
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = launcher.ensure_trained(load_settings())
        trained: dict = {}
        if plan.train:
            for key, config in (("assistant", systems.ASSISTANT_CONFIG), ("default", systems.BASELINE_CONFIG)):
                if key == "default" and not plan.baseline_rasa:
                    continue
                _log(f"training {key} from scratch")
                with open(tmp / f"train-{key}.log", "w") as log:
                    trained[key] = systems.train_from_scratch(config, tmp / f"train-{key}", key, log)
        results["tfidf"] = run_tfidf(questions, plan)
        results["assistant"] = run_stack("assistant", model, systems.RASA_PORT, tmp, questions, plan)
        if plan.baseline_rasa:
            results["default"] = run_stack("default", trained["default"][0], systems.BASELINE_RASA_PORT, tmp,
                                           questions, plan)
        for key, (_, seconds) in trained.items():
            results[key]["train_s"] = seconds
        _log("NLU parse latency in process")
        texts = questions[:plan.nlu_texts]
        results["assistant"]["nlu"] = nlu.parse_latency(model, texts)
        if plan.baseline_rasa:
            results["default"]["nlu"] = nlu.parse_latency(trained["default"][0], texts)
    write(results, machine, plan, out_dir)
    return results


def notes(results: dict, plan: Plan) -> list[str]:
    out = ["Timings from one run on a shared machine (other jobs were running): repeat before comparing "
           "small differences.",
           "(a) answers in process (no HTTP, no conversation state): its latencies are the retrieval alone; "
           "its resident memory is a process that loaded the knowledge base and answered once.",
           "(b) is bot/bench/baseline_config.yml: WhitespaceTokenizer, CountVectors (words, char_wb 1-4), "
           "Rasa's default DIET with 20 epochs (not 100: training time), EntitySynonymMapper, "
           "the same data, domain, rules and action server; it has no formation extractor, "
           "so it asks which formation more often."]
    floor = (results.get("assistant") or {}).get("floor")
    if floor:
        out.append("Floors of the assistant's stack, one user, p50: "
                   f"HTTP round trip to Rasa {floor['http_ms']:.1f} ms; "
                   f"NLU over HTTP (/model/parse) {floor['parse_ms']:.1f} ms; "
                   "a thank-you over REST (NLU + tracker store + rule, no action server) "
                   f"{floor['chitchat_ms']:.1f} ms.")
    if plan != FULL:
        out.append("Smoke run (tiny counts): the figures say nothing about performance.")
    return out


def write(results: dict, machine: str, plan: Plan, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    text = "# Benchmark (make bench)\n\n" + report.table(results, machine, notes(results, plan))
    (out_dir / "bench.md").write_text(text)
    (out_dir / "bench.json").write_text(json.dumps({"machine": machine, "results": results}, indent=1))
    png = report.plot(results, out_dir / "bench-latency.png")
    print(text)
    print(f"Written: {out_dir / 'bench.md'}, {out_dir / 'bench.json'}, {png}")
    return out_dir / "bench.md"


def main(smoke: bool = False, out: Optional[str] = None) -> int:
    run(SMOKE if smoke else FULL, Path(out) if out else ROOT / "results")
    return 0
