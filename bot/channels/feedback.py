"""The website widget's other routes: suggested questions, rating an answer, contact request.

Rasa input channel `feedback` (credentials.yml); Rasa mounts it under /webhooks/feedback/:

- GET  suggestions → 200 {"suggestions": [...]}: knowledge/suggestions.yml, 3 to 5 questions
  chosen by staff and validated as `make faq-check` does; a broken edit is logged and the last
  valid list stays online.
- POST rating {sender, message_id, kb_id, question, useful, reason} → 201 {"ok": true};
  409 {"error"} when this conversation already rated this answer; 400 {"error"} on a bad field.
- POST contact {sender, name, email, message, consent_transcript} → 201 {"ok": true,
  "reference"}; 400 {"errors": {"name"|"email"|"message": …}} with every invalid field the
  visitor typed at once; 400 {"error"} for a bad body, `sender` or `consent_transcript` (the
  widget's own fields). With consent, the conversation's transcript is stored with it.

Around every route, as for messages: a request whose Origin header is not one of
BOT_ALLOWED_ORIGINS gets 403 (a page of another site must not file requests in a visitor's
name; requests without Origin, e.g. curl, go on as on the REST channel), a body over
BOT_MAX_BODY_BYTES 413, and the per-IP and per-sender rate limits 429 with Retry-After
(bot/channels/guard.py). Contact requests also have a stricter per-IP limit of their own:
each one is work for a person. CORS preflights (OPTIONS) are answered by Rasa's `--cors`.
A database failure is a 503 with a French text, not a 500. Every text is a domain.yml response.

Privacy: the logs get a contact request's reference and lengths, never its name, e-mail
address or message, and never a rating's question.
"""
from __future__ import annotations

import asyncio
import logging
import math
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.guard import clean_text, client_ip, printable, rate_limited_reply, response_text
from bot.config import Settings, load_settings
from bot.feedback_store import REASONS, DuplicateRating, FeedbackStore
from bot.kb.checks import ID_RE
from bot.kb.loader import SUGGESTIONS_FILE, load_suggestions
from bot.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
MAX_MESSAGE_ID_CHARS = 64
MAX_QUESTION_CHARS = 1000
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254  # RFC 5321's longest forward path
MAX_CONTACT_MESSAGE_CHARS = 2000
# The last messages of a very long conversation are enough for staff to answer.
MAX_TRANSCRIPT_MESSAGES = 200
# Per IP: 5 requests at once, then one every 3 minutes; a school behind one address is fine.
CONTACT_BURST, CONTACT_PER_MIN = 5, 1 / 3
# "Plausible": one @, no spaces or address punctuation, a dot in the domain between non-empty labels.
_ADDRESS_CHAR = r"[^@\s<>(),;:\"\[\]\\]"
EMAIL_RE = re.compile(rf"^{_ADDRESS_CHAR}+@(?:[^@\s<>(),;:\"\[\]\\.]+\.)+[^@\s<>(),;:\"\[\]\\.]+$")

Said = tuple[str, dict]  # a domain response's name and the values of its {placeholders}


def _says(response: str, **values: Any) -> Said:
    return response, values


def _id_ok(value: Any, limit: int) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit and printable(value)


def plausible_email(email: str) -> bool:
    return len(email) <= MAX_EMAIL_CHARS and printable(email) and bool(EMAIL_RE.match(email))


def validate_rating(body: Any) -> tuple[Optional[dict], Optional[Said]]:
    """(FeedbackStore.add_rating's arguments, None) or (None, the problem). Whether `kb_id`
    names an entry of the current base is checked apart (it may have to load the base)."""
    if not isinstance(body, dict):
        return None, _says(response="utter_feedback_bad_body")
    sender, message_id, kb_id = body.get("sender"), body.get("message_id"), body.get("kb_id")
    question, useful, reason = body.get("question"), body.get("useful"), body.get("reason")
    if not _id_ok(sender, MAX_SENDER_CHARS):
        return None, _says(response="utter_feedback_bad_sender", limit=MAX_SENDER_CHARS)
    if not _id_ok(message_id, MAX_MESSAGE_ID_CHARS):
        return None, _says(response="utter_feedback_bad_message_id", limit=MAX_MESSAGE_ID_CHARS)
    if not isinstance(kb_id, str) or not ID_RE.match(kb_id):
        return None, _says(response="utter_feedback_bad_kb_id")
    if not isinstance(question, str) or len(question) > MAX_QUESTION_CHARS:
        return None, _says(response="utter_feedback_bad_question", limit=MAX_QUESTION_CHARS)
    if not isinstance(useful, bool):
        return None, _says(response="utter_feedback_bad_useful")
    if reason is not None and reason not in REASONS:
        return None, _says(response="utter_feedback_bad_reason")
    return dict(sender_id=sender, message_id=message_id, kb_id=kb_id, question=clean_text(question).strip(),
                useful=useful, reason=reason), None


