"""Rate limits (token buckets), the no-silent-turn guard and the resilient tracker store.

Real parts: the limiter with a controlled clock, Rasa's output channels, a real SQLite file
locked by another connection for the tracker store.
"""
import asyncio
import logging
import sqlite3

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.guard import answer_when_silent, response_text
from bot.ratelimit import Limits, RateLimiter
from bot.trackers import ResilientSQLTrackerStore


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_bucket_allows_a_burst_then_refills():
    clock = Clock()
    rl = RateLimiter(burst=3, per_min=60, clock=clock)  # one token a second
    assert [rl.check("a") for _ in range(3)] == [0, 0, 0]
    wait = rl.check("a")
    assert 0.9 < wait <= 1.0
    assert rl.check("b") == 0  # other keys unaffected
    clock.t += 1.0
    assert rl.check("a") == 0 and rl.check("a") > 0


def test_disabled_limit_and_bounded_memory():
    assert all(RateLimiter(0, 60).check("a") == 0 for _ in range(1000))
    rl = RateLimiter(1, 60, max_keys=10)
    for i in range(100):
        rl.check(f"forged-{i}")
    assert len(rl._buckets) == 10


def test_ip_bucket_stops_forged_senders():
    clock = Clock()
    limits = Limits(RateLimiter(5, 60, clock=clock), RateLimiter(10, 60, clock=clock))
    waits = [limits.check(f"sender-{i}", "10.0.0.1") for i in range(11)]
    assert waits[:10] == [0] * 10 and waits[10] > 0
    assert limits.check("sender-x", "10.0.0.2") == 0


def test_rate_limit_text_comes_from_the_domain():
    text = response_text(None, "utter_rate_limited")
    assert "Patientez" in text
    assert "momentanément indisponible" in response_text(None, "utter_service_unavailable")


def test_silent_turn_gets_the_unavailable_reply_and_a_normal_one_does_not():
    async def silent(message):
        return None

    async def talks(message):
        await message.output_channel.send_text_message(message.sender_id, "réponse")

    async def crashes(message):
        raise RuntimeError("action server down")

    for handler, expected in [(silent, "momentanément indisponible"), (talks, "réponse")]:
        out = CollectingOutputChannel()
        asyncio.run(answer_when_silent(handler, lambda: None)(UserMessage("durée du DEIS ?", out, "u1")))
        assert len(out.messages) == 1 and expected in out.messages[0]["text"]
    out = CollectingOutputChannel()
    with pytest.raises(RuntimeError):
        asyncio.run(answer_when_silent(crashes, lambda: None)(UserMessage("x", out, "u1")))
    assert "indisponible" in out.messages[0]["text"]
    out = CollectingOutputChannel()
    asyncio.run(answer_when_silent(silent, lambda: None)(UserMessage("/restart", out, "u1")))
    assert out.messages == []


DOMAIN = Domain.from_dict({"slots": {"formation": {"type": "text", "mappings": [{"type": "custom"}]}}})


def test_tracker_store_keeps_answering_when_the_database_is_locked(tmp_path, caplog):
    db = tmp_path / "tracker.db"
    store = ResilientSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{db}?timeout=0.2")
    tracker = DialogueStateTracker("u1", DOMAIN.slots)

    def turn(i, formation):
        tracker.update(UserUttered(f"message {i}"))
        tracker.update(SlotSet("formation", formation))
        asyncio.run(store.save(tracker))  # never raises

    turn(0, "deis")
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the database: every write fails
    try:
        with caplog.at_level(logging.ERROR, logger="bot.trackers"):
            for i in (1, 2, 3):
                turn(i, "master_cmc")
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "TRACKER STORE UNAVAILABLE" in errors[0].getMessage()
        got = asyncio.run(store.retrieve("u1"))  # the newest state, from memory
        assert got.get_slot("formation") == "master_cmc" and len(got.events) == 8
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    turn(4, "but_cs")  # writable again: the turns held in memory are written too
    got = asyncio.run(ResilientSQLTrackerStore(domain=DOMAIN, host=f"sqlite:///{db}").retrieve("u1"))
    assert got.get_slot("formation") == "but_cs"
    assert [e.text for e in got.events if isinstance(e, UserUttered)] == [f"message {i}" for i in range(5)]


def test_rest_channel_refuses_bad_metadata_and_cleans_text():
    from types import SimpleNamespace

    from sanic.exceptions import InvalidUsage

    from bot.channels.guard import clean_text, printable
    from bot.channels.rest import ValidatedRestInput

    channel = ValidatedRestInput()
    for metadata in ([[[]]], 3.14, "x", {"k": "v" * 5000}):
        with pytest.raises(InvalidUsage):
            channel.get_metadata(SimpleNamespace(json={"sender": "a", "message": "b", "metadata": metadata}))
    assert channel.get_metadata(SimpleNamespace(json={"sender": "a", "metadata": {"page": "/deis"}})) == {"page": "/deis"}
    assert channel._extract_input_channel(SimpleNamespace(json={"input_channel": 3.14})) == "rest"
    assert clean_text("dur\udddd\x00ée\n") == "dur\ufffd ée\n"
    assert not printable("a\x00b") and not printable("\u202eevil") and printable("visiteur-42 é")
