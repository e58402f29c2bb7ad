"""The chat widget in a real browser: Debian's Chromium driven by Playwright, against the real
action server, Rasa (socket.io channel) and the page server of `make web`.

One server stack for the module (Rasa 5305, actions 5355, page 8385); each test gets a fresh
browser profile. The Rasa restart test runs last because it replaces the Rasa process.
Artefacts go to reports/: screenshots/, web-axe.json, web-timings.json.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace

import pytest

from bot import launcher
from bot.config import ROOT, load_settings

pytestmark = pytest.mark.e2e
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


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from bot.web import start_page_server
    tmp = tmp_path_factory.mktemp("web")
    s = replace(load_settings(), rasa_port=5305, action_port=5355, web_port=8385, run_dir=tmp,
                tracker_url=f"sqlite:///{tmp / 'tracker.db'}", auth_token=uuid.uuid4().hex,
                allowed_origins=(PAGE,))
    model = launcher.ensure_trained(s)
    log = open(tmp / "rasa.log", "w")
    procs = {}
    procs["actions"], procs["rasa"] = launcher.start_stack(s, model, s.auth_token, log=log)
    httpd = start_page_server(s)
    try:
        yield {"settings": s, "model": model, "procs": procs, "log": log}
    finally:
        httpd.shutdown()
        httpd.server_close()
        launcher.stop(procs.get("rasa"), procs.get("actions"))
        log.close()


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


def open_widget(pg, ack_privacy=True):
    pg.goto(PAGE + "/")
    pg.get_by_role("button", name=LAUNCHER).click()
    if ack_privacy:
        pg.get_by_role("button", name="J'ai compris").click()
    expect(pg.locator(".aw-status")).to_be_empty(timeout=30_000)  # connected


def ask(pg, text):
    box = pg.get_by_label("Votre question")
    box.fill(text)
    box.press("Enter")


def bot_messages(pg):
    return pg.locator(".aw-log .aw-bot")


def wait_bot_count(pg, n):
    expect(bot_messages(pg)).to_have_count(n, timeout=ANSWER_TIMEOUT)
    expect(pg.locator(".aw-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)


def save_json(name, data):
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / name).write_text(json.dumps(data, indent=2, ensure_ascii=False))


def test_only_allowed_origins_may_connect(stack):
    url = stack["settings"].rasa_url + "/socket.io/?EIO=4&transport=polling"

    def status(origin):
        req = urllib.request.Request(url, headers={"Origin": origin})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status(PAGE) == 200
    assert status("http://evil.example") == 400
    assert status("http://127.0.0.1:8080") == 400  # not in this stack's list


def test_keyboard_question_answer_and_source(page):
    t0 = time.perf_counter()
    page.goto(PAGE + "/")
    launcher_btn = page.get_by_role("button", name=LAUNCHER)
    expect(launcher_btn).to_be_visible()
    t_ready = time.perf_counter()
    for _ in range(20):  # Tab through the page to the launcher
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('aw-launcher')"):
            break
    else:
        pytest.fail("the launcher is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Assistant des admissions")).to_be_visible()
    expect(launcher_btn).to_have_attribute("aria-expanded", "true")
    notice = page.locator(".aw-privacy")
    expect(notice).to_contain_text("90 jours")
    expect(page.get_by_role("button", name="J'ai compris")).to_be_focused()
    page.keyboard.press("Enter")
    box = page.get_by_label("Votre question")
    expect(box).to_be_focused()
    expect(page.locator(".aw-status")).to_be_empty(timeout=30_000)
    page.keyboard.type("combien de temps dure le master CMC ?")
    t_sent = time.perf_counter()
    page.keyboard.press("Enter")
    answer = bot_messages(page).nth(1)
    expect(answer).to_contain_text("2 ans", timeout=ANSWER_TIMEOUT)
    t_answer = time.perf_counter()
    link = answer.locator(".aw-source a")
    expect(link).to_contain_text("Rennes 2")
    assert link.get_attribute("href").startswith("https://www.univ-rennes2.fr/")
    assert link.get_attribute("rel") == "noopener noreferrer"
    expect(answer.locator(".aw-bubble")).not_to_contain_text("Source :")  # shown once, below
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher_btn).to_be_focused()
    assert page.errors == []
    save_json("web-timings.json", {
        "page_load_to_launcher_s": round(t_ready - t0, 2),
        "question_sent_to_answer_s": round(t_answer - t_sent, 2),
        "page_load_to_first_answer_s": round(t_answer - t0, 2),
        "note": "keyboard-driven run incl. Tab navigation and privacy notice; shared 2-core machine",
    })


def test_ambiguous_question_then_formation_button(page):
    open_widget(page)
    ask(page, "y a des stages ?")
    group = page.get_by_role("group", name="Choix proposés")
    expect(group.get_by_role("button")).to_have_count(3, timeout=ANSWER_TIMEOUT)
    group.get_by_role("button", name="DEIS").click()
    expect(page.locator(".aw-log .aw-user").last).to_have_text("Vous :DEIS")
    answer = bot_messages(page).last
    expect(answer).to_contain_text(re.compile(r"175 heures|étude de terrain"), timeout=ANSWER_TIMEOUT)
    expect(answer.locator(".aw-source")).to_contain_text("Montpellier")
    expect(group.get_by_role("button", name="DEIS")).to_be_disabled()


def test_reload_keeps_history_and_new_conversation_clears_it(page):
    open_widget(page)
    ask(page, "c'est combien les frais de sélection du DEIS ?")
    wait_bot_count(page, 2)
    expect(bot_messages(page).nth(1)).to_contain_text("160")
    page.reload()
    panel = page.get_by_role("dialog", name="Assistant des admissions")
    if not panel.is_visible():
        page.get_by_role("button", name=LAUNCHER).click()
    expect(page.locator(".aw-log .aw-user")).to_have_text(["Vous :c'est combien les frais de sélection du DEIS ?"])
    expect(bot_messages(page).nth(1)).to_contain_text("160")
    expect(page.locator(".aw-privacy")).to_be_hidden()  # shown at the first open only
    expect(page.locator(".aw-status")).to_be_empty(timeout=30_000)
    # The server kept the conversation too: the follow-up knows the formation.
    ask(page, "et la durée ?")
    wait_bot_count(page, 3)
    expect(bot_messages(page).nth(2)).to_contain_text("semestres")
    session = page.evaluate("localStorage.getItem('admissions-chat:default:session')")

    page.get_by_role("button", name="Nouvelle conversation").click()
    expect(page.locator(".aw-log .aw-msg")).to_have_count(1)  # the greeting only
    assert json.loads(page.evaluate("localStorage.getItem('admissions-chat:default:history')")) == []
    page.wait_for_function("(old) => { const s = localStorage.getItem('admissions-chat:default:session');"
                           " return s && s !== old; }", arg=session, timeout=30_000)
    ask(page, "et la durée ?")  # a new conversation: the formation is asked again
    expect(page.get_by_role("group", name="Choix proposés").get_by_role("button")).to_have_count(
        3, timeout=ANSWER_TIMEOUT)
    page.reload()
    if not page.get_by_role("dialog").is_visible():
        page.get_by_role("button", name=LAUNCHER).click()
    expect(page.locator(".aw-log .aw-user")).to_have_count(1)


def test_markup_is_shown_as_text_and_runs_nothing(page):
    open_widget(page)
    attack = '<img src=x onerror="window.__pwned=1;document.title=\'pwned\'">'
    ask(page, attack)
    wait_bot_count(page, 2)
    expect(page.locator(".aw-log .aw-user")).to_have_text(["Vous :" + attack])
    assert page.locator(".aw-root img").count() == 0
    assert page.evaluate("window.__pwned === undefined") and page.title() != "pwned"
    expect(bot_messages(page).nth(1)).to_contain_text("HTML")
    assert page.errors == []


def test_axe_accessibility_and_screenshots(pw, stack, tmp_path):
    # axe-core is injected as an inline script, which the page's CSP forbids: bypass it here only.
    ctx = pw.chromium.launch_persistent_context(str(tmp_path / "axe"), executable_path=CHROMIUM,
                                                args=CHROMIUM_ARGS, headless=True, bypass_csp=True,
                                                viewport={"width": 1280, "height": 800},
                                                reduced_motion="reduce")
    try:
        pg = ctx.pages[0] if ctx.pages else ctx.new_page()
        pg.set_default_timeout(30_000)
        pg.goto(PAGE + "/")
        results = {"closed": axe(pg)}
        pg.get_by_role("button", name=LAUNCHER).click()
        expect(pg.locator(".aw-privacy")).to_be_visible()
        results["first_open"] = axe(pg)
        pg.get_by_role("button", name="J'ai compris").click()
        ask(pg, "y a des stages ?")
        pg.get_by_role("group", name="Choix proposés").get_by_role("button", name="Master CMC").click(
            timeout=ANSWER_TIMEOUT)
        ask(pg, "et la durée ?")
        expect(bot_messages(pg).last).to_contain_text("2 ans", timeout=ANSWER_TIMEOUT)
        expect(pg.locator(".aw-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)
        pg.locator(".aw-typing").evaluate("n => { n.hidden = false; }")  # reduced motion: no blinking
        assert pg.locator(".aw-dots i").first.evaluate("n => getComputedStyle(n).animationName") == "none"
        pg.locator(".aw-typing").evaluate("n => { n.hidden = true; }")
        results["conversation"] = axe(pg)
        shots = REPORTS / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(shots / "widget-desktop.png"))
        for width, height, name in [(320, 640, "widget-320.png"), (640, 400, "widget-zoom200.png")]:
            # 640 x 400 CSS pixels is a 1280 x 800 screen at 200 % zoom.
            pg.set_viewport_size({"width": width, "height": height})
            pg.wait_for_timeout(200)  # one layout pass after the resize
            pg.screenshot(path=str(shots / name))
            box = pg.get_by_role("dialog").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, name
            assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, name
            assert pg.evaluate("document.documentElement.scrollWidth") <= width, name
            for control in ("Votre question", ):
                expect(pg.get_by_label(control)).to_be_in_viewport()
            expect(pg.get_by_role("button", name="Envoyer")).to_be_in_viewport()
            expect(pg.get_by_role("button", name="Fermer la discussion")).to_be_in_viewport()
            results[f"conversation_{width}px"] = axe(pg)
    finally:
        ctx.close()
    summary = {k: {"violations": [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])}
                                  for v in r["violations"]],
                   "passes": len(r["passes"]),
                   "incomplete": [{"id": v["id"], "nodes": len(v["nodes"]),
                                   "why": sorted({c["message"] for n in v["nodes"] for c in n.get("any", [])})[:3]}
                                  for v in r["incomplete"]]}
               for k, r in results.items()}
    save_json("web-axe.json", summary)
    bad = {k: [v for v in s["violations"] if v["impact"] in ("serious", "critical")] for k, s in summary.items()}
    assert not any(bad.values()), bad


def axe(pg) -> dict:
    if not pg.evaluate("typeof window.axe !== 'undefined'"):
        pg.add_script_tag(path=str(AXE))
    return pg.evaluate("""() => axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
        resultTypes: ['violations', 'incomplete']})""")  # passes come back as a count only


def test_rasa_down_shows_an_error_then_recovers(page, stack):
    """Last test of the module: it stops Rasa and starts a new one on the same port."""
    open_widget(page)
    ask(page, "combien de temps dure le BUT carrières sociales ?")
    wait_bot_count(page, 2)
    procs = stack["procs"]
    launcher.stop(procs.pop("rasa"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("connexion", ignore_case=True, timeout=30_000)
    question = "combien coûtent les frais de sélection du DEIS ?"
    ask(page, question)
    expect(alert).to_contain_text("conservé")
    expect(page.get_by_label("Votre question")).to_have_value(question)  # the typed text is kept
    s = stack["settings"]
    procs["rasa"] = launcher.start_rasa(s, stack["model"], s.auth_token, log=stack["log"])
    expect(alert).to_contain_text("Connexion rétablie", timeout=60_000)  # automatic reconnection
    page.get_by_role("button", name="Réessayer").click()
    expect(bot_messages(page).last).to_contain_text("160", timeout=ANSWER_TIMEOUT)
    expect(page.get_by_label("Votre question")).to_have_value("")
    expect(page.locator(".aw-alert-text")).to_have_text("")
    assert page.errors == []