def validate_contact(body: Any) -> tuple[Optional[dict], Optional[Said], dict[str, Said]]:
    """(FeedbackStore.add_contact's arguments, None, {}), or None with the problem: a general
    one for the widget's own fields, else every invalid visitor field ("name", "email", "message")."""
    if not isinstance(body, dict):
        return None, _says(response="utter_feedback_bad_body"), {}
    sender, consent = body.get("sender"), body.get("consent_transcript", False)
    if not _id_ok(sender, MAX_SENDER_CHARS):
        return None, _says(response="utter_feedback_bad_sender", limit=MAX_SENDER_CHARS), {}
    if not isinstance(consent, bool):  # absent means no: the transcript is sent only if asked
        return None, _says(response="utter_feedback_bad_consent"), {}
    name, email, message = (body.get(k) for k in ("name", "email", "message"))
    name = " ".join(clean_text(name).split()) if isinstance(name, str) else ""
    email = email.strip() if isinstance(email, str) else ""
    message = clean_text(message).strip() if isinstance(message, str) else ""
    errors: dict[str, Said] = {}
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        errors["name"] = _says(response="utter_contact_error_name", limit=MAX_NAME_CHARS)
    if not plausible_email(email):
        errors["email"] = _says(response="utter_contact_error_email")
    if not 1 <= len(message) <= MAX_CONTACT_MESSAGE_CHARS:
        errors["message"] = _says(response="utter_contact_error_message", limit=MAX_CONTACT_MESSAGE_CHARS)
    if errors:
        return None, None, errors
    return dict(sender_id=sender, name=name, email=email, message=message, consent_transcript=consent), None, {}


def transcript_of(events: Any) -> list[dict]:
    """The user and bot texts of a conversation with their UNIX times, the last ones first kept."""
    lines = [{"from": "user" if isinstance(e, UserUttered) else "bot", "text": e.text, "time": e.timestamp}
             for e in events or () if isinstance(e, (UserUttered, BotUttered)) and e.text]
    return lines[-MAX_TRANSCRIPT_MESSAGES:]


def _known_entry(kb_id: str) -> bool:
    from bot.kb.store import get_kb
    try:
        return get_kb().get(kb_id) is not None
    except Exception:  # noqa: BLE001 - no readable base: the id's form was checked, keep the rating
        logger.warning("rating: knowledge base unavailable, entry id %s not checked", kb_id)
        return True


def _db_problem(exc: BaseException) -> str:
    """An exception fit for the logs: SQLAlchemy's own text lists the statement's parameters
    (a name, an e-mail address), so only the driver's first line is kept."""
    orig = getattr(exc, "orig", None)
    detail = str(orig).splitlines()[0][:200] if orig is not None and str(orig) else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


class _Suggestions:
    """knowledge/suggestions.yml, read again whenever it changes; a broken edit keeps the
    last valid list online and logs the `faq-check` messages once."""

    def __init__(self, root: Path) -> None:
        self.root, self._key, self._list = root, None, []

    def current(self) -> list[str]:
        try:
            st = (self.root / SUGGESTIONS_FILE).stat()
            key: Any = (st.st_mtime_ns, st.st_size)
        except OSError:
            key = "missing"
        if key != self._key:
            self._key = key
            found, errors = load_suggestions(self.root)
            if errors:
                logger.error("suggested questions: %d problem(s), the last valid list stays online: %s",
                             len(errors), " | ".join(errors))
            else:
                self._list = found
        return list(self._list)


