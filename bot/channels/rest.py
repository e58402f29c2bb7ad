"""Rasa's REST channel with request validation.

The stock channel answers 500 to a JSON body that is not an object, and files a message
without `sender` under the shared id "default". Here both get a clear 400 instead. An
over-long message is cut to one character over the limit before anything else reads it, so
a 100 000-character text costs no more than a long one and is still refused as too long.

Around each turn (bot/channels/guard.py): the per-IP and per-sender rate limits answer 429 with
the French `utter_rate_limited` text (same JSON shape as a reply, plus Retry-After), and a turn
that produced no reply (action server down) gets `utter_service_unavailable`. Bodies over
BOT_MAX_BODY_BYTES never get here: Sanic answers 413 first.
"""
from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.channels.guard import answer_when_silent, clean_text, client_ip, printable, rate_limited_reply, response_text
from bot.config import load_settings

MAX_SENDER_CHARS = 128
# Metadata is stored with every message: a small JSON object or nothing.
MAX_METADATA_BYTES = 4096


class ValidatedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL as the stock channel: /webhooks/rest/webhook

    @staticmethod
    def _body(req: Request) -> dict:
        body: Any = req.json
        if not isinstance(body, dict):
            raise _bad_request(req, "utter_bad_request_body")
        return body

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = self._body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS \
                or not printable(sender):
            raise _bad_request(req, "utter_bad_request_sender", limit=MAX_SENDER_CHARS)
        return sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = self._body(req).get("message")
        if message is None:
            return ""
        if not isinstance(message, str):
            raise _bad_request(req, "utter_bad_request_message")
        limit = load_settings().max_message_chars
        # Rasa strips the text afterwards: end the cut with a visible character.
        return clean_text(message if len(message) <= limit else message[:limit] + "…")

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()  # never what the client claims: it would be stored as the channel

    def get_metadata(self, request: Request) -> Optional[dict]:
        metadata = self._body(request).get("metadata")
        if metadata is None:
            return None
        if not isinstance(metadata, dict) or len(json.dumps(metadata)) > MAX_METADATA_BYTES:
            raise _bad_request(request, "utter_bad_request_metadata", limit=MAX_METADATA_BYTES)
        return metadata

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = super().blueprint(answer_when_silent(on_new_message))

        @bp.middleware("request")
        async def rate_limit(request: Request) -> Optional[response.HTTPResponse]:
            if request.method != "POST":
                return None
            try:  # a bad body is the handler's business (clear 400); only the IP is charged then
                body = request.json
                sender = body.get("sender") if isinstance(body, dict) else None
            except Exception:  # noqa: BLE001
                sender = None
            limited = rate_limited_reply(request.app, sender if isinstance(sender, str) else None,
                                         client_ip(request))
            if limited is None:
                return None
            text, wait = limited
            return response.json([{"recipient_id": sender if isinstance(sender, str) else "", "text": text}],
                                 status=429, headers={"Retry-After": str(wait)})

        return bp


def _bad_request(req: Request, response: str, **values: Any) -> InvalidUsage:
    """A 400 with the domain's French explanation ({limit} filled in; no str.format, so the
    JSON braces of the text stay as they are)."""
    text = response_text(getattr(req, "app", None), response)
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return InvalidUsage(text)
