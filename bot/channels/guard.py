"""What every input channel adds around a turn: rate limits, and no silent turn.

- `rate_limited_reply` charges the per-IP and per-sender buckets (bot/ratelimit.py) and gives
  the French `utter_rate_limited` text when the client must wait.
- `answer_when_silent` wraps Rasa's `on_new_message`: when a turn produced no bot message at
  all (Rasa 3.6 logs a failed custom action, e.g. the action server is down, and sends
  nothing), the user gets `utter_service_unavailable` instead of silence. The user message is
  stored as usual, so the conversation goes on once the action server is back.

- `printable` / `clean_text`: conversation ids without control characters, message texts with
  control characters and lone surrogates replaced (the fuzzer found that a lone surrogate
  crashes spaCy's tokenizer: "surrogates not allowed").

Used by both channels (bot/channels/rest.py and bot/channels/socketio.py). The sentences live in domain.yml.
"""
from __future__ import annotations

import logging
import math
import re
import unicodedata
from functools import lru_cache
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import yaml
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Sanic

from bot.config import ROOT
from bot.ratelimit import limits

logger = logging.getLogger(__name__)

# Rasa's own commands that legitimately answer nothing (they reset or rewind the conversation).
SILENT_COMMANDS = re.compile(r"^\s*/(restart|back|session_start)\b")


@lru_cache(maxsize=1)
def _domain_file_responses() -> dict:
    with open(ROOT / "domain.yml", encoding="utf-8") as f:
        return yaml.safe_load(f).get("responses", {})


def response_text(app: Any, name: str) -> str:
    """First text of a domain response: the loaded model's domain, else domain.yml."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    domain = getattr(agent, "domain", None)
    variants = (getattr(domain, "responses", None) or {}).get(name) or _domain_file_responses().get(name)
    return variants[0]["text"]


def printable(sender: str) -> bool:
    """No control, format, surrogate or unassigned characters in a conversation id: they break
    logs and some databases (PostgreSQL refuses NUL)."""
    return not any(unicodedata.category(c).startswith("C") for c in sender)


def clean_text(text: str) -> str:
    """Control characters become spaces and lone surrogates U+FFFD, so that logs, spaCy and
    the tracker store only ever see valid, printable text (newlines and tabs are kept)."""
    if text.isprintable():
        return text
    return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF
                   else " " if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text)


def client_ip(request: Any) -> str:
    """The client address; behind a proxy Sanic gives the forwarded one when configured to
    trust it (SANIC_PROXIES_COUNT / SANIC_REAL_IP_HEADER), else the socket's peer."""
    return getattr(request, "remote_addr", "") or getattr(request, "ip", "") or ""


def rate_limited_reply(app: Any, sender: Optional[str], ip: Optional[str]) -> Optional[tuple[str, int]]:
    """None if the message may go on, else (French text, seconds to wait)."""
    wait = limits().check(sender, ip)
    if not wait:
        return None
    logger.info("rate limit: sender=%r ip=%s must wait %.1f s", (sender or "")[:64], ip, wait)
    return response_text(app, "utter_rate_limited"), max(1, math.ceil(wait))


class _CountingOutput(OutputChannel):
    """Passes every bot message on to the channel's own output, counting them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner, self.sent = inner, 0

    def name(self) -> Text:  # type: ignore[override]
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    def __getattr__(self, name: str) -> Any:  # e.g. CollectingOutputChannel.messages
        return getattr(self.inner, name)


def _counted(method: str) -> Callable:
    async def send(self: _CountingOutput, *args: Any, **kwargs: Any) -> None:
        self.sent += 1
        await getattr(self.inner, method)(*args, **kwargs)
    return send


for _method in ("send_text_message", "send_image_url", "send_attachment", "send_text_with_buttons",
                "send_quick_replies", "send_elements", "send_custom_json"):
    setattr(_CountingOutput, _method, _counted(_method))


def _current_app() -> Any:
    try:
        return Sanic.get_app()  # `rasa run` has exactly one app
    except Exception:  # noqa: BLE001 - no app (unit tests): response_text reads domain.yml
        return None


def answer_when_silent(on_new_message: Callable[[UserMessage], Awaitable[Any]],
                       app_getter: Callable[[], Any] = _current_app) -> Callable[[UserMessage], Awaitable[Any]]:
    """Wrap `on_new_message` so that a turn never ends without a reply."""

    async def handler(message: UserMessage) -> Any:
        inner = message.output_channel
        counting = _CountingOutput(inner)
        message.output_channel = counting
        try:
            return await on_new_message(message)
        finally:
            # Also after an exception (the REST channel catches it and returns what was sent).
            if counting.sent == 0 and not SILENT_COMMANDS.match(message.text or ""):
                logger.error("turn of sender %r produced no reply (action server down?): sent "
                             "utter_service_unavailable", (message.sender_id or "")[:64])
                await inner.send_text_message(message.sender_id,
                                              response_text(app_getter(), "utter_service_unavailable"))

    return handler
