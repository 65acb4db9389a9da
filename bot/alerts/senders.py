"""Deliver one alert: Telegram (python-telegram-bot) or a signed webhook (aiohttp).

Both raise `RetryableError` (network, timeouts, 5xx, 429 with retry_after) or `PermanentError`
(the recipient will never accept it: chat not found, bot blocked, 4xx from the webhook).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from . import texts

log = logging.getLogger(__name__)

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
SIGNATURE_HEADER = "X-Peiban-Signature"
DELIVERY_HEADER = "X-Peiban-Delivery"


class SendError(Exception):
    retryable = False

    def __init__(
        self, message: str, retry_after: float | None = None, new_recipient: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.new_recipient = new_recipient


class RetryableError(SendError):
    retryable = True


class PermanentError(SendError):
    retryable = False


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def telegram_base_url(value: str | None) -> str:
    """PTB appends the token to base_url: `http://127.0.0.1:8081/bot` → `…/bot<TOKEN>/sendMessage`.

    A bare host (`http://127.0.0.1:8081`) gets the `/bot` path every Bot API server uses.
    """
    if not value:
        return DEFAULT_TELEGRAM_BASE_URL
    value = value.strip()
    if "{token}" in value or urlsplit(value).path not in ("", "/"):
        return value
    return value.rstrip("/") + "/bot"


def _about_url(error: str) -> bool:
    lowered = error.lower()
    return "url" in lowered or "button" in lowered


def _about_entities(error: str) -> bool:
    return "entities" in error.lower() or "parse" in error.lower()


def plain_text(html_text: str) -> str:
    """The HTML alert without tags, for the rare message Telegram cannot parse."""
    return html.unescape(re.sub(r"</?[a-zA-Z][^>]*>", "", html_text))


def ack_keyboard(case_id: int, url: str | None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(texts.ACK_BUTTON, callback_data=f"ack:{case_id}")]]
    if url:
        rows.append([InlineKeyboardButton(texts.OPEN_BUTTON, url=url)])
    return InlineKeyboardMarkup(rows)


class TelegramSender:
    """Sends alerts with the acknowledge button; one Bot (one connection pool) per worker."""

    def __init__(self, token: str, base_url: str | None = None, timeout: float = 10.0) -> None:
        request = HTTPXRequest(
            connection_pool_size=16,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        )
        self.bot = Bot(token, base_url=telegram_base_url(base_url), request=request)

    async def send(
        self, chat_id: str, text: str, case_id: int, url: str | None = None, silent: bool = False
    ) -> str:
        """Send and return Telegram's message id.

        A refused link button or HTML the API cannot parse must not cost the alert: retry
        without the button, then as plain text, before calling the recipient unreachable.
        """
        link, as_html = url, True
        while True:
            body = text if as_html else plain_text(text)
            try:
                return await self._send(chat_id, body, ack_keyboard(case_id, link), silent, as_html)
            except PermanentError as exc:
                if link and _about_url(str(exc)):
                    link = None
                elif as_html and _about_entities(str(exc)):
                    as_html = False
                else:
                    raise
                log.warning(
                    "case %s: %s; retrying %s",
                    case_id,
                    exc,
                    "as plain text" if not as_html else "without the link button",
                )

    async def _send(
        self, chat_id: str, text: str, markup: InlineKeyboardMarkup, silent: bool, as_html: bool
    ) -> str:
        try:
            message = await self.bot.send_message(
                chat_id=chat_id,
                text=text,
                parse_mode=ParseMode.HTML if as_html else None,
                reply_markup=markup,
                disable_notification=silent,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:
            raise RetryableError(
                f"429 flood control: {exc}", retry_after=_seconds(exc._retry_after)
            ) from exc
        except ChatMigrated as exc:
            raise RetryableError("chat migrated", new_recipient=str(exc.new_chat_id)) from exc
        except (BadRequest, Forbidden) as exc:  # before NetworkError: BadRequest subclasses it
            raise PermanentError(f"{type(exc).__name__}: {exc.message}") from exc
        except InvalidToken as exc:  # our configuration, not the recipient: keep the alert
            raise RetryableError(f"invalid TELEGRAM_TOKEN: {exc.message}") from exc
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx
            raise RetryableError(f"{type(exc).__name__}: {exc.message}") from exc
        return str(message.message_id)

    async def close(self) -> None:
        await self.bot.shutdown()


def sign_body(secret: str, body: bytes) -> str:
    """`sha256=<hex>` HMAC of the exact body bytes, as sent in X-Peiban-Signature."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """For receivers (and tests): constant-time check of X-Peiban-Signature."""
    return bool(header) and hmac.compare_digest(sign_body(secret, body), header or "")


def encode_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _retry_after_header(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: our own backoff is good enough


class WebhookSender:
    """POSTs the alert as JSON, signed; receivers deduplicate on X-Peiban-Delivery."""

    def __init__(self, secret: str | None, timeout: float = 10.0) -> None:
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def headers(self, body: bytes, delivery: str) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            DELIVERY_HEADER: delivery,
            "User-Agent": "Peiban-Alerts/1",
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign_body(self.secret, body)
        return headers

    async def send(self, url: str, payload: dict[str, Any], delivery: str) -> str:
        body = encode_body(payload)
        try:
            async with self._client().post(
                url, data=body, headers=self.headers(body, delivery)
            ) as resp:
                status, retry_after = resp.status, resp.headers.get("Retry-After")
                request_id = resp.headers.get("X-Request-Id")
                await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RetryableError(f"webhook {type(exc).__name__}: {exc}") from exc
        if 200 <= status < 300:
            return request_id or f"http-{status}"
        if status in (408, 429) or status >= 500:
            raise RetryableError(
                f"webhook HTTP {status}", retry_after=_retry_after_header(retry_after)
            )
        raise PermanentError(f"webhook HTTP {status}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
