"""The Rasa stacks under test: timed start, resident memory, model size, training from scratch.

Each stack is the real thing `make serve` runs (bot.launcher): `rasa run` with the validated
REST channel, the SQL tracker store and the action server, on the bench's own ports and with
a throw-away tracker database.
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import psutil

from bot import launcher
from bot.config import ROOT, Settings
from bot.evaluate import Client

RASA_PORT, BASELINE_RASA_PORT, ACTION_PORT = 5505, 5525, 5555
ASSISTANT_CONFIG = ROOT / "config.yml"
BASELINE_CONFIG = Path(__file__).with_name("baseline_config.yml")
FIRST_QUESTION = "combien de temps dure le DEIS ?"


@dataclass
class BenchStack:
    name: str
    settings: Settings
    model: Path
    procs: tuple = ()
    cold_start_s: Optional[float] = None
    first_answer: list = field(default_factory=list)

    @property
    def client(self) -> Client:
        return Client(self.settings.rasa_url, self.settings.auth_token)

    def rss_mb(self) -> dict:
        """Resident memory of each server (process and its children), in MB."""
        actions, rasa = self.procs
        return {"rasa": _tree_rss(rasa.pid), "actions": _tree_rss(actions.pid)}

    def cpu_s(self) -> dict:
        """CPU time (user + system) used so far by each server, in seconds."""
        actions, rasa = self.procs
        return {"rasa": _tree_cpu(rasa.pid), "actions": _tree_cpu(actions.pid)}

    def stop(self) -> None:
        launcher.stop(*self.procs[::-1])


def start(name: str, model: Path, rasa_port: int, run_dir: Path, log=None) -> BenchStack:
    """Start both servers and time process start → first knowledge answer over REST."""
    run_dir.mkdir(parents=True, exist_ok=True)
    s = launcher.isolated_settings(run_dir, rasa_port, ACTION_PORT)
    t = time.perf_counter()
    procs = launcher.start_stack(s, model, s.auth_token, log=log or subprocess.DEVNULL)
    stack = BenchStack(name, s, model, procs)
    msgs, _, err = stack.client.send("bench-cold-start", FIRST_QUESTION)
    stack.cold_start_s = time.perf_counter() - t
    if err:
        stack.stop()
        raise RuntimeError(f"{name}: first question failed: {err}")
    stack.first_answer = msgs
    return stack


def train_from_scratch(config: Path, out_dir: Path, name: str, log=None) -> tuple[Path, float]:
    """Train into out_dir (never models/), return the model and the wall time in seconds."""
    s = launcher.isolated_settings(out_dir, RASA_PORT, ACTION_PORT)
    t = time.perf_counter()
    model = launcher.train_model(s, config, out_dir, name, log=log or subprocess.DEVNULL)
    return model, time.perf_counter() - t


def model_mb(model: Path) -> float:
    return model.stat().st_size / 1e6


def _tree_rss(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 1e6
    except psutil.Error:
        return float("nan")


def _tree_cpu(pid: int) -> float:
    try:
        proc = psutil.Process(pid)
        return sum(sum(p.cpu_times()[:2]) for p in [proc, *proc.children(recursive=True)])
    except psutil.Error:
        return float("nan")
