"""Rasa's REST channel with request validation.

The stock channel answers 500 to a JSON body that is not an object, and files a message
without `sender` under the shared id "default". Here both get a clear 400 instead. An
over-long message is cut to one character over the limit before anything else reads it, so
a 100 000-character text costs no more than a long one and is still refused as too long.
"""
from __future__ import annotations

from typing import Any, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

from bot.config import load_settings

MAX_SENDER_CHARS = 128


class ValidatedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"  # same URL as the stock channel: /webhooks/rest/webhook

    @staticmethod
    def _body(req: Request) -> dict:
        body: Any = req.json
        if not isinstance(body, dict):
            raise InvalidUsage('Le corps de la requête doit être un objet JSON : {"sender": "…", "message": "…"}.')
        return body

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = self._body(req).get("sender")
        if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
            raise InvalidUsage("Le champ « sender » (identifiant de conversation, texte de 1 à "
                               f"{MAX_SENDER_CHARS} caractères) est obligatoire.")
        return sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = self._body(req).get("message")
        if message is None:
            return ""
        if not isinstance(message, str):
            raise InvalidUsage("Le champ « message » doit être un texte.")
        limit = load_settings().max_message_chars
        # Rasa strips the text afterwards: end the cut with a visible character.
        return message if len(message) <= limit else message[:limit] + "…"
