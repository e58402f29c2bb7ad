"""Shared by the browser tests of the chat widget (test_web.py, test_web_feedback.py): Debian's
Chromium through Playwright, one real stack per test module (action server, Rasa with the
socket.io and feedback channels, the page server of `make web`), a fresh browser profile per
test, and the helpers that drive the widget by roles and labels.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from bot.config import ROOT

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE = "http://127.0.0.1:8385"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
REPORTS = ROOT / "reports"
ANSWER_TIMEOUT = 60_000  # ms; the machine is shared and slow
LAUNCHER = "Une question ? Discutez avec l'assistant"
CONTACT = "Contacter le service des admissions"
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, private_stack):
    from bot.web import start_page_server
    with private_stack(tmp_path_factory.mktemp("web"), 5305, 5355, web_port=8385,
                       allowed_origins=(PAGE,)) as st:
        httpd = start_page_server(st.settings)
        try:
            yield {"settings": st.settings, "model": st.model, "procs": st.procs, "log": st.log}
        finally:
            httpd.shutdown()
            httpd.server_close()


@pytest.fixture(scope="module")
def pw():
    with playwright_api.sync_playwright() as p:
        yield p


@pytest.fixture
def page(pw, stack, tmp_path):
    """A fresh browser profile (empty storage) with console errors collected."""
    ctx = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM,
                                                args=CHROMIUM_ARGS, headless=True, locale="fr-FR",
                                                viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(30_000)
    pg = ctx.pages[0] if ctx.pages else ctx.new_page()
    pg.errors = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    try:
        yield pg
    finally:
        ctx.close()


def open_widget(pg, ack_privacy=True, wait_connected=True):
    pg.goto(PAGE + "/")
    pg.get_by_role("button", name=LAUNCHER).click()
    if ack_privacy:
        pg.get_by_role("button", name="J'ai compris").click()
    if wait_connected:
        expect(pg.locator(".aw-status")).to_be_empty(timeout=30_000)  # connected


def ask(pg, text):
    box = pg.get_by_label("Votre question")
    box.fill(text)
    box.press("Enter")


def bot_messages(pg):
    return pg.locator(".aw-log .aw-bot")


def user_bubbles(pg):
    """The visitor's messages as shown (each message also has a time for screen readers, outside)."""
    return pg.locator(".aw-log .aw-user .aw-bubble")


def stored_history(pg) -> list:
    return json.loads(pg.evaluate("localStorage.getItem('admissions-chat:default:history')") or "[]")


def feedback_store(stack):
    from bot.feedback_store import FeedbackStore
    return FeedbackStore(stack["settings"].tracker_url)


def status_texts(pg):
    """Start recording every text the panel's status line shows; read them with .texts()."""
    pg.evaluate("""() => { const s = document.querySelector('.aw-status'); window.__statusTexts = [];
        new MutationObserver(() => window.__statusTexts.push(s.textContent))
            .observe(s, {childList: true, characterData: true, subtree: true}); }""")
    return type("Recorder", (), {"texts": staticmethod(lambda: pg.evaluate("window.__statusTexts"))})


def wait_bot_count(pg, n):
    expect(bot_messages(pg)).to_have_count(n, timeout=ANSWER_TIMEOUT)
    expect(pg.locator(".aw-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)


def save_json(name, data):
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / name).write_text(json.dumps(data, indent=2, ensure_ascii=False))


def suggestions_status(stack) -> int:
    try:
        with urllib.request.urlopen(stack["settings"].rasa_url + "/webhooks/feedback/suggestions", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def axe(pg) -> dict:
    if not pg.evaluate("typeof window.axe !== 'undefined'"):
        pg.add_script_tag(path=str(AXE))
    return pg.evaluate("""() => axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
        resultTypes: ['violations', 'incomplete']})""")  # passes come back as a count only
