"""Fast checks of the web pieces that need no browser: allowed origins, the Rasa command line,
the page server (real HTTP on port 8385) and the socket.io output's message shape."""
from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from bot import launcher
from bot.config import load_settings


def test_allowed_origins_default_and_parsing(monkeypatch):
    monkeypatch.delenv("BOT_ALLOWED_ORIGINS", raising=False)
    assert load_settings().allowed_origins == ("http://127.0.0.1:8080", "http://localhost:8080")
    monkeypatch.setenv("BOT_ALLOWED_ORIGINS", " https://www.ecole.fr/ , https://admissions.ecole.fr:8443")
    assert load_settings().allowed_origins == ("https://www.ecole.fr", "https://admissions.ecole.fr:8443")
    for bad in ("*", "https://*.ecole.fr", "www.ecole.fr", "https://www.ecole.fr/admissions", "ftp://x.fr"):
        monkeypatch.setenv("BOT_ALLOWED_ORIGINS", bad)
        with pytest.raises(SystemExit, match="BOT_ALLOWED_ORIGINS"):
            load_settings()


def test_rasa_gets_the_same_origins_for_cors_and_socketio():
    s = replace(load_settings(), allowed_origins=("https://www.ecole.fr", "https://ecole.fr"))
    cmd = launcher.rasa_run_cmd(s, Path("m.tar.gz"), "tok")
    assert cmd[cmd.index("--cors") + 1:] == ["https://www.ecole.fr", "https://ecole.fr"]
    assert launcher.server_env(s)["BOT_ALLOWED_ORIGINS"] == "https://www.ecole.fr,https://ecole.fr"


def test_page_server_serves_the_page_and_widget_only():
    from bot.web import start_page_server
    s = replace(load_settings(), web_port=8385, rasa_port=5305)
    httpd = start_page_server(s)
    try:
        def get(path):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:8385{path}", timeout=10) as r:
                    return r.status, dict(r.headers), r.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, dict(exc.headers), ""

        status, headers, body = get("/")
        assert status == 200 and 'data-server-url="http://127.0.0.1:5305"' in body
        assert body.count("<script") == 1  # the widget is one script tag
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "http://127.0.0.1:5305" in headers["Content-Security-Policy"]
        status, headers, body = get("/widget/widget.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
        # every text goes through textContent: no HTML parsing anywhere in the widget
        assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write|eval\(", body)
        assert get("/widget/vendor/socket.io.min.js")[0] == 200
        for path in ("/widget/../../bot/config.py", "/%2e%2e/requirements.txt", "/web/package.json", "/nope"):
            assert get(path)[0] == 404, path
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_socketio_output_sends_one_event_with_text_buttons_and_custom():
    from bot.channels.socketio import WidgetOutput

    class Recorder:  # stands in for the socket.io server: records what would go on the wire
        def __init__(self):
            self.sent = []

        async def emit(self, event, data=None, room=None, **kw):
            self.sent.append((event, data, room))

    sio = Recorder()
    out = WidgetOutput(sio, "bot_uttered")
    custom = {"kb_id": "deis.frais.selection", "sources": [{"doc": "d", "title": "T", "section": "S"}]}
    asyncio.run(out.send_response("conv-1", {"text": "160 €.\n\nSource : T", "custom": custom}))
    asyncio.run(out.send_response("conv-1", {"text": "Quelle formation ?",
                                             "buttons": [{"title": "DEIS", "payload": "/inform_formation"}]}))
    assert sio.sent == [
        ("bot_uttered", {"text": "160 €.\n\nSource : T", "custom": custom}, "conv-1"),
        ("bot_uttered", {"text": "Quelle formation ?", "quick_replies": [
            {"content_type": "text", "title": "DEIS", "payload": "/inform_formation"}]}, "conv-1"),
    ]


def test_source_links_must_be_web_links(tmp_path):
    import shutil

    from bot.config import ROOT
    from bot.kb.loader import KnowledgeError, load_knowledge_base
    kdir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kdir)
    path = kdir / "sources.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '"https://cache.media.education.gouv.fr/file/SP4-MESRI-26-5-2022/12/0/spe617_annexe3_1426120.pdf"',
        '"javascript:alert(1)"'),
        encoding="utf-8")
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge_base(kdir)
    assert any("javascript:alert(1)" in p and "http" in p for p in exc.value.problems)
