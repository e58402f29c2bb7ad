"""All runtime settings, read once from environment variables with safe defaults.

Every other module asks this one; nothing else reads os.environ for settings.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _number(name: str, default, cast, what: str):
    raw = os.environ.get(name, "")
    try:
        return cast(raw) if raw.strip() else default
    except ValueError as exc:
        raise SystemExit(f"config error: {name} must be {what}, got {raw!r}") from exc


def _int(name: str, default: int) -> int:
    return _number(name, default, int, "an integer")


def _float(name: str, default: float) -> float:
    return _number(name, default, float, "a number")


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


DEFAULT_ALLOWED_ORIGINS = "http://127.0.0.1:8080,http://localhost:8080"


def _origins(name: str, default: str) -> tuple[str, ...]:
    """Comma-separated web origins (scheme://host[:port]); "*" is refused on purpose."""
    raw = os.environ.get(name, "")
    origins = tuple(o.strip().rstrip("/") for o in (raw if raw.strip() else default).split(",") if o.strip())
    for o in origins:
        scheme, sep, rest = o.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or "/" in rest or "*" in o:
            raise SystemExit(f"config error: {name} must list origins such as https://www.ecole.fr "
                             f"(no '*', no path), got {o!r}")
    return origins


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path
    models_dir: Path
    run_dir: Path
    rasa_host: str
    rasa_port: int
    action_host: str
    action_port: int
    auth_token: str
    tracker_url: str
    max_message_chars: int
    # Reliability and abuse limits (docs/operations.md, "Security and threat model").
    max_body_bytes: int
    rate_sender_burst: int
    rate_sender_per_min: float
    rate_ip_burst: int
    rate_ip_per_min: float
    # Web page origins allowed to open the socket.io channel and to call Rasa (CORS). Never "*".
    allowed_origins: tuple[str, ...] = tuple(DEFAULT_ALLOWED_ORIGINS.split(","))
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Live reload of the knowledge base in the running servers (bot/kb/store.py).
    kb_reload: bool = True
    kb_reload_period: float = 0.5
    # `make purge`: conversations older than this many days are deleted from the tracker store.
    retention_days: int = 90
    # Staff console (`make admin`, bot/admin/): where it listens, the key signing its session
    # cookies (empty: one generated and kept in run_dir), Secure cookies when served over https.
    admin_host: str = "127.0.0.1"
    admin_port: int = 8081
    admin_secret: str = ""
    admin_secure_cookies: bool = False

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}/webhook"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://{self.web_host}:{self.web_port}"


def load_settings() -> Settings:
    run_dir = Path(os.environ.get("BOT_RUN_DIR", ROOT / ".run"))
    return Settings(
        knowledge_dir=Path(os.environ.get("BOT_KNOWLEDGE_DIR", ROOT / "knowledge")),
        models_dir=Path(os.environ.get("BOT_MODELS_DIR", ROOT / "models")),
        run_dir=run_dir,
        rasa_host=os.environ.get("BOT_RASA_HOST", "127.0.0.1"),
        rasa_port=_int("BOT_RASA_PORT", 5005),
        action_host=os.environ.get("BOT_ACTION_HOST", "127.0.0.1"),
        action_port=_int("BOT_ACTION_PORT", 5055),
        # Empty means "generate a random token per run": the HTTP API is never open.
        auth_token=os.environ.get("BOT_AUTH_TOKEN", ""),
        # SQLAlchemy URL of the tracker store; SQLite file by default so chats survive restarts.
        tracker_url=os.environ.get("BOT_TRACKER_URL", f"sqlite:///{run_dir / 'tracker.db'}"),
        max_message_chars=_int("BOT_MAX_MESSAGE_CHARS", 1000),
        # Request bodies over this size get a 413 from Sanic before any parsing (REQUEST_MAX_SIZE).
        # 256 KiB: far above a 1 000-character message, far below Sanic's 100 MB default.
        max_body_bytes=_int("BOT_MAX_BODY_BYTES", 256 * 1024),
        # Token buckets (bot/ratelimit.py), per Rasa process: `burst` messages at once, refilled
        # at `per_min` a minute; 0 turns a limit off. The defaults never trouble a person, a
        # scorer sending a few hundred questions in a row, nor a school network behind one IP.
        rate_sender_burst=_int("BOT_RATE_SENDER_BURST", 120),
        rate_sender_per_min=_float("BOT_RATE_SENDER_PER_MIN", 120),
        rate_ip_burst=_int("BOT_RATE_IP_BURST", 1200),
        rate_ip_per_min=_float("BOT_RATE_IP_PER_MIN", 1200),
        allowed_origins=_origins("BOT_ALLOWED_ORIGINS", DEFAULT_ALLOWED_ORIGINS),
        web_host=os.environ.get("BOT_WEB_HOST", "127.0.0.1"),
        web_port=_int("BOT_WEB_PORT", 8080),
        kb_reload=_flag("BOT_KB_RELOAD", True),
        kb_reload_period=_float("BOT_KB_RELOAD_PERIOD", 0.5),
        retention_days=_int("BOT_RETENTION_DAYS", 90),
        admin_host=os.environ.get("BOT_ADMIN_HOST", "127.0.0.1"),
        admin_port=_int("BOT_ADMIN_PORT", 8081),
        admin_secret=os.environ.get("BOT_ADMIN_SECRET", ""),
        admin_secure_cookies=_flag("BOT_ADMIN_SECURE_COOKIES", False),
    )
