"""The chat widget in a real browser: Debian's Chromium driven by Playwright, against the real
action server, Rasa (socket.io channel) and the page server of `make web`.

One server stack for the module (Rasa 5305, actions 5355, page 8385); each test gets a fresh
browser profile. The Rasa restart test runs last because it replaces the Rasa process.
Artefacts go to reports/: screenshots/, web-axe.json, web-timings.json; the screenshots of
the documentation to docs/widget.png (1280 px) and docs/widget-mobile.png (375 px).
The feedback routes (suggestions, ratings, contact requests) are the real ones
(bot/channels/feedback.py); what they stored is read back with bot.feedback_store.
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import pytest
from widget_browser import (  # noqa: F401 - fixtures
    ANSWER_TIMEOUT,
    CHROMIUM,
    CHROMIUM_ARGS,
    LAUNCHER,
    PAGE,
    ask,
    bot_messages,
    expect,
    open_widget,
    page,
    pw,
    save_json,
    stack,
    status_texts,
    user_bubbles,
    wait_bot_count,
)

from bot import launcher

pytestmark = pytest.mark.e2e


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
    more = notice.get_by_role("link", name="En savoir plus")  # the full text is on the page
    assert more.get_attribute("href").endswith("#confidentialite")
    assert more.get_attribute("rel") == "noopener noreferrer"
    expect(page.locator("#confidentialite")).to_contain_text("90")
    expect(page.locator(".aw-header .aw-avatar")).to_have_text("AA")  # initials of the bot's name
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
    # The Rennes 2 page gives no address of its own: its title, without a link.
    expect(answer.locator(".aw-source cite")).to_contain_text("Rennes 2")
    expect(answer.locator(".aw-source a")).to_have_count(0)
    expect(answer.locator(".aw-bubble")).not_to_contain_text("Source :")  # shown once, below
    expect(answer.locator("time")).to_have_text(re.compile(r"^à \d{1,2} h \d{2}$"))  # for screen readers
    expect(answer.locator("time")).to_have_class("aw-sr")
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
    expect(user_bubbles(page).last).to_have_text("Vous :DEIS")
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
    expect(user_bubbles(page)).to_have_text(["Vous :c'est combien les frais de sélection du DEIS ?"])
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
    expect(user_bubbles(page)).to_have_text(["Vous :" + attack])
    assert page.locator(".aw-root img").count() == 0
    assert page.evaluate("window.__pwned === undefined") and page.title() != "pwned"
    expect(bot_messages(page).nth(1)).to_contain_text("HTML")
    assert page.errors == []


def test_long_answer_starts_in_view_and_its_items_are_a_list(page):
    open_widget(page)
    ask(page, "quelles sont les conditions d'accès au DEIS ?")
    answer = bot_messages(page).nth(1)
    # The short answer first; its detail, folded, holds the list.
    answer.get_by_role("button", name="Voir le détail").first.click(timeout=ANSWER_TIMEOUT)
    items = answer.get_by_role("list").first.get_by_role("listitem")
    expect(items.first).to_be_visible(timeout=ANSWER_TIMEOUT)
    assert items.count() >= 2 and not items.first.inner_text().startswith("-")
    page.wait_for_timeout(300)  # any late scroll would have happened
    expect(answer.locator(".aw-bubble p").first).to_be_in_viewport()  # the answer's first line
    log = page.get_by_role("log")
    top = answer.evaluate("n => n.getBoundingClientRect().top")
    box = log.bounding_box()
    assert box["y"] <= top <= box["y"] + 40
    assert log.evaluate("l => l.scrollTop + l.clientHeight < l.scrollHeight - 20")  # not scrolled to the end


def test_short_answer_shows_its_detail_in_place(page):
    open_widget(page)
    ask(page, "c'est quoi le DEIS ?")
    answer = bot_messages(page).nth(1)
    toggle = answer.get_by_role("button", name="Voir le détail")
    expect(toggle).to_have_attribute("aria-expanded", "false", timeout=ANSWER_TIMEOUT)
    expect(page.locator(".aw-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)
    count = bot_messages(page).count()
    expect(answer.locator(".aw-bubble")).not_to_contain_text("En détail")  # the short answer only
    detail = page.locator("#" + toggle.get_attribute("aria-controls"))
    expect(detail).to_be_hidden()
    toggle.click()  # shown under the short answer, without asking the server again
    expect(answer.get_by_role("button", name="Masquer le détail")).to_have_attribute("aria-expanded", "true")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("niveau 7")
    expect(bot_messages(page)).to_have_count(count)
    expect(answer.get_by_role("group", name="Choix proposés")).to_have_count(0)  # no second button
    page.reload()  # the open detail is part of the kept history
    if not page.get_by_role("dialog", name="Assistant des admissions").is_visible():
        page.get_by_role("button", name=LAUNCHER).click()
    expect(bot_messages(page).nth(1).get_by_role("button", name="Masquer le détail")).to_be_visible()
    assert page.errors == []


def test_message_sent_right_after_opening_is_answered(page):
    questions = ["combien de temps dure le DEIS ?", "c'est combien les frais de sélection du DEIS ?",
                 "combien de temps dure le master CMC ?"]
    for i, question in enumerate(questions):
        if i:  # a new visitor each time: nothing cached, session asked again
            page.evaluate("localStorage.clear(); sessionStorage.clear()")
        open_widget(page, wait_connected=False)
        ask(page, question)  # before the session is confirmed, most of the time
        expect(bot_messages(page).nth(1)).not_to_be_empty(timeout=ANSWER_TIMEOUT)
        expect(page.locator(".aw-alert-text")).to_have_text("")
        expect(page.locator(".aw-failed")).to_have_count(0)
    assert page.errors == []


def test_new_conversation_says_so_and_not_connection_restored(page):
    open_widget(page)
    ask(page, "combien de temps dure le DEIS ?")
    wait_bot_count(page, 2)
    session = page.evaluate("localStorage.getItem('admissions-chat:default:session')")
    recorder = status_texts(page)
    page.get_by_role("button", name="Nouvelle conversation").click()
    expect(page.locator(".aw-status")).to_contain_text("Nouvelle conversation commencée")
    ask(page, "combien de temps dure le master CMC ?")  # sent once the new session is confirmed
    page.wait_for_function("(old) => { const s = localStorage.getItem('admissions-chat:default:session');"
                           " return s && s !== old; }", arg=session, timeout=30_000)
    expect(bot_messages(page).nth(1)).to_contain_text("2 ans", timeout=ANSWER_TIMEOUT)
    texts = recorder.texts()
    assert texts and not [t for t in texts if "rétablie" in t], texts
    expect(page.locator(".aw-alert-text")).to_have_text("")


def test_small_screen_panel_is_a_modal_dialog(pw, stack, tmp_path):
    ctx = pw.chromium.launch_persistent_context(str(tmp_path / "small"), executable_path=CHROMIUM,
                                                args=CHROMIUM_ARGS, headless=True, locale="fr-FR",
                                                viewport={"width": 375, "height": 700})
    try:
        pg = ctx.pages[0] if ctx.pages else ctx.new_page()
        pg.set_default_timeout(30_000)
        pg.goto(PAGE + "/")
        pg.get_by_role("button", name=LAUNCHER).click()
        dialog = pg.get_by_role("dialog", name="Assistant des admissions")
        expect(dialog).to_have_attribute("aria-modal", "true")
        assert pg.evaluate("!!document.getElementById('contenu').closest('[inert]')")  # the page behind
        behind = pg.get_by_role("link", name="Master CMC")  # out of reach: cannot even take the focus
        assert not behind.evaluate("a => { a.focus(); return document.activeElement === a; }")
        pg.get_by_role("button", name="J'ai compris").click()
        expect(pg.get_by_label("Votre question")).not_to_be_focused()  # no on-screen keyboard at once
        assert pg.evaluate("document.getElementById('aw-panel').contains(document.activeElement)")
        for key in ("Tab", "Shift+Tab"):
            seen = []
            for _ in range(16):
                pg.keyboard.press(key)
                seen.append(pg.evaluate("""() => { const a = document.activeElement;
                    return document.getElementById('aw-panel').contains(a) ? (a.getAttribute('aria-label') || a.textContent).trim() : 'OUTSIDE'; }"""))
            assert "OUTSIDE" not in seen, (key, seen)
            assert len(set(seen)) < len(seen) and "Fermer la discussion" in seen, (key, seen)  # it cycled
        pg.get_by_role("button", name="Fermer la discussion").click()
        expect(pg.get_by_role("button", name=LAUNCHER)).to_be_focused()
        assert not pg.evaluate("!!document.getElementById('contenu').closest('[inert]')")
    finally:
        ctx.close()


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
    # Automatic reconnection: said in the status line; the alert only says the message waits.
    expect(page.locator(".aw-status")).to_contain_text("Connexion rétablie", timeout=60_000)
    expect(alert).to_contain_text("n'a pas été envoyé")
    expect(alert).not_to_contain_text("rétablie")
    page.get_by_role("button", name="Réessayer").click()
    expect(bot_messages(page).last).to_contain_text("160", timeout=ANSWER_TIMEOUT)
    expect(page.get_by_label("Votre question")).to_have_value("")
    expect(page.locator(".aw-alert-text")).to_have_text("")
    assert page.errors == []
