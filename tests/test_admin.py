"""The staff console's security: no default account, hashed passwords, sessions, CSRF, roles,
login limits, headers; every route refused without a session (walked from the route table)."""
import re

import pytest
from conftest import csrf_token_in

from bot.admin.commands import set_user


def test_no_default_account_and_passwords_are_hashed(console):
    assert console.store.accounts() == []
    assert set_user(console.settings, "marie", "validation", password="un-mot-de-passe-solide") == 0
    with console.store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM admin_users WHERE name = 'marie'").scalar()
    assert stored.startswith("$argon2") and "un-mot-de-passe-solide" not in stored
    assert console.store.authenticate("marie", "un-mot-de-passe-solide").role == "validation"
    assert console.store.authenticate("marie", "autre chose") is None


@pytest.mark.parametrize("name,role,password,code", [
    ("", "redaction", "un-mot-de-passe-solide", 2), ("marie dupont", "redaction", "un-mot-de-passe-solide", 2),
    ("marie", "admin", "un-mot-de-passe-solide", 2), ("marie", "redaction", "court", 2)])
def test_admin_user_refuses_bad_input_in_french(console, capsys, name, role, password, code):
    assert set_user(console.settings, name, role, password=password) == code
    assert capsys.readouterr().err.strip()  # a French explanation
    assert console.store.accounts() == []


def test_every_route_is_refused_without_a_session(console):
    client = console.client()
    rules = [r for r in console.app.url_map.iter_rules() if r.endpoint not in ("login", "static")]
    assert len(rules) >= 2
    for rule in rules:
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "x", rule.rule)
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            reply = client.open(path, method=method)
            assert reply.status_code in (302, 401), (method, path, reply.status_code)
            if reply.status_code == 302:
                assert "/connexion" in reply.headers["Location"], (method, path)


def test_login_logout_cookie_flags_and_headers(console):
    client = console.client("paul")
    home = client.get("/")
    assert home.status_code == 200 and "paul" in home.get_data(as_text=True)
    assert home.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in home.headers["Content-Security-Policy"]
    token = csrf_token_in(home.get_data(as_text=True))
    out = client.post("/deconnexion", data={"csrf_token": token})
    assert out.status_code == 302 and client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(console):
    client = console.app.test_client()
    console.store.set_account("lea", "redaction", "mot-de-passe-tres-long")
    page = client.get("/connexion")
    reply = client.post("/connexion", data={"username": "lea", "password": "mot-de-passe-tres-long",
                                            "csrf_token": csrf_token_in(page.get_data(as_text=True))})
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie


def test_post_without_csrf_token_is_refused(console):
    console.store.set_account("lea", "redaction", "mot-de-passe-tres-long")
    client = console.app.test_client()
    reply = client.post("/connexion", data={"username": "lea", "password": "mot-de-passe-tres-long"})
    assert reply.status_code == 400 and "formulaire a expiré" in reply.get_data(as_text=True)


def test_wrong_passwords_are_limited(console):
    console.store.set_account("lea", "redaction", "mot-de-passe-tres-long")
    client = console.app.test_client()
    for _ in range(5):
        token = csrf_token_in(client.get("/connexion").get_data(as_text=True))
        reply = client.post("/connexion", data={"username": "lea", "password": "faux", "csrf_token": token})
        assert reply.status_code == 401 and "incorrect" in reply.get_data(as_text=True)
    token = csrf_token_in(client.get("/connexion").get_data(as_text=True))
    reply = client.post("/connexion", data={"username": "lea", "password": "mot-de-passe-tres-long", "csrf_token": token})
    assert reply.status_code == 429 and "Trop de tentatives" in reply.get_data(as_text=True)


def test_login_never_redirects_off_site(console):
    console.store.set_account("lea", "redaction", "mot-de-passe-tres-long")
    client = console.app.test_client()
    token = csrf_token_in(client.get("/connexion").get_data(as_text=True))
    reply = client.post("/connexion?next=//evil.example/x", data={
        "username": "lea", "password": "mot-de-passe-tres-long", "csrf_token": token})
    assert reply.headers["Location"] == "/"


def test_a_removed_account_loses_its_session(console):
    client = console.client("zoe")
    with console.store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM admin_users WHERE name = 'zoe'")
    assert client.get("/").status_code == 302


def test_the_login_limiter_forgets_expired_keys():
    from bot.admin.app import LoginLimiter
    limiter = LoginLimiter(failures=2, window=0.0)
    for i in range(10_050):
        limiter.failed(f"user:{i}")
    assert len(limiter._seen) <= 10_001 and not limiter.blocked("user:1")
