"""Train when needed and run the two servers (action server + Rasa) as one unit.

`serve` keeps both in the foreground and stops both on Ctrl-C or SIGTERM; `shell` runs the
action server in the background and `rasa shell` in the terminal.

Every Rasa command started here goes through the project's one Rasa runtime,
`python -m bot.rasa_server <command>` (= `rasa <command>` with the patches of
bot/rasa_server.py), built by `rasa_cmd`: `run` for serve, web, eval, bench, fuzz, the test
stacks and the scale-out nodes (`rasa_run_cmd`), `shell` for `make chat`. Training stays
plain `rasa train` (see train_model).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Callable, ContextManager, Optional

from bot import slots as slot_names
from bot.config import ROOT, Settings, load_settings

MODEL_NAME = "assistant"
# What the NLU actually learns from. Knowledge entries reach it only through their question
# variants, which `generate_nlu` writes to data/nlu/generated/ before the fingerprint is taken:
# correcting an answer's text or its sources needs no retraining (the action server reloads it).
TRAIN_INPUTS = ("config.yml", "domain.yml", "data", "knowledge/formations.yml",
                "knowledge/topics.yml", "bot/nlu")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in TRAIN_INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if path.is_dir() else [path]
        for f in files:
            digest.update(str(f.relative_to(ROOT)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def model_path(s: Settings) -> Path:
    return s.models_dir / f"{MODEL_NAME}.tar.gz"


def ensure_trained(s: Settings, force: bool = False) -> Path:
    """Train unless a model built from exactly the current data exists."""
    from bot.generate import generate_nlu
    from bot.kb.loader import load_knowledge_base

    generate_nlu(load_knowledge_base(s.knowledge_dir), ROOT / "data" / "nlu")
    stamp, model, current = s.models_dir / f"{MODEL_NAME}.fingerprint", model_path(s), fingerprint()
    if not force and model.is_file() and stamp.is_file() and stamp.read_text() == current:
        print(f"Model up to date: {model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}")
        return model
    print("Training the model (about a minute)…", flush=True)
    train_model(s, ROOT / "config.yml", s.models_dir, MODEL_NAME)
    stamp.write_text(current)
    return model


def train_model(s: Settings, config: Path, out_dir: Path, name: str, log=None) -> Path:
    """`rasa train` from scratch with a given pipeline on the project's data and domain."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # Plain `rasa train`, not the runtime: its patches target serving (action server replies,
    # per-message spaCy parses) and training uses neither (it parses with `Language.pipe`), so
    # the model file is built by unmodified Rasa and cannot depend on them. (Training validates
    # the graph's components, patched methods included: tests/test_rasa_server.py checks that
    # the patched pipeline still passes that validation.)
    subprocess.run([_rasa(), "train", "--config", str(config), "--domain", "domain.yml", "--data", "data",
                    "--out", str(out_dir), "--fixed-model-name", name, "--force"],
                   cwd=ROOT, check=True, env=server_env(s), stdout=log, stderr=subprocess.STDOUT if log else None)
    return out_dir / f"{name}.tar.gz"


def rasa_cmd(*args: str) -> list[str]:
    """`rasa <args>` through the project's Rasa runtime (bot/rasa_server.py)."""
    return [sys.executable, "-m", "bot.rasa_server", *args]


def _rasa() -> str:
    # The venv's plain `rasa` script, without the runtime's patches: for training and offline
    # checks (`rasa data validate`, `rasa test core` in tests/). Servers and the shell use rasa_cmd.
    return str(Path(sys.executable).with_name("rasa"))


def server_env(s: Settings) -> dict:
    env = dict(os.environ)
    env.update(BOT_ACTION_URL=s.action_url, BOT_TRACKER_URL=s.tracker_url,
               BOT_KNOWLEDGE_DIR=str(s.knowledge_dir),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
               TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1",
               RASA_TELEMETRY_ENABLED="false",
               # read by the socket.io channel inside Rasa (bot/channels/socketio.py)
               BOT_ALLOWED_ORIGINS=",".join(s.allowed_origins))
    # Limits the servers read back through load_settings(), so a replaced Settings reaches them;
    # Sanic refuses bodies over REQUEST_MAX_SIZE with a 413 before parsing them.
    env.update(BOT_MAX_BODY_BYTES=str(s.max_body_bytes), SANIC_REQUEST_MAX_SIZE=str(s.max_body_bytes),
               BOT_RATE_SENDER_BURST=str(s.rate_sender_burst), BOT_RATE_SENDER_PER_MIN=str(s.rate_sender_per_min),
               BOT_RATE_IP_BURST=str(s.rate_ip_burst), BOT_RATE_IP_PER_MIN=str(s.rate_ip_per_min))
    # Sanic closes a connection still "idle" after KEEP_ALIVE_TIMEOUT (5 s), and under load a new
    # connection waits that long for a busy event loop to read it: Rasa's calls to the action
    # server then failed ("Cannot write to closing transport", found by `make test-scale`).
    env.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", "75")
    return env


def auth_token(s: Settings) -> str:
    """The API token: BOT_AUTH_TOKEN, else a fresh random one, saved 0600 for local tools."""
    token = s.auth_token or secrets.token_hex(24)
    s.run_dir.mkdir(parents=True, exist_ok=True)
    path = s.run_dir / "auth_token"
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(token)
    return token


def wait_http(url: str, timeout: float, proc: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"no answer from {url} after {timeout:.0f} s")


