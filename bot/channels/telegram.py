"""Peiban's Telegram channel for Rasa 3.6, on python-telegram-bot 22.

Referenced from ``credentials.yml`` as ``bot.channels.telegram.TelegramInput``; Rasa mounts it
at ``/webhooks/telegram/webhook``. Telegram (webhook mode) and our own poller
(``python -m bot telegram poll``) both POST updates here, so both modes share one code path.

Why not Rasa's built-in channel: it skips Telegram's webhook secret, drops non-text messages,
never answers callbacks, keys groups as one user and sets the webhook on start. Here:

- every request must carry ``X-Telegram-Bot-Api-Secret-Token`` (constant-time compare) or gets
  403. The secret is ``TELEGRAM_SECRET_TOKEN``; when only ``TELEGRAM_TOKEN`` is set (a
  developer polling locally) it is derived from the token (see :func:`webhook_secret`), which
  only our poller knows: ``set-webhook`` refuses to run without an explicit secret. With no
  token and no secret every update is refused.
- private chats only: conversation id ``telegram:<user id>`` (the prefix keeps Telegram users
  apart from REST and chat-page senders); groups get one polite reply, then are ignored.
- text, captions and edited messages go to Rasa (a caption is text: a risk in it escalates);
  other media get a friendly "I can only read text" in the user's language.
- per-user token bucket and FIFO lock: one user's flood never delays another user, and a
  flood never swallows a message the safety detector flags.
- a failing update is logged and answered 200 (Telegram would redeliver it forever);
  duplicates (Telegram redelivers slow updates) are recognised by ``update_id``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Message, Update
from telegram.error import TelegramError

from bot.alerts.ack import handle_telegram_callback
from bot.channels import telegram_out as out
from bot.channels.flood import FloodGate, KeyedLocks, RecentSet, Verdict, is_risky
from bot.channels.texts import language_from_code, language_of_text, text
from bot.staff.linking import redeem_telegram_code

logger = logging.getLogger(__name__)

CHANNEL_NAME = "telegram"
CONVERSATION_PREFIX = "telegram:"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MAX_BODY_BYTES = 256 * 1024  # a real update is a few kB; this bounds memory per request
RESPONSE_TIMEOUT = 50.0  # answer Telegram before its own timeout; processing carries on
# Animation messages also carry `document`, so animation is checked first.
MEDIA_KINDS = ("animation", "voice", "audio", "photo", "sticker", "video", "video_note",
               "document", "location", "contact")
COMMAND_INTENTS = {"help": "/ask_help", "stop": "/stop"}
DEEP_LINK_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Telegram's rule for ?start= payloads
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


# --------------------------------------------------------------------------- secret
def webhook_secret(secret: str | None, token: str | None) -> str | None:
    """The secret updates must carry: the configured one, else one derived from the token.

    The derived secret lets `make run` poll with only TELEGRAM_TOKEN set while the webhook
    endpoint still refuses anyone who does not know the bot token.
    """
    if secret:
        return secret
    if token:
        return hmac.new(token.encode(), b"peiban/telegram/local-poll", hashlib.sha256).hexdigest()
    return None


def secret_matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def conversation_id(user_id: int) -> str:
    return f"{CONVERSATION_PREFIX}{user_id}"


# --------------------------------------------------------------------------- updates
@dataclass(frozen=True)
class Inbound:
    """What we need from one update, independent of its Telegram shape."""

    update_id: int
    user_id: int
    chat_id: int
    chat_type: str
    language_code: str | None = None
    message_id: int | None = None
    text: str | None = None  # message text or media caption
    media: str | None = None  # a MEDIA_KINDS entry for non-text messages
    edited: bool = False
    callback_id: str | None = None
    callback_data: str | None = None

    @property
    def private(self) -> bool:
        return self.chat_type == "private"

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.user_id)


def parse_update(update: Update) -> Inbound | None:
    """The parts of an update we act on; None for update types we do not handle."""
    if update.callback_query is not None:
        query = update.callback_query
        msg = query.message if isinstance(query.message, Message) else None
        return Inbound(
            update_id=update.update_id,
            user_id=query.from_user.id,
            chat_id=msg.chat.id if msg else query.from_user.id,
            chat_type=msg.chat.type if msg else "private",
            language_code=query.from_user.language_code,
            message_id=msg.message_id if msg else None,
            callback_id=query.id,
            callback_data=query.data or "",
        )
    msg = update.message or update.edited_message
    if msg is None or msg.from_user is None:
        return None  # channel posts, polls, member updates…: not conversations
    media = next((kind for kind in MEDIA_KINDS if getattr(msg, kind, None)), None)
    return Inbound(
        update_id=update.update_id,
        user_id=msg.from_user.id,
        chat_id=msg.chat.id,
        chat_type=msg.chat.type,
        language_code=msg.from_user.language_code,
        message_id=msg.message_id,
        text=msg.text if msg.text is not None else msg.caption,
        media=None if msg.text is not None else media,
        edited=update.edited_message is not None,
    )


def command_of(message_text: str) -> tuple[str, str] | None:
    """``/Start@PeibanBot  abc`` → ("start", "abc"); None when the text is no command."""
    match = re.match(r"^/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(.*))?$", message_text, re.S)
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


def as_plain_text(message_text: str) -> str:
    """Typed text must never be read as Rasa intent syntax ("/intent{…}" skips the NLU and
    with it the risk detector), so leading slashes are dropped."""
    return message_text.lstrip("/").strip()


def intent_message(intent: str, **entities: str) -> str:
    return intent + (json.dumps(entities, ensure_ascii=False) if entities else "")


# --------------------------------------------------------------------------- output
class TelegramOutput(OutputChannel):
    """Rasa's responses → Telegram. Never raises: a send error must not abort Rasa's handling
    of the message (the tracker, and with it a safety case, is saved after the replies)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        # Blank lines separate bubbles (as in Rasa's own Telegram channel): short messages
        # read better on a phone than one long block.
        for part in re.split(r"\n\s*\n", text.strip()):
            if part.strip():
                await self._send(recipient_id, part)

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        await self._send(recipient_id, text, buttons)

    async def send_quick_replies(self, recipient_id: str, text: str,
                                 quick_replies: list[dict[str, Any]], **kwargs: Any) -> None:
        await self._send(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, image)  # a link previews; we never upload children's data

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self._send(recipient_id, str(attachment))

    async def send_elements(self, recipient_id: str, elements: Iterable[dict[str, Any]],
                            **kwargs: Any) -> None:
        for element in elements:
            lines = [element.get("title", ""), element.get("subtitle", "")]
            await self._send(recipient_id, "\n".join(x for x in lines if x),
                             element.get("buttons"))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        if json_message.get("text"):
            await self._send(recipient_id, str(json_message["text"]),
                             json_message.get("buttons"))
        else:
            logger.info("telegram: custom json without text not sent: %s", list(json_message))

    async def _send(self, recipient_id: str, message_text: str,
                    buttons: list[dict[str, Any]] | None = None) -> None:
        chat_id = out.chat_id_of(recipient_id)
        if chat_id is None:
            logger.error("telegram: cannot send to non-Telegram recipient %r", recipient_id)
            return
        try:
            await out.send_text(chat_id, message_text, buttons)
        except TelegramError as exc:
            logger.warning("telegram: sending to %s failed: %s", chat_id, exc)
        except Exception:
            logger.exception("telegram: sending to %s failed", chat_id)


