"""A small fake of the Telegram Bot API for tests and manual end-to-end runs.

It speaks the wire protocol python-telegram-bot (PTB) uses: ``POST|GET /bot<token>/<method>``
with a JSON, url-encoded or multipart body (PTB sends url-encoded forms whose non-string
values are JSON-encoded), and answers ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": …, "description": …, "parameters": …}`` like the real server,
so PTB raises its real exceptions (``RetryAfter``, ``BadRequest``, ``Forbidden`` …).

In a test::

    async with FakeTelegram() as fake:
        bot = telegram.Bot(fake.token, base_url=fake.base_url)
        await bot.send_message(42, "你好")
        call = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == 42)

Standalone (for ``make run`` against a fake, or by hand)::

    python -m tests.fakes.telegram_api --port 8081
    # TELEGRAM_API_BASE_URL=http://127.0.0.1:8081/bot  TELEGRAM_TOKEN=123456:TEST
    # control routes: POST /_fake/updates (an Update JSON; delivered to the webhook if one is
    # set, else queued for getUpdates), GET /_fake/calls[?method=sendMessage] (each with
    # method, params, time, status and the API result as "response"),
    # POST /_fake/fail {"count":1,"status":429,"retry_after":1,"method":"sendMessage"},
    # POST /_fake/reset
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
from typing_extensions import Self

DEFAULT_TOKEN = "123456789:TEST-fake-token_for-peiban"
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_TEXT_UTF16 = 4096
MAX_CALLBACK_DATA_BYTES = 64

# Form values that are strings in the Bot API schema: never JSON-decode them ("123" stays "123").
STRING_FIELDS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "secret_token",
        "inline_message_id", "ip_address", "action", "message_effect_id",
        "business_connection_id", "query_id", "description", "short_description", "name",
    }
)


@dataclass
class Call:
    """One request received by the fake (kept even when the fake answered with an error)."""

    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() when received; compare with your own monotonic stamps
    http_method: str = "POST"
    token: str = ""
    status: int = 200
    response: Any = None
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: int | None
    description: str | None
    method: str | None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    """The fake server. Use as ``async with FakeTelegram() as fake`` or ``start()/stop()``."""

    def __init__(
        self,
        token: str | None = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "peiban_test_bot",
        strict_token: bool = True,
    ) -> None:
        self.token = token or DEFAULT_TOKEN
        self.host = host
        self.port = port
        self.bot_username = bot_username
        # strict_token: other well-formed tokens get 401 like a revoked token would.
        self.strict_token = strict_token
        self.log: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self.blocked_chats: set[int | str] = set()
        self.messages: dict[tuple[Any, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._failures: list[_Failure] = []
        # A fresh Event per change (no Condition: cancelling Condition.wait inside wait_for
        # can leave its lock released twice when a long poll's client goes away).
        self._changed: asyncio.Event | None = None
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])

    @property
    def base_url(self) -> str:
        """What to pass as PTB's ``base_url`` / ``TELEGRAM_API_BASE_URL`` (token is appended)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_post("/_fake/updates", self._ctl_push_update)
        app.router.add_get("/_fake/calls", self._ctl_calls)
        app.router.add_post("/_fake/fail", self._ctl_fail)
        app.router.add_post("/_fake/reset", self._ctl_reset)
        return app

    async def start(self) -> Self:
        self._closing = False
        if not self.port:
            self.port = free_port(self.host)
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        return self

    async def stop(self) -> None:
        self._closing = True
        await self._notify()  # ends pending long polls now rather than at loop teardown
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test helpers
    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded successful calls, optionally of one method (failed ones are in ``log``)."""
        return [
            c for c in self.log if c.status == 200 and (method is None or c.method == method)
        ]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of successful sendMessage calls, optionally to one chat."""
        return [
            c.params.get("text", "")
            for c in self.calls("sendMessage")
            if chat_id is None or c.params.get("chat_id") == chat_id
        ]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,
        *,
        count: int = 1,
    ) -> Call:
        """Wait until ``count`` successful calls of ``method`` match; return the last match."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls(method) if predicate is None or predicate(c)]
            if len(found) >= count:
                return found[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(c.method, c.params) for c in self.log[-10:]]
                raise TimeoutError(f"no {count}×{method} matched in {timeout}s; last: {seen}")
            await self._wait_change(remaining)

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        method: str | None = None,
    ) -> None:
        """The next ``count`` calls (of ``method`` if given) fail with ``status``.

        429 answers carry ``parameters.retry_after`` (default 1) so PTB raises ``RetryAfter``.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.append(_Failure(count, status, retry_after, description, method))

    def block(self, chat_id: int | str) -> None:
        """sendMessage to this chat now fails 403 "bot was blocked by the user"."""
        self.blocked_chats.add(chat_id)

    def reset(self) -> None:
        self.log.clear()
        self._failures.clear()
        self._updates.clear()
        self.webhook = {}
        self.blocked_chats.clear()
        self.messages.clear()

    def enqueue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigns ``update_id`` if missing)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    async def deliver(self, update: dict[str, Any], *, secret: str | None = None) -> int:
        """Act like Telegram: POST the update to the registered webhook; return the status.

        Sends the secret registered with setWebhook (override with ``secret``; pass ``""``
        to send no header). Without a webhook the update is queued for getUpdates (returns 0).
        """
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        if not self.webhook.get("url"):
            self.enqueue_update(update)
            return 0
        secret = self.webhook.get("secret_token") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        if self._client is None:
            self._client = ClientSession(timeout=ClientTimeout(total=70))
        async with self._client.post(self.webhook["url"], json=update, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def _wait_change(self, timeout: float) -> None:
        """Sleep until the next recorded call or queued update, or ``timeout``."""
        if self._changed is None:
            self._changed = asyncio.Event()
        try:
            await asyncio.wait_for(self._changed.wait(), max(timeout, 0))
        except asyncio.TimeoutError:
            pass

    # ------------------------------------------------------------------ request parsing
    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {k: _decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, bytes] = {}
        ctype = request.content_type
        if request.method == "GET" or not request.can_read_body:
            return params, files
        if ctype == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    files[part.name or part.filename] = await part.read()
                else:
                    params[part.name] = _decode_form_value(part.name, await part.text())
        else:  # application/x-www-form-urlencoded (PTB's default)
            form = await request.post()
            params.update({k: _decode_form_value(k, v) for k, v in form.items()})
        return params, files

    # ------------------------------------------------------------------ the API
    async def _handle_api(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        try:
            params, files = await self._read_params(request)
        except (ValueError, json.JSONDecodeError) as exc:
            return await self._record(method, {}, request, token, 400, f"Bad Request: {exc}")
        call_args = (method, params, request, token)
        if not TOKEN_RE.match(token):
            return await self._record(*call_args, 404, "Not Found")
        if self.strict_token and token != self.token:
            return await self._record(*call_args, 401, "Unauthorized")
        failure = self._take_failure(method)
        if failure is not None:
            return await self._record(
                *call_args, failure.status, failure.description, failure.retry_after
            )
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return await self._record(*call_args, 404, "Not Found")
        try:
            result = await handler(params)
        except _ApiError as err:
            return await self._record(*call_args, err.status, err.description)
        return await self._record(*call_args, 200, result=result, files=files)

    async def _record(
        self,
        method: str,
        params: dict[str, Any],
        request: web.Request,
        token: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        *,
        result: Any = None,
        files: dict[str, bytes] | None = None,
    ) -> web.Response:
        if status == 200:
            body: dict[str, Any] = {"ok": True, "result": result}
        else:
            body = {"ok": False, "error_code": status,
                    "description": description or _default_description(status, retry_after)}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
        self.log.append(Call(method, params, time.monotonic(), request.method, token, status,
                             body.get("result"), files or {}))
        await self._notify()
        return web.json_response(body, status=status)

    def _take_failure(self, method: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method in (None, method) and failure.remaining > 0:
                failure.remaining -= 1
                if failure.remaining == 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Peiban",
                "username": self.bot_username}

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _require(params, "chat_id")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT_UTF16:
            raise _ApiError(400, "Bad Request: message is too long")
        if chat_id in self.blocked_chats:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        _check_markup(params.get("reply_markup"))
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": self._bot_user(),
            "text": text,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _find_message(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (_require(params, "chat_id"), _require(params, "message_id"))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        message = self._find_message(params)
        _check_markup(params.get("reply_markup"))
        message.update(text=text, edit_date=int(time.time()))
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._find_message(params)
        _check_markup(params.get("reply_markup"))
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        message["edit_date"] = int(time.time())
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        _require(params, "callback_query_id")
        if len(str(params.get("text") or "")) > 200:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        _require(params, "chat_id")
        _require(params, "action")
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = _require(params, "url")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_RE.match(str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not str(url).startswith(("https://", "http://")):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections", 40),
        }
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        if self.webhook.get("url"):
            info["max_connections"] = self.webhook.get("max_connections", 40)
        return info

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                 "active; use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if offset:  # like Telegram: an offset confirms every earlier update
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        await self._notify()  # wakes an older long poll so it ends with 409, like Telegram
        deadline = time.monotonic() + timeout
        while not self._updates and time.monotonic() < deadline and not self._closing:
            await self._wait_change(deadline - time.monotonic())
            if not self._updates and generation != self._poll_generation:
                raise _ApiError(409, "Conflict: terminated by other getUpdates request; "
                                     "make sure that only one bot instance is running")
        return self._updates[:limit]

    # ------------------------------------------------------------------ control routes
    async def _ctl_push_update(self, request: web.Request) -> web.Response:
        update = await request.json()
        status = await self.deliver(update)
        return web.json_response({"ok": True, "webhook_status": status})

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        rows = [
            {"method": c.method, "params": c.params, "time": c.time, "status": c.status,
             "response": c.response}
            for c in self.log
            if method is None or c.method == method
        ]
        return web.json_response(rows)

    async def _ctl_fail(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.fail_next(
            int(body.get("count", 1)),
            int(body.get("status", 500)),
            retry_after=body.get("retry_after"),
            description=body.get("description"),
            method=body.get("method"),
        )
        return web.json_response({"ok": True})

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _default_description(status: int, retry_after: int | None) -> str:
    return {
        400: "Bad Request: fake failure",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict",
        429: f"Too Many Requests: retry after {retry_after}",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(status, f"Error {status}")


def _decode_form_value(name: str, value: Any) -> Any:
    """PTB form-encodes str params as-is and everything else as JSON; undo that."""
    if not isinstance(value, str):
        return value
    if name in STRING_FIELDS:
        return value
    if name == "chat_id":
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _require(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise _ApiError(400, f"Bad Request: {name} is empty")
    return params[name]


def _chat(chat_id: int | str) -> dict[str, Any]:
    """Private chats have positive ids, groups negative, supergroups/channels -100…."""
    if isinstance(chat_id, str):
        return {"id": -1001, "type": "channel", "title": chat_id, "username": chat_id.lstrip("@")}
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"user{chat_id}"}
    if str(chat_id).startswith("-100"):
        return {"id": chat_id, "type": "supergroup", "title": "group"}
    return {"id": chat_id, "type": "group", "title": "group"}


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise _ApiError(400, "Bad Request: text buttons are unallowed in the "
                                     "inline keyboard")


# ---------------------------------------------------------------------- update builders
_counter = itertools.count(1000)


def user(user_id: int, language_code: str | None = "zh-hans", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"u{user_id}"}
    if language_code:
        data["language_code"] = language_code
    return {**data, **extra}


def message(
    user_id: int,
    text: str | None = None,
    *,
    chat_id: int | None = None,
    chat_type: str = "private",
    language_code: str | None = "zh-hans",
    message_id: int | None = None,
    **content: Any,
) -> dict[str, Any]:
    """A Message object from ``user_id``; extra keyword args are message fields (voice=…)."""
    chat_id = user_id if chat_id is None else chat_id
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = f"u{user_id}"
    else:
        chat["title"] = "a group"
    msg: dict[str, Any] = {
        "message_id": message_id or next(_counter),
        "date": int(time.time()),
        "chat": chat,
        "from": user(user_id, language_code),
    }
    if text is not None:
        msg["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(command.encode("utf-16-le")) // 2}]
    msg.update(content)
    return msg


def text_update(user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    return {"message": message(user_id, text, **kwargs)}


def edited_update(user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    msg = message(user_id, text, **kwargs)
    msg["edit_date"] = msg["date"] + 1
    return {"edited_message": msg}


def media_update(user_id: int, kind: str, caption: str | None = None,
                 **kwargs: Any) -> dict[str, Any]:
    """A non-text message: kind in voice, photo, sticker, video, video_note, audio,
    document, location, contact, animation."""
    msg = message(user_id, None, **kwargs)
    msg.update(MEDIA_SAMPLES[kind])
    if caption is not None:
        msg["caption"] = caption
    return {"message": msg}


def callback_update(
    user_id: int,
    data: str,
    *,
    message_id: int = 1,
    chat_id: int | None = None,
    language_code: str | None = "zh-hans",
    message_text: str = "…",
) -> dict[str, Any]:
    chat_id = user_id if chat_id is None else chat_id
    return {
        "callback_query": {
            "id": str(next(_counter)),
            "from": user(user_id, language_code),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": f"u{user_id}"},
                "from": {"id": 1, "is_bot": True, "first_name": "Peiban"},
                "text": message_text,
            },
        }
    }


_FILE = {"file_id": "F1", "file_unique_id": "U1"}
MEDIA_SAMPLES: dict[str, dict[str, Any]] = {
    "voice": {"voice": {**_FILE, "duration": 3}},
    "photo": {"photo": [{**_FILE, "width": 90, "height": 90}]},
    "sticker": {"sticker": {**_FILE, "width": 512, "height": 512, "is_animated": False,
                            "is_video": False, "type": "regular", "emoji": "😀"}},
    "video": {"video": {**_FILE, "width": 640, "height": 480, "duration": 5}},
    "video_note": {"video_note": {**_FILE, "length": 240, "duration": 5}},
    "audio": {"audio": {**_FILE, "duration": 60}},
    "document": {"document": {**_FILE, "file_name": "a.pdf"}},
    "location": {"location": {"latitude": 33.6, "longitude": 114.6}},
    "contact": {"contact": {"phone_number": "+8613800000000", "first_name": "妈妈"}},
    "animation": {"animation": {**_FILE, "width": 320, "height": 240, "duration": 2},
                  "document": {**_FILE, "file_name": "a.gif.mp4"}},
}


# ---------------------------------------------------------------------- standalone
async def _serve(host: str, port: int, token: str) -> None:
    fake = FakeTelegram(token, host=host, port=port, strict_token=False)
    await fake.start()
    print(f"fake Telegram Bot API on {fake.base_url}<token>/<method>  (token {fake.token})",
          flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fake Telegram Bot API for local runs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="bot token getMe reports")
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.host, args.port, args.token))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
