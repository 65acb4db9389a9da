"""A Sanic app with our Telegram channel, registered the way Rasa registers channels, and a
stub agent in place of the trained model (real HTTP on loopback)."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.telegram import SECRET_HEADER, TelegramInput
from tests.fakes.telegram_api import free_port

WEBHOOK_PATH = "/webhooks/telegram/webhook"
# Several Sanic apps start in one process during tests; without test mode Sanic 21.12
# "touches up" its HTTP class twice and the second app fails to start.
Sanic.test_mode = True
_update_ids = itertools.count(10_000)


@dataclass
class StubAgent:
    """Stands in for rasa.core.agent.Agent: answers through the message's output channel.

    Chinese text → a Chinese echo; English → an English echo; "/greet…" → a greeting with
    buttons; "boom" raises; text containing "我不想活了" → a crisis reply (what the real
    SafetyPolicy would say).
    """

    delay: float = 0.0
    handled: list[UserMessage] = field(default_factory=list)
    handled_at: list[float] = field(default_factory=list)
    reply: Callable[[UserMessage], Awaitable[None]] | None = None

    async def handle_message(self, message: UserMessage) -> None:
        self.handled.append(message)
        self.handled_at.append(time.monotonic())
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.reply is not None:
            await self.reply(message)
            return
        await default_reply(message)


async def default_reply(message: UserMessage) -> None:
    out, sender, text = message.output_channel, message.sender_id, message.text or ""
    if "boom" in text:
        raise RuntimeError("the model fell over")
    if text.startswith("/greet"):
        await out.send_response(sender, {
            "text": ("Hi, I'm Peiban, a bot." if '"en"' in text
                     else "你好，我是陪伴，一个聊天机器人。"),
            "buttons": [{"title": "我是孩子", "payload": '/choose_role{"role":"child"}'},
                        {"title": "我是家长", "payload": '/choose_role{"role":"guardian"}'}],
        })
    elif "不想活" in text:
        await out.send_response(
            sender, {"text": "谢谢你告诉我。你现在安全吗？请马上打 110 或 12355。"})
    elif any("\u4e00" <= ch <= "\u9fff" for ch in text):
        await out.send_response(sender, {"text": f"收到：{text}"})
    else:
        await out.send_response(sender, {"text": f"Got it: {text}"})


class ChannelServer:
    """``async with ChannelServer(channel, agent) as srv: srv.webhook_url``."""

    def __init__(self, channel: TelegramInput | None = None, agent: StubAgent | None = None,
                 app: Sanic | None = None):
        """``app``: an app whose channels are already registered (e.g. Rasa's own)."""
        self.channel = channel or TelegramInput()
        self.agent = agent or StubAgent()
        self.port = free_port()
        if app is None:
            app = Sanic(f"peiban_test_{uuid.uuid4().hex[:10]}")
            register([self.channel], app, route="/webhooks/")
        self.app = app
        self.app.ctx.agent = self.agent
        self._server: Any = None
        self.http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    async def __aenter__(self) -> ChannelServer:
        self._server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.after_start()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.http is not None:
            await self.http.close()
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()

    async def post(self, update: dict[str, Any], secret: str | None = "test-secret_123",
                   **kwargs: Any) -> int:
        """POST an update like Telegram does; returns the HTTP status."""
        update = {"update_id": next(_update_ids), **update}
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        assert self.http is not None
        async with self.http.post(self.webhook_url, json=update, headers=headers,
                                  **kwargs) as resp:
            await resp.read()
            return resp.status

    async def post_raw(self, body: bytes, secret: str | None = "test-secret_123",
                       content_type: str = "application/json") -> int:
        headers = {"Content-Type": content_type}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        assert self.http is not None
        async with self.http.post(self.webhook_url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status
