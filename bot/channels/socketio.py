"""Rasa's socket.io channel, restricted and fixed for the website widget (web/widget/).

Differences from the stock `rasa.core.channels.socketio` channel, and why:
- Only the origins of `BOT_ALLOWED_ORIGINS` may connect (the stock server disables the origin
  check altogether with `cors_allowed_origins=[]`).
- One bot message is one `bot_uttered` event `{text, quick_replies, custom}`: the stock output
  splits texts on blank lines and crashes on a `custom` payload (it passes the payload's keys
  to `emit` as keyword arguments), so the widget would lose the source under each answer.
- A conversation id is bound to the socket by `session_request` (kept in the socket's
  server-side session); `user_uttered` uses that id, not one the message claims, and its text
  is cut to the same length limit as the REST channel.
- `user_uttered` is acknowledged once the bot has replied, so the widget knows when to stop
  its typing indicator and when a message was really handled.
- The same guard as the REST channel (bot/channels/guard.py): per-sender and per-IP rate
  limits with the French `utter_rate_limited` text, control characters and lone surrogates
  cleaned, and `utter_service_unavailable` when a turn would end in silence (action server down).

Needs python-socketio 5.9 (pinned): from 5.10 `enter_room` is a coroutine on the async server.
"""
from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncServer

from bot.channels.guard import answer_when_silent, clean_text, client_ip, rate_limited_reply
from bot.config import load_settings

logger = logging.getLogger(__name__)
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
MAX_EVENT_BYTES = 64 * 1024  # a question is at most a few kB; refuse huge frames early


class WidgetOutput(SocketIOOutput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        out: Dict[Text, Any] = {}
        text = (message.get("text") or "").strip()
        if text:
            out["text"] = text
        buttons = message.get("buttons") or message.get("quick_replies") or []
        if buttons:
            out["quick_replies"] = [{"content_type": "text", "title": str(b.get("title", "")),
                                     "payload": str(b.get("payload", ""))} for b in buttons]
        if isinstance(message.get("custom"), dict):
            out["custom"] = message["custom"]
        if out:
            await self._send_message(recipient_id, out)
        rest = {k: v for k, v in message.items() if k in ("image", "attachment", "elements") and v}
        if rest:  # not used by this bot; keep the stock behaviour for them
            await super().send_response(recipient_id, rest)


class WidgetSocketIOInput(SocketIOInput):
    """The socket.io channel of the website, at /socket.io (credentials.yml)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def get_output_channel(self) -> Optional[WidgetOutput]:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.jwt_key:  # the widget does not send tokens; do not let a config imply it is checked
            raise ValueError("WidgetSocketIOInput does not support jwt_key")
        settings = load_settings()
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=list(settings.allowed_origins),
                          max_http_buffer_size=MAX_EVENT_BYTES)
        bp = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        ns = self.namespace
        on_new_message = answer_when_silent(on_new_message)

        @bp.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @sio.on("session_request", namespace=ns)
        async def session_request(sid: Text, data: Any) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            session_id = asked if isinstance(asked, str) and SESSION_ID.match(asked) else uuid.uuid4().hex
            async with sio.session(sid, namespace=ns) as session:
                old = session.get("session_id")
                if old and old != session_id:
                    sio.leave_room(sid, old, namespace=ns)
                session["session_id"] = session_id
            if self.session_persistence:
                sio.enter_room(sid, session_id, namespace=ns)  # sync in python-socketio 5.9
            await sio.emit("session_confirm", session_id, room=sid, namespace=ns)

        @sio.on(self.user_message_evt, namespace=ns)
        async def handle_message(sid: Text, data: Any) -> Dict[Text, Any]:
            session = await sio.get_session(sid, namespace=ns)
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str):
                return {"ok": False, "error": "bad_message"}
            if self.session_persistence and not session.get("session_id"):
                return {"ok": False, "error": "no_session"}
            sender_id = session["session_id"] if self.session_persistence else sid
            request = (sio.get_environ(sid, namespace=ns) or {}).get("sanic.request")
            limited = rate_limited_reply(getattr(request, "app", None), sender_id, client_ip(request))
            if limited is not None:
                text_wait, wait = limited
                await WidgetOutput(sio, self.bot_message_evt).send_text_message(sender_id, text_wait)
                return {"ok": False, "error": "rate_limited", "retry_after": wait}
            limit = settings.max_message_chars
            # As the REST channel does: cut to the limit, control characters cleaned.
            text = clean_text(text if len(text) <= limit else text[:limit] + "…")
            metadata = data.get(self.metadata_key)
            await on_new_message(UserMessage(text, WidgetOutput(sio, self.bot_message_evt), sender_id,
                                             input_channel=self.name(),
                                             metadata=metadata if isinstance(metadata, dict) else {}))
            return {"ok": True}

        return bp
