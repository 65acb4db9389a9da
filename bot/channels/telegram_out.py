"""Sending to Telegram from anywhere: the Rasa channel, reminders, proactive check-ins, CLIs.

Everything goes through a python-telegram-bot ``Bot`` built from ``bot.config.settings()``
(``TELEGRAM_TOKEN``; ``TELEGRAM_API_BASE_URL`` lets tests use the fake Bot API and a deployment
a self-hosted Bot API server). One ``Bot`` per event loop, because PTB's httpx client belongs
to the loop that first used it.

    from bot.channels.telegram_out import send_text
    await send_text(chat_id, "今天过得怎么样？",
                    buttons=[{"title": "还好", "payload": "/feel_happy"}])

Texts are sent as plain text (no ``parse_mode``), so nothing a user or a response writer types
can be misread as markup; replies longer than Telegram's 4096 UTF-16 units are split on
paragraph, line or sentence boundaries. Flood-control answers (429) are waited out and
network errors retried a few times; what still fails raises ``telegram.error.TelegramError``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import unicodedata
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

logger = logging.getLogger(__name__)

MAX_MESSAGE_UTF16 = 4096
MAX_CALLBACK_BYTES = 64
MAX_CALLBACK_ANSWER = 200
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
SHORT_PREFIX = "~"  # callback_data that names a long payload in the CallbackTable
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER = 30.0  # longer flood waits are not worth holding a conversation for
ROW_WIDTH = 28  # display cells per keyboard row (a CJK character counts 2)
ROW_BUTTONS = 4

T = TypeVar("T")
Button = dict[str, Any]  # Rasa's button dict: {"title": …, "payload": …} or {"title", "url"}


# --------------------------------------------------------------------------- the Bot
def build_bot(token: str | None = None, base_url: str | None = None) -> telegram.Bot:
    """A PTB Bot for ``token`` (default: settings); raises RuntimeError without a token."""
    from bot.config import settings

    conf = settings()
    token = token or conf.telegram_token
    if not token:
        raise RuntimeError("TELEGRAM_TOKEN is not set")
    _quiet_http_logs()
    return telegram.Bot(token, base_url=base_url or conf.telegram_api_base_url
                        or DEFAULT_API_BASE_URL)


def _quiet_http_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the bot token."""
    for name in ("httpx", "httpcore"):
        log = logging.getLogger(name)
        if log.getEffectiveLevel() < logging.WARNING:
            log.setLevel(logging.WARNING)


_bots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], telegram.Bot]]
_bots = weakref.WeakKeyDictionary()


def get_bot() -> telegram.Bot:
    """The shared Bot for the running loop and the current settings."""
    from bot.config import settings

    conf = settings()
    key = (conf.telegram_token or "", conf.telegram_api_base_url or DEFAULT_API_BASE_URL)
    per_loop = _bots.setdefault(asyncio.get_running_loop(), {})
    if key not in per_loop:
        per_loop[key] = build_bot()
    return per_loop[key]


async def close_bots() -> None:
    """Close the running loop's Bot clients (call on shutdown)."""
    for bot in _bots.pop(asyncio.get_running_loop(), {}).values():
        try:
            await bot.shutdown()
        except Exception:  # closing is best effort
            logger.debug("closing a Bot failed", exc_info=True)


# --------------------------------------------------------------------------- splitting
def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_BREAKS = (
    re.compile(r"\n\s*\n"),  # paragraphs
    re.compile(r"\n"),  # lines
    re.compile(r"[。！？!?…；;]+[”’」』）)]*|\.(?=\s)"),  # sentence ends, zh and en
    re.compile(r"[，,、：:]"),  # clauses
    re.compile(r"\s+"),  # words
)


