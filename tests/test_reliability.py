"""Reliability on real servers: fuzzing, body cap, rate limit, and three faults.

One stack for the module (action server + `rasa run` with the validated REST channel and
Rasa's stock socket.io channel, SQLite tracker store in a temporary directory), on ports
5600 / 5650. Faults are injected for real: SIGKILL of the action server and of Rasa, and the
tracker database locked by another writer.
"""
import asyncio
import json
import sqlite3
import time
import urllib.error
import urllib.request

import pytest

from bot import fuzz, launcher

pytestmark = pytest.mark.e2e
UNAVAILABLE = "momentanément indisponible"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, private_stack):
    tmp = tmp_path_factory.mktemp("reliability")
    creds = fuzz.credentials_with_socketio(tmp)
    # A small per-sender limit to test it; no per-IP limit (every test request comes from one IP).
    with private_stack(tmp, 5600, 5650, credentials=creds, tracker_url=f"sqlite:///{tmp / 'tracker.db'}?timeout=1",
                       rate_sender_burst=8, rate_sender_per_min=6, rate_ip_burst=0) as st:
        yield {"s": st.settings, "model": st.model, "tmp": tmp, "procs": st.procs, "log": st.log, "creds": creds}


def post(s, body, raw=None, path="/webhooks/rest/webhook", timeout=60):
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(s.rasa_url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null"), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def say(s, sender, text):
    status, msgs, _ = post(s, {"sender": sender, "message": text})
    assert status == 200, (status, msgs)
    kb = [m["custom"] for m in msgs if isinstance(m.get("custom"), dict) and m["custom"].get("kb_id")]
    return "\n".join(m.get("text", "") for m in msgs), kb


def tracker(s, sender):
    url = f"{s.rasa_url}/conversations/{sender}/tracker?token={s.auth_token}"
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def user_texts(s, sender):
    return [e["text"] for e in tracker(s, sender)["events"] if e["event"] == "user"]


def sio_say(s, session_id, text):
    """One question over the website's socket.io channel; the texts of the first reply."""
    async def ask():
        client, replies = await fuzz._sio_connect(s.rasa_url)
        try:
            await client.emit("session_request", {"session_id": session_id})
            await client.emit("user_uttered", {"message": text, "session_id": session_id})
            return (await asyncio.wait_for(replies.get(), 60)).get("text", "")
        finally:
            await client.disconnect()
    return asyncio.run(ask())


def test_fuzz_small_run_finds_no_5xx_and_no_crash(stack):
    s = stack["s"]
    report = asyncio.run(fuzz.run(s.rasa_url, 400, s.max_body_bytes, seed=7))
    print(report.table())
    assert not report.failures, "\n".join(report.failures[:20])
    assert all(p.poll() is None for p in stack["procs"].values())
    cats = {cat for cat, _ in report.counts}
    assert {"invalid_json", "missing_sender", "huge", "prompt_injection", "sio_normal"} <= cats


def test_message_without_sender_is_refused_and_never_shared(stack):
    s = stack["s"]
    for body in ({"message": "durée du DEIS"}, {"sender": None, "message": "x"}, {"sender": "  ", "message": "x"},
                 {"sender": "a\x00b", "message": "x"}):
        status, msgs, _ = post(s, body)
        assert status == 400 and "sender" in json.dumps(msgs, ensure_ascii=False), body
    with sqlite3.connect(stack["tmp"] / "tracker.db") as db:
        assert db.execute("select count(*) from events where sender_id = 'default'").fetchone()[0] == 0


def test_body_over_the_cap_is_refused_before_parsing(stack):
    s = stack["s"]
    try:
        status = post(s, None, raw=json.dumps({"sender": "u-big", "message": "a" * s.max_body_bytes}).encode())[0]
    except (ConnectionError, urllib.error.URLError):
        status = 413  # the server may close the connection right after its 413
    assert status == 413
    text, _ = say(s, "u-big-ok", "combien coûte le DEIS ? " * 2000)  # 48 kB: under the cap, too long
    assert "trop long" in text


def test_rate_limit_per_sender_answers_in_french_then_recovers(stack):
    s = stack["s"]
    statuses, last = [], None
    for _ in range(10):
        status, msgs, headers = post(s, {"sender": "u-flood", "message": "bonjour"})
        statuses.append(status)
        if status == 429:
            last = (msgs, headers)
    assert statuses[:8] == [200] * 8 and 429 in statuses[8:]
    msgs, headers = last
    assert "Patientez" in msgs[0]["text"] and msgs[0]["recipient_id"] == "u-flood"
    assert int(headers["Retry-After"]) >= 1
    assert say(s, "u-not-flooding", "durée du DEIS")[1]  # other visitors are not affected


def test_action_server_killed_mid_conversation(stack):
    s, procs = stack["s"], stack["procs"]
    text, kb = say(s, "u-actions", "combien coûte la sélection du DEIS ?")
    assert kb and kb[0]["formation"] == "deis"
    procs["actions"].kill()
    procs["actions"].wait(10)
    text, kb = say(s, "u-actions", "et la durée ?")
    assert UNAVAILABLE in text and not kb
    assert UNAVAILABLE in sio_say(s, "sio-actions-down", "durée du DEIS ?")  # the widget's channel too
    procs["actions"] = launcher.start_actions(s, stack["log"])
    text, kb = say(s, "u-actions", "et la durée ?")
    assert kb and kb[0]["formation"] == "deis" and UNAVAILABLE not in text  # context kept
    assert user_texts(s, "u-actions") == ["combien coûte la sélection du DEIS ?", "et la durée ?", "et la durée ?"]


def test_rasa_killed_and_restarted_keeps_slots_and_history(stack):
    s, procs = stack["s"], stack["procs"]
    say(s, "u-restart", "comment candidater au master CMC ?")
    before = tracker(s, "u-restart")
    assert before["slots"]["formation"] == "master_cmc"
    procs["rasa"].kill()
    procs["rasa"].wait(10)
    t = time.perf_counter()
    procs["rasa"] = launcher.start_rasa(s, stack["model"], s.auth_token, stack["log"], credentials=stack["creds"])
    print(f"Rasa restarted in {time.perf_counter() - t:.0f} s")
    after = tracker(s, "u-restart")
    assert after["slots"] == before["slots"] and after["events"] == before["events"]
    _text, kb = say(s, "u-restart", "et la durée ?")
    assert kb and kb[0]["formation"] == "master_cmc"
    assert user_texts(s, "u-restart") == ["comment candidater au master CMC ?", "et la durée ?"]


def test_tracker_database_unwritable_logs_one_error_and_still_answers(stack):
    s, tmp = stack["s"], stack["tmp"]
    log_path = tmp / "servers.log"
    mark = log_path.stat().st_size
    locker = sqlite3.connect(tmp / "tracker.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the database: Rasa cannot write
    try:
        _text, kb = say(s, "u-locked", "combien coûte la sélection du DEIS ?")
        assert kb and kb[0]["formation"] == "deis"
        _text, kb = say(s, "u-locked", "et la durée ?")  # context served from memory
        assert kb and kb[0]["formation"] == "deis"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    stack["log"].flush()
    new_log = log_path.read_text(errors="replace")[mark:]
    assert new_log.count("TRACKER STORE UNAVAILABLE") == 1, new_log[-3000:]
    say(s, "u-locked", "merci")  # writable again: the whole conversation reaches the database
    with sqlite3.connect(tmp / "tracker.db") as db:
        rows = db.execute("select data from events where sender_id = 'u-locked' and type_name = 'user' "
                          "order by id").fetchall()
    assert [json.loads(r[0])["text"] for r in rows] == ["combien coûte la sélection du DEIS ?", "et la durée ?", "merci"]


def test_fuzz_table_lists_numeric_and_named_statuses_together():
    # A body over the cap is answered 413 or cut off ("closed-413"): both in one category.
    from collections import Counter
    report = fuzz.FuzzReport(counts=Counter({("huge", 413): 2, ("huge", "closed-413"): 1}))
    assert "huge" in report.table() and "413: 2, closed-413: 1" in report.table()
