"""The demo admissions page and the chat widget's files, served over HTTP (`make web`).

A small stdlib server on 127.0.0.1:8080 (BOT_WEB_HOST / BOT_WEB_PORT): the page from
web/demo/, the widget from web/widget/ and the socket.io client from web/node_modules/ (npm,
see scripts/web-deps.sh). `web()` runs it with the action server and Rasa (REST + socket.io)
and stops the three together on Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import urlsplit

from bot import launcher
from bot.config import ROOT, Settings

WEB = ROOT / "web"
VENDOR = WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
# URL path -> file. A fixed table: nothing outside it can be requested (no path traversal).
FILES = {
    "/": WEB / "demo" / "index.html",
    "/index.html": WEB / "demo" / "index.html",
    "/demo/page.css": WEB / "demo" / "page.css",
    "/widget/widget.js": WEB / "widget" / "widget.js",
    "/widget/widget.css": WEB / "widget" / "widget.css",
    "/widget/strings.fr.js": WEB / "widget" / "strings.fr.js",
    "/widget/dom.js": WEB / "widget" / "dom.js",
    "/widget/panel.js": WEB / "widget" / "panel.js",
    "/widget/render.js": WEB / "widget" / "render.js",
    "/widget/feedback.js": WEB / "widget" / "feedback.js",
    "/widget/contact.js": WEB / "widget" / "contact.js",
    "/widget/vendor/socket.io.min.js": VENDOR,
}


def make_handler(s: Settings):
    server_url = s.rasa_url
    rasa_origin = urlsplit(server_url)
    ws_url = f"{'wss' if rasa_origin.scheme == 'https' else 'ws'}://{rasa_origin.netloc}"
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           f"connect-src 'self' {server_url} {ws_url}; base-uri 'none'; form-action 'self'; "
           "frame-ancestors 'none'; object-src 'none'")

    class Handler(BaseHTTPRequestHandler):
        server_version = "admissions-web"
        sys_version = ""

        def _send(self, head_only: bool) -> None:
            path = FILES.get(urlsplit(self.path).path)
            if path is None or not path.is_file():
                self.send_error(HTTPStatus.NOT_FOUND, "Page introuvable")
                return
            body = path.read_bytes()
            if path.suffix == ".html":
                body = body.replace(b"__BOT_SERVER_URL__", server_url.encode())
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", TYPES.get(path.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
            if path.suffix == ".html":
                self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._send(False)

        def do_HEAD(self) -> None:
            self._send(True)

        def log_request(self, code="-", size="-") -> None:  # quiet: errors only
            if str(getattr(code, "value", code)).startswith(("4", "5")):
                super().log_request(code, size)

    return Handler


def start_page_server(s: Settings) -> ThreadingHTTPServer:
    """Serve the page and the widget in a background thread; `.shutdown()` stops it."""
    if not VENDOR.is_file():
        raise SystemExit("web/node_modules is missing: run scripts/web-deps.sh (npm ci) first.")
    httpd = ThreadingHTTPServer((s.web_host, s.web_port), make_handler(s))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, name="page-server", daemon=True).start()
    return httpd


@contextmanager
def page_server(s: Settings) -> Iterator[ThreadingHTTPServer]:
    httpd = start_page_server(s)
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def web(s: Settings) -> int:
    """`make web`: train if needed, then actions + Rasa (REST + socket.io) + the page server."""
    return launcher.serve(s, extra=lambda: page_server(s),
                          ready=f"Ready: open {s.web_url}/ (the chat widget talks to {s.rasa_url}). "
                                "Ctrl-C stops everything.")
