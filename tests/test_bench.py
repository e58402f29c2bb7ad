"""`make bench-smoke`: every measure of the bench on tiny counts, so the bench never rots.

Runs the real assistant stack (bench ports 5505/5555, the already-trained model) and the
TF-IDF baseline in process; baseline (b) is not trained here (minutes), only in `make bench`.
"""
import json

import pytest

from bot.bench import run
from bot.bench.stats import percentile, summary

pytestmark = pytest.mark.e2e


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50, 95, 99)
    assert percentile([], 50) is None and summary([7.0])["p99"] == 7.0


def test_bench_smoke_measures_everything(tmp_path, monkeypatch):
    # The in-process Rasa of the NLU measure sets os.environ["LOG_LEVEL"]; servers started by
    # later tests would inherit it and drop their INFO lines.
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    results = run.run(run.SMOKE, tmp_path)
    for key in ("assistant", "tfidf"):
        res = results[key]
        assert res["one_user"]["n"] >= 1 and res["one_user"]["p50"] > 0, key
        assert res["eval"]["single"][0] >= 1, f"{key} answered none of the first questions right"
        for users in map(str, run.SMOKE.levels):
            load = res["load"][users]
            assert load["errors"] == 0 and load["throughput"] > 0 and load["p95"] >= load["p50"] > 0
        assert res["long"]["errors"] == 0 and res["long"]["long_ms"] > 0
        assert res["long"]["simple_with_long_ms"] > 0
        assert res["nlu"]["n"] == run.SMOKE.nlu_texts and res["nlu"]["p50"] > 0
        assert res["cold_start_s"] > 0 and res["model_mb"] > 0 and res["rss"]["rasa"] > 0
    assert results["assistant"]["rss"]["actions"] > 0
    assert results["assistant"]["floor"]["chitchat_ms"] > results["assistant"]["floor"]["http_ms"] > 0
    table = (tmp_path / "bench.md").read_text()
    assert "| knowledge answer, one user, p50 (ms) |" in table and "Machine:" in table
    assert (tmp_path / "bench-latency.png").stat().st_size > 1000
    assert json.loads((tmp_path / "bench.json").read_text())["results"]["assistant"]["one_user"]["n"] >= 1