def split_message(text: str, limit: int = MAX_MESSAGE_UTF16) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` UTF-16 units on the nicest boundary."""
    chunks: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        head_end = _prefix_fitting(rest, limit)
        cut = _best_cut(rest[:head_end]) or head_end
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return [c for c in chunks if c]


def _prefix_fitting(text: str, limit: int) -> int:
    """Length in code points of the longest prefix of ``text`` within ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _best_cut(head: str) -> int | None:
    """Cut after the last boundary of the best kind, if it keeps at least half the chunk."""
    for pattern in _BREAKS:
        ends = [m.end() for m in pattern.finditer(head)]
        if ends and ends[-1] >= len(head) // 2:
            return ends[-1]
    return None


# --------------------------------------------------------------------------- keyboards
class CallbackTable:
    """Maps payloads longer than Telegram's 64-byte callback_data to short ids.

    Rasa payloads such as ``/request_exercise{"exercise":"breathing"}`` often fit; those that
    do not are sent as ``~<hash>`` and looked up here. The table is in memory (bounded): after
    a restart an old long-payload button answers "this button has expired".
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(SHORT_PREFIX):
            return payload
        digest = hashlib.sha256(payload.encode()).digest()[:15]
        short = SHORT_PREFIX + base64.urlsafe_b64encode(digest).decode()
        self._payloads[short] = payload
        self._payloads.move_to_end(short)
        while len(self._payloads) > self.size:
            self._payloads.popitem(last=False)
        return short

    def decode(self, data: str) -> str | None:
        """The payload for callback ``data``; None when it names a forgotten long payload."""
        if not data.startswith(SHORT_PREFIX):
            return data
        return self._payloads.get(data)


CALLBACKS = CallbackTable()


def keyboard(buttons: Sequence[Button] | None,
             table: CallbackTable = CALLBACKS) -> InlineKeyboardMarkup | None:
    """Rasa buttons → an inline keyboard, short titles packed several to a row."""
    items = [_inline_button(b, table) for b in buttons or []]
    items = [b for b in items if b is not None]
    if not items:
        return None
    rows: list[list[InlineKeyboardButton]] = [[]]
    width = 0
    for item in items:
        cells = _display_width(item.text) + 4  # padding Telegram draws around a title
        if rows[-1] and (width + cells > ROW_WIDTH or len(rows[-1]) >= ROW_BUTTONS):
            rows.append([])
            width = 0
        rows[-1].append(item)
        width += cells
    return InlineKeyboardMarkup(rows)


def _inline_button(button: Button, table: CallbackTable) -> InlineKeyboardButton | None:
    title = str(button.get("title") or button.get("payload") or "").strip()[:64]
    if not title:
        return None
    if button.get("url") or button.get("type") == "web_url":
        return InlineKeyboardButton(title, url=str(button.get("url") or button.get("payload")))
    payload = str(button.get("payload") or title)
    return InlineKeyboardButton(title, callback_data=table.encode(payload))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# --------------------------------------------------------------------------- retrying
def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22.2 deprecates the int form; accept both
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def with_retries(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Run a Bot API call, waiting out 429s and retrying network errors (not 400/403)."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt == MAX_ATTEMPTS or wait > MAX_RETRY_AFTER:
                raise
            logger.warning("telegram %s: flood control, retrying in %.1fs", what, wait)
            await asyncio.sleep(wait)
        except (BadRequest, Forbidden):
            raise  # our request or the user's choice: repeating will not help
        except NetworkError:
            if attempt == MAX_ATTEMPTS:
                raise
            logger.warning("telegram %s: network error, attempt %d", what, attempt,
                           exc_info=True)
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- sending
async def send_text(
    chat_id: int | str,
    text: str,
    buttons: Sequence[Button] | None = None,
    *,
    bot: telegram.Bot | None = None,
) -> list[int]:
    """Send ``text`` (split if long; buttons under the last part); return the message ids."""
    bot = bot or get_bot()
    parts = split_message(text) or ([""] if buttons else [])
    markup = keyboard(buttons)
    sent: list[int] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        message = await with_retries(
            lambda part=part, last=last: bot.send_message(
                chat_id, part or "👇", reply_markup=markup if last else None
            ),
            "sendMessage",
        )
        sent.append(message.message_id)
    return sent


async def answer_callback(callback_id: str, text: str | None = None, *,
                          bot: telegram.Bot | None = None) -> None:
    bot = bot or get_bot()
    short = text[:MAX_CALLBACK_ANSWER] if text else None
    await with_retries(lambda: bot.answer_callback_query(callback_id, text=short),
                       "answerCallbackQuery")


async def remove_keyboard(chat_id: int | str, message_id: int, *,
                          bot: telegram.Bot | None = None) -> None:
    bot = bot or get_bot()
    await with_retries(
        lambda: bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None),
        "editMessageReplyMarkup",
    )


async def edit_text(chat_id: int | str, message_id: int, text: str,
                    buttons: Sequence[Button] | None = None, *,
                    bot: telegram.Bot | None = None) -> None:
    """Replace a sent message's text (first 4096 units) and keyboard."""
    bot = bot or get_bot()
    part = (split_message(text) or ["…"])[0]
    await with_retries(
        lambda: bot.edit_message_text(part, chat_id, message_id, reply_markup=keyboard(buttons)),
        "editMessageText",
    )


async def typing(chat_id: int | str, *, bot: telegram.Bot | None = None) -> None:
    """Show "typing…" while Rasa thinks; purely cosmetic, so errors are swallowed."""
    try:
        await (bot or get_bot()).send_chat_action(chat_id, "typing")
    except TelegramError:
        logger.debug("sendChatAction failed", exc_info=True)


def chat_id_of(recipient_id: str | int) -> int | None:
    """Conversation id ``telegram:<id>`` (or a bare id) → the Telegram chat id."""
    raw = str(recipient_id)
    if raw.startswith("telegram:"):
        raw = raw.split(":", 1)[1]
    return int(raw) if re.fullmatch(r"-?\d+", raw) else None
