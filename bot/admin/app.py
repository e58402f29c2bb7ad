"""The console application: login, sessions, CSRF, roles, security headers; features as blueprints.

Security, in the order a request meets it:
1. `_require_session` (before every request): only the login page and the stylesheet answer
   without a session; a page asks to log in (302), anything else gets 401.
2. CSRF (Flask-WTF's CSRFProtect): every POST carries the session's token, or 400.
3. Roles: `role_required("validation")` on what publishes or restores.
4. `_headers` (after every request): no framing, no caching, a strict Content-Security-Policy.

Sessions are signed cookies (HttpOnly, SameSite=Strict, Secure when BOT_ADMIN_SECURE_COOKIES is
set, for a console served over https) holding only the account name; the account and its role
are read again at every request, so a reset or a removed account takes effect at once.
Login attempts are limited per account name and per address (`LoginLimiter`).
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from functools import wraps
from typing import Callable, Optional

from flask import Flask, abort, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.admin.console_store import ConsoleStore
from bot.config import Settings
from bot.kb.messages import CONSOLE

PUBLIC_ENDPOINTS = {"login", "static"}
LOGIN_FAILURES = 5          # failed attempts allowed per account name or address ...
LOGIN_WINDOW_S = 15 * 60    # ... within this window, then refused until the oldest expires
MAX_TRACKED = 10_000        # keys kept before the expired ones are dropped


class LoginLimiter:
    def __init__(self, failures: int = LOGIN_FAILURES, window: float = LOGIN_WINDOW_S):
        self.failures, self.window = failures, window
        self._seen: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        q = self._seen[key]
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.failures for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)
            if len(self._seen) > MAX_TRACKED:  # names tried by a script: forget the expired ones
                for k in [k for k, q in self._seen.items() if not self._recent(k, now)]:
                    del self._seen[k]


def secret_key(s: Settings) -> bytes:
    """The key signing session cookies: BOT_ADMIN_SECRET, else one kept in the run directory
    (0600) so sessions survive a restart of the console."""
    if s.admin_secret:
        return s.admin_secret.encode()
    path = s.run_dir / "admin_secret"
    if not path.exists():
        s.run_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


def role_required(role: str) -> Callable:
    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def inner(*args, **kwargs):
            if g.account.role != role:
                abort(403)
            return view(*args, **kwargs)
        return inner
    return wrap


def create_app(s: Settings, store: Optional[ConsoleStore] = None) -> Flask:
    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=secret_key(s), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=s.admin_secure_cookies, SESSION_COOKIE_NAME="admin_session",
        PERMANENT_SESSION_LIFETIME=8 * 3600, WTF_CSRF_TIME_LIMIT=8 * 3600,
        MAX_CONTENT_LENGTH=s.max_body_bytes)
    app.extensions["settings"] = s
    app.extensions["console_store"] = store or ConsoleStore(s.tracker_url)
    app.extensions["login_limiter"] = LoginLimiter()

    @app.context_processor
    def _texts():
        return {"t": CONSOLE, "account": getattr(g, "account", None),
                "nav_sections": [b for b in SECTIONS if b in app.blueprints]}

    @app.before_request
    def _require_session():
        g.account = None
        name = session.get("user")
        if name:
            g.account = console_store().account(name)
            if g.account is None:
                session.clear()
        if g.account is None and request.endpoint not in PUBLIC_ENDPOINTS:
            if request.method in ("GET", "HEAD"):
                return redirect(url_for("login", next=request.path))
            return render_template("error.html", message=CONSOLE["need_login"]), 401
        return None

    # After the session check, so a request without a session is refused as such (401), not as
    # a CSRF failure.
    CSRFProtect(app)

    @app.after_request
    def _headers(response):
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        return response

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_template("error.html", message=CONSOLE["csrf"]), 400

    @app.errorhandler(403)
    def _forbidden(_exc):
        return render_template("error.html", message=CONSOLE["forbidden"]), 403

    @app.errorhandler(404)
    def _missing(_exc):
        return render_template("error.html", message=CONSOLE["not_found"]), 404

    @app.errorhandler(413)
    def _too_large(_exc):
        return render_template("error.html", message=CONSOLE["too_large"]), 413

    @app.route("/connexion", methods=["GET", "POST"], endpoint="login")
    def login():
        error = None
        name = ""
        if request.method == "POST":
            name = (request.form.get("username") or "").strip()[:64]
            password = request.form.get("password") or ""
            limiter: LoginLimiter = app.extensions["login_limiter"]
            keys = (f"user:{name.lower()}", f"ip:{request.remote_addr}")
            if limiter.blocked(*keys):
                error = CONSOLE["login_blocked"]
            else:
                found = console_store().authenticate(name, password) if name and password else None
                if found is None:
                    limiter.failed(*keys)
                    error = CONSOLE["login_failed"]
                else:
                    session.clear()
                    session.permanent = True
                    session["user"] = found.name
                    target = request.args.get("next") or ""
                    # Only a path of this site: never an open redirect.
                    if not target.startswith("/") or target.startswith("//"):
                        target = url_for("home")
                    return redirect(target)
        status = 429 if error == CONSOLE["login_blocked"] else (401 if error else 200)
        return render_template("login.html", error=error, username=name), status

    @app.route("/deconnexion", methods=["POST"], endpoint="logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.route("/", endpoint="home")
    def home():
        return render_template("home.html", sections=[b for b in SECTIONS if b in app.blueprints])

    for blueprint in _feature_blueprints():
        app.register_blueprint(blueprint)
    return app


# Feature pages, each a blueprint named like its module, with an `index` view and its title in
# CONSOLE (`section_<name>`), in the order of the menu.
SECTIONS: list[str] = ["dashboard", "entries", "unanswered", "visitors"]


def _feature_blueprints() -> list:
    from bot.admin import dashboard, entries, unanswered, visitors
    return [dashboard.bp, entries.bp, unanswered.bp, visitors.bp]


def console_store() -> ConsoleStore:
    from flask import current_app
    return current_app.extensions["console_store"]


def settings() -> Settings:
    from flask import current_app
    return current_app.extensions["settings"]