class FeedbackInput(InputChannel):
    """Suggestions, ratings and contact requests of the website widget (see the module doc)."""

    @classmethod
    def name(cls) -> Text:
        return "feedback"

    def __init__(self, store: Optional[FeedbackStore] = None, settings: Optional[Settings] = None) -> None:
        self.settings = settings or load_settings()
        self.store = store or FeedbackStore(self.settings.tracker_url)
        self.suggestion_list = _Suggestions(self.settings.knowledge_dir)
        self.contact_limit = RateLimiter(CONTACT_BURST, CONTACT_PER_MIN)
        self.known_entry: Callable[[str], bool] = _known_entry

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("feedback_webhook", __name__)

        # Plain functions: Sanic tags each handler with its blueprint, which a bound method refuses.
        @bp.route("/suggestions", methods=["GET"])
        async def suggestions(request: Request) -> HTTPResponse:
            return await self.suggestions(request)

        @bp.route("/rating", methods=["POST"])
        async def rating(request: Request) -> HTTPResponse:
            return await self.rating(request)

        @bp.route("/contact", methods=["POST"])
        async def contact(request: Request) -> HTTPResponse:
            return await self.contact(request)

        return bp

    # -- routes --------------------------------------------------------------------------------
    async def suggestions(self, request: Request) -> HTTPResponse:
        refused, _ = self._checked(request)
        if refused is not None:
            return refused
        return response.json({"suggestions": self.suggestion_list.current()})

    async def rating(self, request: Request) -> HTTPResponse:
        refused, body = self._checked(request)
        if refused is not None:
            return refused
        values, problem = validate_rating(body)  # the form first: no base lookup for garbage
        if problem is None and not await asyncio.to_thread(self.known_entry, body["kb_id"]):
            problem = _says(response="utter_feedback_bad_kb_id")
        if problem is not None or values is None:
            return self._error(request, problem, 400)
        try:
            await asyncio.to_thread(self.store.add_rating, **values)
        except DuplicateRating:
            return self._error(request, _says(response="utter_feedback_duplicate"), 409)
        except Exception as exc:  # noqa: BLE001 - any database failure: a clear 503, not a 500
            logger.error("rating not stored, database failure: %s", _db_problem(exc))
            return self._error(request, _says(response="utter_feedback_unavailable"), 503)
        logger.info("rating stored: kb_id=%s useful=%s reason=%s", values["kb_id"], values["useful"], values["reason"])
        return response.json({"ok": True}, status=201)

    async def contact(self, request: Request) -> HTTPResponse:
        refused, body = self._checked(request)
        if refused is not None:
            return refused
        values, problem, fields = validate_contact(body)
        if problem is not None:
            return self._error(request, problem, 400)
        if fields or values is None:
            return response.json({"errors": {f: self._text(request, said) for f, said in fields.items()}},
                                 status=400)
        ip = client_ip(request)
        wait = self.contact_limit.check(ip) if ip else 0.0
        if wait:
            logger.info("contact rate limit: ip=%s must wait %.0f s", ip, wait)
            return self._error(request, _says(response="utter_rate_limited"), 429,
                               {"Retry-After": str(max(1, math.ceil(wait)))})
        transcript = await self._transcript(request, values["sender_id"]) if values["consent_transcript"] else None
        try:
            reference = await asyncio.to_thread(self.store.add_contact, **values, transcript=transcript)
        except Exception as exc:  # noqa: BLE001 - any database failure: a clear 503, not a 500
            logger.error("contact request not stored, database failure: %s", _db_problem(exc))
            return self._error(request, _says(response="utter_feedback_unavailable"), 503)
        logger.info("contact request %s stored: name %d chars, e-mail %d chars, message %d chars, transcript %s",
                    reference, len(values["name"]), len(values["email"]), len(values["message"]),
                    "none" if transcript is None else f"{len(transcript)} messages")
        return response.json({"ok": True, "reference": reference}, status=201)

    # -- helpers -------------------------------------------------------------------------------
    def _checked(self, request: Request) -> tuple[Optional[HTTPResponse], Any]:
        """(refusal, None): 403 for a foreign page, 413 for a body over the cap (before parsing
        it), 429 over the rate limits; else (None, the parsed JSON body or None)."""
        origin = request.headers.get("origin")
        if origin is not None and origin.rstrip("/") not in self.settings.allowed_origins:
            logger.info("feedback: request from origin %r refused", origin[:100])
            return self._error(request, _says(response="utter_feedback_forbidden_origin"), 403), None
        if len(request.body or b"") > self.settings.max_body_bytes:
            return self._error(request, _says(response="utter_feedback_too_large",
                                              limit=self.settings.max_body_bytes), 413), None
        body = _json(request) if request.body else None
        sender = body.get("sender") if isinstance(body, dict) else None
        limited = rate_limited_reply(getattr(request, "app", None), sender if isinstance(sender, str) else None,
                                     client_ip(request))
        if limited is None:
            return None, body
        text, wait = limited
        return response.json({"error": text}, status=429, headers={"Retry-After": str(wait)}), None

    async def _transcript(self, request: Request, sender: str) -> list[dict]:
        """The conversation's texts from Rasa's tracker store (empty if it has none)."""
        agent = getattr(getattr(getattr(request, "app", None), "ctx", None), "agent", None)
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return []
        retrieve = getattr(tracker_store, "retrieve_full_tracker", None) or tracker_store.retrieve
        try:
            tracker = await retrieve(sender)
        except Exception as exc:  # noqa: BLE001 - the request matters more than its transcript
            logger.warning("contact request: transcript unavailable (%s)", _db_problem(exc))
            return []
        return transcript_of(tracker.events if tracker is not None else ())

    @staticmethod
    def _text(request: Request, said: Said) -> str:
        """The response's French text, {placeholders} filled in (no str.format: keep other braces)."""
        name, values = said
        text = response_text(getattr(request, "app", None), name)
        for key, value in values.items():
            text = text.replace("{" + key + "}", str(value))
        return text

    def _error(self, request: Request, said: Optional[Said], status: int,
               headers: Optional[dict] = None) -> HTTPResponse:
        said = said or _says(response="utter_feedback_bad_body")
        return response.json({"error": self._text(request, said)}, status=status, headers=headers)


def _json(request: Request) -> Any:
    """The parsed body, or None when it is no JSON at all (then: a 400 for a bad body)."""
    try:
        return request.json
    except Exception:  # noqa: BLE001 - Sanic raises InvalidUsage on malformed JSON
        return None