def start_actions(s: Settings, log=None) -> subprocess.Popen:
    # rasa-sdk binds 0.0.0.0 unless SANIC_HOST says otherwise: keep it on loopback by default.
    env = {**server_env(s), "SANIC_HOST": s.action_host}
    # The body cap is for visitors; Rasa sends whole trackers here, which may be larger.
    env.pop("SANIC_REQUEST_MAX_SIZE", None)
    proc = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                             "--port", str(s.action_port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT if log else None)
    wait_http(f"http://{s.action_host}:{s.action_port}/health", 60, proc)
    return proc


def rasa_run_cmd(s: Settings, model: Path, token: str, credentials: str = "credentials.yml",
                 endpoints: str = "endpoints.yml") -> list[str]:
    """`rasa run` of one Rasa server node, through the project's runtime (rasa_cmd)."""
    return [*rasa_cmd("run"), "--model", str(model), "--endpoints", endpoints,
            "--credentials", credentials, "--interface", s.rasa_host, "--port", str(s.rasa_port),
            "--enable-api", f"--auth-token={token}", "--cors", *s.allowed_origins]


def start_stack(s: Settings, model: Path, token: str, log=None,
                **files: str) -> tuple[subprocess.Popen, subprocess.Popen]:
    """Start Rasa and the action server side by side; return both once both answer.

    Rasa needs the action server only at the first message, so neither waits for the other
    to load (the slower one, Rasa, sets the start-up time). `files` may name other
    `credentials` / `endpoints` files (tests, scale-out).
    """
    rasa = _spawn_rasa(s, model, token, log, **files)
    actions = None
    try:
        actions = start_actions(s, log)
        _await_rasa(s, token, rasa)
    except BaseException:
        stop(rasa, actions)
        raise
    return actions, rasa


def start_rasa(s: Settings, model: Path, token: str, log=None, **files: str) -> subprocess.Popen:
    """Start Rasa alone (the action server must be up); return it once it answers, warmed up."""
    rasa = _spawn_rasa(s, model, token, log, **files)
    try:
        _await_rasa(s, token, rasa)
    except BaseException:
        stop(rasa)
        raise
    return rasa


def _spawn_rasa(s: Settings, model: Path, token: str, log=None, **files: str) -> subprocess.Popen:
    return subprocess.Popen(rasa_run_cmd(s, model, token, **files), cwd=ROOT, env=server_env(s),
                            stdout=log, stderr=subprocess.STDOUT if log else None)


def _await_rasa(s: Settings, token: str, rasa: subprocess.Popen) -> None:
    wait_http(s.rasa_url + "/", 300, rasa)
    warm_up(s, token)


def isolated_settings(run_dir: Path, rasa_port: int, action_port: int) -> Settings:
    """Settings for a private stack (eval, tests, bench): own ports, token and tracker store.

    No rate limits: these stacks are driven by one client on purpose (hundreds of questions a
    minute from one IP, sometimes one sender).
    """
    return replace(load_settings(), rasa_port=rasa_port, action_port=action_port, run_dir=run_dir,
                   tracker_url=f"sqlite:///{run_dir / 'tracker.db'}", auth_token=uuid.uuid4().hex,
                   rate_sender_burst=0, rate_ip_burst=0)


def warm_up(s: Settings, token: str) -> None:
    """Load the knowledge base in both servers before the first visitor waits for it.

    Goes through the NLU parse endpoint and the action webhook, which keep no conversation.
    """
    tracker = {"sender_id": "warm-up", "slots": dict.fromkeys(slot_names.ALL), "events": [], "paused": False,
               "latest_message": {"text": "durée du DEIS", "intent": {"name": "ask_duree", "confidence": 1.0},
                                  "intent_ranking": [], "entities": []},
               "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
    calls = [(f"{s.rasa_url}/model/parse?token={token}", {"text": "durée du DEIS"}),
             (s.action_url, {"next_action": "action_answer", "sender_id": "warm-up", "tracker": tracker,
                             "domain": {}, "version": "3.6.2"})]
    for url, body in calls:
        req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=60).read()
        except OSError as exc:  # a failed warm-up only costs the first visitor a second
            print(f"warm-up skipped: {exc}", file=sys.stderr)


def stop(*procs: Optional[subprocess.Popen]) -> None:
    for p in procs:
        if p is not None and p.poll() is None:
            p.terminate()
    for p in procs:
        if p is not None:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def serve(s: Settings, extra: Optional[Callable[[], ContextManager]] = None,
          ready: Optional[str] = None) -> int:
    """Both servers in the foreground until Ctrl-C or SIGTERM, which stop everything.

    `extra` runs once both answer and is stopped first (the web page server of `make web`).
    """
    model = ensure_trained(s)
    s.run_dir.mkdir(parents=True, exist_ok=True)
    token = auth_token(s)
    actions = rasa = None

    def on_term(signum, frame):  # SIGTERM stops both servers like Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        actions, rasa = start_stack(s, model, token)
        with (extra() if extra else nullcontext()):
            print(ready or f"Ready: REST on {s.rasa_url}/webhooks/rest/webhook (API token in "
                  f"{s.run_dir / 'auth_token'}). Ctrl-C stops both servers.", flush=True)
            while actions.poll() is None and rasa.poll() is None:
                time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(rasa, actions)


def shell(s: Settings) -> int:
    model = ensure_trained(s)
    s.run_dir.mkdir(parents=True, exist_ok=True)
    actions = start_actions(s)
    try:
        return subprocess.call([*rasa_cmd("shell"), "--model", str(model), "--endpoints", "endpoints.yml",
                                "--interface", s.rasa_host, "--port", str(s.rasa_port)],
                               cwd=ROOT, env=server_env(s))
    finally:
        stop(actions)
