"""The browser chat page, mounted on our aiohttp app (:8080) by ``add_routes``.

    GET  /chat, /chat/          the page (HTML/CSS/JS from ./static, no CDN, no inline script)
    GET  /chat/static/<file>    its files (an allowlist: what is in ./static, nothing else)
    POST /chat/api/message      same-origin proxy to Rasa's REST channel (no CORS needed)

The proxy takes ``{"sender": <random id from the browser>, "message": <typed text>}`` or
``{"sender": …, "payload": "/intent{…}"}`` (a button) and optionally ``"language": "zh"|"en"``
(the page's UI language, passed on as metadata). It answers
``{"messages": [{"text": …, "buttons": [{"title", "payload"}]}]}`` or a clear 4xx/5xx JSON
``{"error": code}``; it never answers 500. The Rasa sender id is ``web:<id>`` so chat-page
users never collide with Telegram (``telegram:<id>``) or other REST senders.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.flood import FloodGate, Verdict, is_risky

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SENDER_PREFIX = "web:"
SENDER_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PAYLOAD_RE = re.compile(r"^/[A-Za-z_][A-Za-z0-9_]*(\{.*\})?$", re.S)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_MESSAGE_CHARS = 2000
MAX_BODY_BYTES = 16 * 1024
RASA_TIMEOUT = 30.0
SECURITY_HEADERS = {
    # Everything the page needs is same-origin files: a strict policy costs nothing.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

RASA_URL_KEY = web.AppKey("peiban_chatpage_rasa_url", str)
FLOOD_KEY = web.AppKey("peiban_chatpage_flood", FloodGate)


class BadInput(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


def add_routes(app: web.Application, rasa_url: str) -> None:
    """Mount the chat page and its proxy on ``app`` (call before the app starts)."""
    app[RASA_URL_KEY] = rasa_url.rstrip("/")
    app[FLOOD_KEY] = FloodGate(burst=8, rate=1.0)
    app.router.add_get("/chat", page)
    app.router.add_get("/chat/", page)
    app.router.add_get("/chat/static/{name}", static_file)
    app.router.add_post("/chat/api/message", message)


# --------------------------------------------------------------------------- page
async def page(request: web.Request) -> web.StreamResponse:
    return _file(STATIC_DIR / "index.html")


async def static_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in _static_names():  # an allowlist: no traversal, no directory listing
        raise web.HTTPNotFound()
    return _file(STATIC_DIR / name)


def _static_names() -> set[str]:
    return {p.name for p in STATIC_DIR.iterdir() if p.is_file() and p.suffix in CONTENT_TYPES}


def _file(path: Path) -> web.StreamResponse:
    headers = {**SECURITY_HEADERS, "Content-Type": CONTENT_TYPES[path.suffix]}
    return web.FileResponse(path, headers=headers)


# --------------------------------------------------------------------------- proxy
async def message(request: web.Request) -> web.Response:
    try:
        sender, text, language = await _validated(request)
        if request.app[FLOOD_KEY].check(sender) is not Verdict.ALLOW \
                and not await is_risky(text):
            raise BadInput(429, "slow_down")  # the page keeps the text for a retry
        replies = await _ask_rasa(request.app[RASA_URL_KEY], sender, text, language)
    except BadInput as exc:
        return _error(exc.status, exc.code)
    except Exception:  # a proxy bug must not look like a crash to a child
        logger.exception("chat page: unexpected error")
        return _error(502, "unavailable")
    return web.json_response({"messages": replies}, headers=SECURITY_HEADERS)


async def _validated(request: web.Request) -> tuple[str, str, str | None]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BadInput(413, "too_large")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BadInput(413, "too_large")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadInput(400, "invalid_json") from None
    if not isinstance(body, dict):
        raise BadInput(400, "invalid_json")
    sender = body.get("sender")
    if not isinstance(sender, str) or not SENDER_RE.match(sender):
        raise BadInput(400, "invalid_sender")
    language = body.get("language") if body.get("language") in ("zh", "en") else None
    return SENDER_PREFIX + sender, _text_of(body), language


def _text_of(body: dict[str, Any]) -> str:
    payload, typed = body.get("payload"), body.get("message")
    if isinstance(payload, str) and payload.startswith("/"):
        if len(payload) > MAX_MESSAGE_CHARS or not PAYLOAD_RE.match(payload):
            raise BadInput(400, "invalid_payload")
        return payload
    if payload is not None:  # a plain-text button payload is read like typed text
        typed = payload
    if not isinstance(typed, str):
        raise BadInput(400, "missing_message")
    if len(typed) > MAX_MESSAGE_CHARS:
        raise BadInput(400, "message_too_long")
    # Typed text is never Rasa intent syntax ("/intent" would skip the NLU and with it the
    # risk detector); control characters are noise.
    text = CONTROL_RE.sub("", typed).lstrip("/").strip()
    if not text:
        raise BadInput(400, "empty_message")
    return text


async def _ask_rasa(rasa_url: str, sender: str, text: str,
                    language: str | None) -> list[dict[str, Any]]:
    body = {"sender": sender, "message": text,
            "metadata": {"channel": "chatpage", "ui_language": language}}
    timeout = aiohttp.ClientTimeout(total=RASA_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.post(f"{rasa_url}/webhooks/rest/webhook", json=body) as resp:
                if resp.status != 200:
                    logger.warning("chat page: Rasa answered %s", resp.status)
                    raise BadInput(502, "unavailable")
                data = await resp.json(content_type=None)
    except asyncio.TimeoutError:
        raise BadInput(504, "timeout") from None
    except aiohttp.ClientConnectionError:
        raise BadInput(503, "unavailable") from None
    except (aiohttp.ClientError, ValueError):
        raise BadInput(502, "unavailable") from None
    return _clean_replies(data)


def _clean_replies(data: Any) -> list[dict[str, Any]]:
    """Only what the page renders: text and buttons (titles and payloads as strings)."""
    replies: list[dict[str, Any]] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        reply: dict[str, Any] = {}
        if isinstance(item.get("text"), str):
            reply["text"] = item["text"]
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
            if isinstance(b, dict) and b.get("title") and b.get("payload")
        ]
        if buttons:
            reply["buttons"] = buttons
        if reply:
            replies.append(reply)
    return replies


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status, headers=SECURITY_HEADERS)