# --------------------------------------------------------------------------- input
class _LanguageMemory:
    """The language of each user's last text (bounded), for replies the channel writes."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._data: OrderedDict[int, str] = OrderedDict()

    def get(self, user_id: int) -> str | None:
        return self._data.get(user_id)

    def set(self, user_id: int, language: str) -> None:
        self._data[user_id] = language
        self._data.move_to_end(user_id)
        if len(self._data) > self.size:
            self._data.popitem(last=False)


class TelegramInput(InputChannel):
    """The Telegram input channel (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        """Optional credentials.yml keys: ``burst``, ``rate``, ``response_timeout``.

        Token and secret come from the environment (bot.config.settings), never the file.
        """
        credentials = credentials or {}
        return cls(
            burst=int(credentials.get("burst", 8)),
            rate=float(credentials.get("rate", 1.0)),
            response_timeout=float(credentials.get("response_timeout", RESPONSE_TIMEOUT)),
        )

    def __init__(self, *, burst: int = 8, rate: float = 1.0,
                 response_timeout: float = RESPONSE_TIMEOUT) -> None:
        self.flood = FloodGate(burst=burst, rate=rate)
        self.locks = KeyedLocks()
        self.seen_updates = RecentSet(20_000)
        self.declined_chats = RecentSet(20_000)
        self.languages = _LanguageMemory()
        self.response_timeout = response_timeout
        self._tasks: set[asyncio.Task] = set()

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput()

    # ---------------------------------------------------------------- HTTP
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint(f"peiban_telegram_{id(self)}", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "secret_configured": bool(self._secret())})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return bp

    def _secret(self) -> str | None:
        from bot.config import settings

        conf = settings()
        return webhook_secret(conf.telegram_secret_token, conf.telegram_token)

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        if not secret_matches(self._secret(), request.headers.get(SECRET_HEADER)):
            logger.warning("telegram: update refused (bad or missing secret) from %s",
                           request.ip)
            return response.json({"error": "forbidden"}, status=403)
        body = await _read_bounded(request, MAX_BODY_BYTES)
        if body is None:
            return response.json({"error": "body too large"}, status=413)
        data = _update_json(body)
        if data is None:
            # Telegram only ever sends JSON objects with an update_id: this is a bug on our
            # side (poller, test) and a 400 makes it visible. Telegram never sees it.
            logger.warning("telegram: malformed update body (%d bytes)", len(body))
            return response.json({"error": "not a Telegram update"}, status=400)
        task = asyncio.ensure_future(self._handle_safely(data, on_new_message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.response_timeout)
        except asyncio.TimeoutError:
            logger.warning("telegram: update %s still processing; answered 200",
                           data.get("update_id"))
        return response.json({"ok": True})

    async def _handle_safely(self, data: dict[str, Any], on_new_message: OnNewMessage) -> None:
        inbound: Inbound | None = None
        try:
            update = Update.de_json(data, out.get_bot())
            inbound = parse_update(update) if update else None
            if inbound is None:
                logger.debug("telegram: ignored update %s (%s)", data.get("update_id"),
                             [k for k in data if k != "update_id"])
                return
            await self.handle(inbound, on_new_message)
        except Exception:
            logger.exception("telegram: update %s failed", data.get("update_id"))
            if inbound is not None and inbound.private:
                await self._say(inbound, "error.retry")

    # ---------------------------------------------------------------- routing
    async def handle(self, inbound: Inbound, on_new_message: OnNewMessage) -> None:
        if not self.seen_updates.add(inbound.update_id):
            logger.info("telegram: duplicate update %s ignored", inbound.update_id)
            return
        if not inbound.private:
            await self._decline_group(inbound)
            return
        verdict = self.flood.check(inbound.conversation_id)
        if verdict is not Verdict.ALLOW and not await _safety_exempt(inbound):
            await self._slow_down(inbound, verdict)
            return
        async with self.locks.hold(inbound.conversation_id):
            await self._dispatch(inbound, on_new_message)

    async def _dispatch(self, inbound: Inbound, on_new_message: OnNewMessage) -> None:
        if inbound.callback_id is not None:
            await self._on_callback(inbound, on_new_message)
        elif inbound.media is not None:
            await self._on_media(inbound, on_new_message)
        elif inbound.text:
            await self._on_text(inbound, inbound.text, on_new_message)

    async def _on_text(self, inbound: Inbound, message_text: str,
                       on_new_message: OnNewMessage) -> None:
        command = command_of(message_text)
        if command is None:
            await self._to_rasa(inbound, as_plain_text(message_text), on_new_message)
            return
        name, argument = command
        if name == "start":
            await self._to_rasa(inbound, self._start_message(inbound, argument), on_new_message)
        elif name in COMMAND_INTENTS:
            await self._to_rasa(inbound, COMMAND_INTENTS[name], on_new_message)
        elif name == "link":
            await self._on_link(inbound, argument)
        else:  # unknown commands are just words ("/sad" → "sad")
            await self._to_rasa(inbound, as_plain_text(message_text), on_new_message)

    def _start_message(self, inbound: Inbound, argument: str) -> str:
        """/start → onboarding; /start CODE (a t.me/<bot>?start=CODE link) → the invite code.

        Intent messages skip the NLU language detector, so the reply language is seeded
        from what we know (last text, else Telegram's language_code) as a `language` entity.
        """
        if argument and DEEP_LINK_RE.match(argument):
            return intent_message("/use_code", invite_code=argument)
        language = self.languages.get(inbound.user_id) or language_from_code(
            inbound.language_code)
        return intent_message("/greet", language=language) if language else "/greet"

    async def _on_media(self, inbound: Inbound, on_new_message: OnNewMessage) -> None:
        if inbound.text:  # a caption is text: it goes through Rasa and the risk detector
            await self._say(inbound, "media.with_caption")
            await self._to_rasa(inbound, as_plain_text(inbound.text), on_new_message)
            return
        key = f"media.{inbound.media}"
        await self._say(inbound, key if key in _media_keys() else "media.other")

    async def _on_callback(self, inbound: Inbound, on_new_message: OnNewMessage) -> None:
        data = inbound.callback_data or ""
        if data.startswith("ack:"):
            await self._on_ack(inbound, data)
            return
        payload = out.CALLBACKS.decode(data)
        if not payload:
            await self._answer(inbound, text("button.expired", self._language(inbound)))
            return
        await self._answer(inbound)  # stops the button's spinner at once
        if inbound.message_id is not None:  # an answered question loses its buttons
            self._spawn(_best_effort(out.remove_keyboard(inbound.chat_id, inbound.message_id),
                                     "removing a keyboard"))
        await self._to_rasa(inbound, payload, on_new_message)

    async def _to_rasa(self, inbound: Inbound, message_text: str,
                       on_new_message: OnNewMessage) -> None:
        if not message_text:
            return
        if not message_text.startswith("/"):
            language = language_of_text(message_text)
            if language:
                self.languages.set(inbound.user_id, language)
        self._spawn(out.typing(inbound.chat_id))
        await on_new_message(UserMessage(
            message_text,
            TelegramOutput(),
            inbound.conversation_id,
            input_channel=self.name(),
            message_id=f"tg-{inbound.update_id}",  # stable across Telegram's redeliveries
            metadata=self._metadata(inbound),
        ))

    def _metadata(self, inbound: Inbound) -> dict[str, Any]:
        return {
            "language_code": inbound.language_code,
            "language_hint": language_from_code(inbound.language_code),
            "telegram": {
                "update_id": inbound.update_id,
                "user_id": inbound.user_id,
                "chat_id": inbound.chat_id,
                "chat_type": inbound.chat_type,
                "message_id": inbound.message_id,
                "edited": inbound.edited,
                "media": inbound.media,
                "callback": inbound.callback_id is not None,
            },
        }

    # ---------------------------------------------------------------- workers' commands
    async def _on_ack(self, inbound: Inbound, data: str) -> None:
        reply = await _in_db_session(handle_telegram_callback, inbound.chat_id, data)
        reply = reply or text("feature.unavailable", self._language(inbound))
        await self._answer(inbound, reply)
        if len(reply) > out.MAX_CALLBACK_ANSWER:  # a toast shows only 200 chars
            await self._send(inbound, reply)

    async def _on_link(self, inbound: Inbound, code: str) -> None:
        """`/link CODE` from a social worker; the code never reaches Rasa's tracker."""
        if not code:
            await self._say(inbound, "link.usage")
            return
        reply = await _in_db_session(redeem_telegram_code, code.split()[0], inbound.chat_id)
        await self._send(inbound, reply or text("feature.unavailable", self._language(inbound)))

    # ---------------------------------------------------------------- channel replies
    def _language(self, inbound: Inbound) -> str:
        return (self.languages.get(inbound.user_id)
                or language_from_code(inbound.language_code) or "zh")

    async def _decline_group(self, inbound: Inbound) -> None:
        if inbound.callback_id is not None:
            await self._answer(inbound)
            return
        if inbound.chat_type == "channel" or not self.declined_chats.add(inbound.chat_id):
            return  # said once already (and never post into someone's channel)
        logger.info("telegram: declined %s chat %s", inbound.chat_type, inbound.chat_id)
        await self._say(inbound, "group.declined")

    async def _slow_down(self, inbound: Inbound, verdict: Verdict) -> None:
        logger.info("telegram: flood from %s, update %s dropped (%s)",
                    inbound.conversation_id, inbound.update_id, verdict.value)
        if verdict is not Verdict.WARN:
            return
        if inbound.callback_id is not None:
            await self._answer(inbound, text("flood.slow_down", self._language(inbound)))
        else:
            await self._say(inbound, "flood.slow_down")

    async def _say(self, inbound: Inbound, key: str) -> None:
        await self._send(inbound, text(key, self._language(inbound)))

    async def _send(self, inbound: Inbound, message_text: str) -> None:
        await _best_effort(out.send_text(inbound.chat_id, message_text), "sendMessage")

    async def _answer(self, inbound: Inbound, answer: str | None = None) -> None:
        if inbound.callback_id is not None:
            await _best_effort(out.answer_callback(inbound.callback_id, answer),
                               "answerCallbackQuery")

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


# --------------------------------------------------------------------------- helpers
async def _read_bounded(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _update_json(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    return data


def _media_keys() -> set[str]:
    from bot.channels.texts import keys

    return {k for k in keys() if k.startswith("media.")}


async def _best_effort(coro: Awaitable[Any], what: str) -> None:
    try:
        await coro
    except TelegramError as exc:
        logger.warning("telegram: %s failed: %s", what, exc)
    except Exception:
        logger.exception("telegram: %s failed", what)


async def _in_db_session(func: Callable[..., str], *args: Any) -> str | None:
    """Run a synchronous DB handler in a worker thread inside one transaction."""

    def run() -> str:
        from bot.db.session import session_scope

        with session_scope() as session:
            return func(session, *args)

    try:
        return await asyncio.to_thread(run)
    except Exception:
        logger.exception("telegram: %s failed", getattr(func, "__name__", func))
        return None


async def _safety_exempt(inbound: Inbound) -> bool:
    """Flood limits never drop a message the risk detector would escalate."""
    if not inbound.text or not await is_risky(inbound.text):
        return False
    logger.warning("telegram: flooded message from %s passed: risk detected",
                   inbound.conversation_id)
    return True
