"""`make admin` (serve the console) and `make admin-user` (create or reset an account)."""
from __future__ import annotations

import getpass
import os
import re
import sys

from bot.admin.console_store import ROLES, ConsoleStore
from bot.config import Settings
from bot.kb.messages import CONSOLE

NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_PASSWORD_CHARS = 12


def set_user(s: Settings, name: str, role: str, password: str | None = None) -> int:
    """Create or reset an account. The password comes from BOT_ADMIN_PASSWORD, else is asked
    twice on the terminal: never on the command line (it would stay in the shell history)."""
    if not name or not role:
        print(CONSOLE["user_usage"], file=sys.stderr)
        return 2
    if not NAME.match(name):
        print(CONSOLE["user_bad_name"].format(name=name), file=sys.stderr)
        return 2
    if role not in ROLES:
        print(CONSOLE["user_bad_role"].format(role=role), file=sys.stderr)
        return 2
    if password is None:
        password = os.environ.get("BOT_ADMIN_PASSWORD") or ""
    if not password:
        password = getpass.getpass(CONSOLE["user_password_prompt"].format(name=name))
        if getpass.getpass(CONSOLE["user_password_again"]) != password:
            print(CONSOLE["user_password_mismatch"], file=sys.stderr)
            return 2
    if len(password) < MIN_PASSWORD_CHARS:
        print(CONSOLE["user_password_short"].format(min=MIN_PASSWORD_CHARS), file=sys.stderr)
        return 2
    ConsoleStore(s.tracker_url).set_account(name, role, password)
    print(CONSOLE["user_saved"].format(name=name, role=role))
    return 0


def serve(s: Settings) -> int:
    from waitress import serve as waitress_serve

    from bot.admin.app import create_app
    app = create_app(s)
    if not app.extensions["console_store"].accounts():
        print(CONSOLE["no_accounts"], file=sys.stderr)
    print(CONSOLE["serving"].format(host=s.admin_host, port=s.admin_port), flush=True)
    waitress_serve(app, host=s.admin_host, port=s.admin_port, threads=4, ident="admissions-console")
    return 0
