"""`python -m bot telegram …` — webhook registration and local long polling.

    python -m bot telegram set-webhook [URL] [--drop-pending]   # URL default: TELEGRAM_PUBLIC_URL
    python -m bot telegram delete-webhook [--drop-pending]
    python -m bot telegram info
    python -m bot telegram poll [--rasa-url URL] [--timeout 30] [--concurrency 8]

The webhook is registered only by this command, never as a side effect of starting Rasa.
``poll`` is for a developer without a public HTTPS URL: it long-polls getUpdates and POSTs
every update, with the secret header, to the running Rasa server's Telegram webhook, so
polling and webhook mode run exactly the same channel code. A user's updates are forwarded
one after another (in order); different users concurrently.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import telegram
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, SECRET_HEADER, webhook_secret
from bot.channels.telegram_out import build_bot, retry_after_seconds

logger = logging.getLogger("bot.channels.telegram_cli")

WEBHOOK_PATH = "/webhooks/telegram/webhook"
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Telegram's rule for secret_token
DELIVERY_DEADLINE = 120.0  # keep retrying an update this long while Rasa (re)starts


# --------------------------------------------------------------------------- commands
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if not args.quiet else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(args.func(args))
    except KeyboardInterrupt:
        return 130
    except InvalidToken:
        print("Telegram rejected TELEGRAM_TOKEN.", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # e.g. no token configured
        print(str(exc), file=sys.stderr)
        return 2
    except TelegramError as exc:
        print(f"Telegram said: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot telegram")
    parser.add_argument("-q", "--quiet", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("set-webhook", help="register the webhook (needs TELEGRAM_SECRET_TOKEN)")
    p.add_argument("url", nargs="?", help="public HTTPS URL (default: TELEGRAM_PUBLIC_URL); "
                   f"a bare host gets {WEBHOOK_PATH} appended")
    p.add_argument("--drop-pending", action="store_true", help="discard queued updates")
    p.add_argument("--max-connections", type=int, default=40)
    p.set_defaults(func=set_webhook)

    p = sub.add_parser("delete-webhook", help="remove the webhook (e.g. before polling)")
    p.add_argument("--drop-pending", action="store_true")
    p.set_defaults(func=delete_webhook)

    p = sub.add_parser("info", help="show the bot and its webhook")
    p.set_defaults(func=info)

    p = sub.add_parser("poll", help="long-poll Telegram and feed the local Rasa server")
    p.add_argument("--rasa-url", help="default: settings().rasa_url (http://127.0.0.1:5005)")
    p.add_argument("--timeout", type=int, default=30, help="long-poll seconds")
    p.add_argument("--concurrency", type=int, default=8, help="updates in flight at once")
    p.set_defaults(func=poll)
    return parser


def webhook_url(url: str) -> str:
    """A bare ``https://host`` gets the channel path; a full URL is kept as given."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return url.rstrip("/") + WEBHOOK_PATH
    return url


async def set_webhook(args: argparse.Namespace) -> int:
    from bot.config import settings

    conf = settings()
    url = args.url or conf.telegram_public_url
    if not url:
        print("usage: set-webhook URL (or set TELEGRAM_PUBLIC_URL)", file=sys.stderr)
        return 2
    if not conf.telegram_secret_token:
        # The derived secret is for local polling only; a public webhook needs its own.
        print("TELEGRAM_SECRET_TOKEN is not set. Generate one, e.g.\n"
              "  python -c 'import secrets; print(secrets.token_urlsafe(32))'\n"
              "and set it for the Rasa server too.", file=sys.stderr)
        return 2
    if not SECRET_RE.match(conf.telegram_secret_token):
        print("TELEGRAM_SECRET_TOKEN may only use A-Z a-z 0-9 _ - (1-256 characters).",
              file=sys.stderr)
        return 2
    url = webhook_url(url)
    if not url.startswith("https://"):
        print(f"warning: Telegram only delivers to HTTPS URLs ({url})", file=sys.stderr)
    async with build_bot() as bot:
        await bot.set_webhook(url, secret_token=conf.telegram_secret_token,
                              allowed_updates=ALLOWED_UPDATES,
                              drop_pending_updates=args.drop_pending,
                              max_connections=args.max_connections)
        print(f"webhook set for @{bot.username}: {url}")
    return 0


async def delete_webhook(args: argparse.Namespace) -> int:
    async with build_bot() as bot:
        await bot.delete_webhook(drop_pending_updates=args.drop_pending)
        print(f"webhook deleted for @{bot.username}")
    return 0


async def info(args: argparse.Namespace) -> int:
    from bot.config import settings

    conf = settings()
    async with build_bot() as bot:
        hook = await bot.get_webhook_info()
    print(f"bot:            @{bot.username} (id {bot.id})")
    print(f"api base url:   {conf.telegram_api_base_url or 'https://api.telegram.org/bot'}")
    print(f"secret token:   {'set' if conf.telegram_secret_token else 'not set (polling only)'}")
    print(f"webhook url:    {hook.url or '— (none: use poll)'}")
    print(f"pending:        {hook.pending_update_count}")
    if hook.last_error_message:
        print(f"last error:     {hook.last_error_message}")
    if hook.allowed_updates:
        print(f"allowed:        {', '.join(hook.allowed_updates)}")
    return 0


# --------------------------------------------------------------------------- polling
def user_key(update: dict[str, Any]) -> Any:
    """Whose update this is (updates of one user are forwarded in order)."""
    for kind in ("message", "edited_message", "callback_query", "channel_post"):
        body = update.get(kind)
        if isinstance(body, dict):
            sender = body.get("from") or body.get("chat") or {}
            if "id" in sender:
                return sender["id"]
    return ("update", update.get("update_id"))


class Forwarder:
    """POSTs updates to the webhook: per user in order, users concurrently, bounded."""

    def __init__(self, http: aiohttp.ClientSession, url: str, secret: str,
                 concurrency: int = 8, max_pending: int = 1000) -> None:
        self.http = http
        self.url = url
        self.secret = secret
        self._inflight = asyncio.Semaphore(concurrency)
        self._pending = asyncio.Semaphore(max_pending)  # backpressure on getUpdates
        self._queues: dict[Any, deque[dict[str, Any]]] = {}
        self._workers: dict[Any, asyncio.Task] = {}
        self.delivered = 0

    async def submit(self, update: dict[str, Any]) -> None:
        await self._pending.acquire()
        key = user_key(update)
        self._queues.setdefault(key, deque()).append(update)
        if key not in self._workers:
            self._workers[key] = asyncio.ensure_future(self._drain(key))

    async def _drain(self, key: Any) -> None:
        queue = self._queues[key]
        try:
            while queue:
                update = queue.popleft()
                try:
                    async with self._inflight:
                        await self._deliver(update)
                finally:
                    self._pending.release()
        finally:  # no await between the empty check and here: submit() cannot slip in
            self._workers.pop(key, None)
            self._queues.pop(key, None)

    async def _deliver(self, update: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELIVERY_DEADLINE
        delay = 0.5
        while True:
            status = await self._post_once(update)
            if status is not None and status < 500:
                self._report(update, status)
                return
            if loop.time() + delay > deadline:
                logger.error("update %s not delivered to %s (gave up)",
                             update.get("update_id"), self.url)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _post_once(self, update: dict[str, Any]) -> int | None:
        try:
            async with self.http.post(self.url, json=update,
                                      headers={SECRET_HEADER: self.secret}) as resp:
                await resp.read()
                return resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.warning("Rasa not reachable at %s (%s); retrying", self.url, exc)
            return None

    def _report(self, update: dict[str, Any], status: int) -> None:
        if status == 200:
            self.delivered += 1
        elif status == 403:
            logger.error("Rasa refused update %s (403): TELEGRAM_SECRET_TOKEN / TELEGRAM_TOKEN "
                         "must be the same for Rasa and the poller", update.get("update_id"))
        else:
            logger.error("Rasa answered %s for update %s", status, update.get("update_id"))

    async def drain(self, timeout: float = 10.0) -> None:
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=timeout)


async def poll(args: argparse.Namespace, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or until ``stop`` is set, for tests)."""
    from bot.config import settings

    conf = settings()
    secret = webhook_secret(conf.telegram_secret_token, conf.telegram_token)
    url = (args.rasa_url or conf.rasa_url).rstrip("/") + WEBHOOK_PATH
    if stop is None:
        stop = asyncio.Event()
        _on_signals(stop)
    async with build_bot() as bot, aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=90)
    ) as http:
        hook = await bot.get_webhook_info()
        if hook.url:
            print(f"a webhook is set ({hook.url}); Telegram will not answer getUpdates.\n"
                  "Run `python -m bot telegram delete-webhook` first.", file=sys.stderr)
            return 2
        forwarder = Forwarder(http, url, secret or "", args.concurrency)
        print(f"polling Telegram as @{bot.username} → {url}", flush=True)
        await _poll_loop(bot, forwarder, args.timeout, stop)
        await forwarder.drain()
    return 0


async def _poll_loop(bot: telegram.Bot, forwarder: Forwarder, timeout: int,
                     stop: asyncio.Event) -> None:
    offset: int | None = None
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(bot.get_updates(
            offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not fetch.done():
            fetch.cancel()
            break
        try:
            updates = fetch.result()
        except RetryAfter as exc:
            await _sleep_or_stop(stop, retry_after_seconds(exc))
            continue
        except Conflict as exc:  # another poller, or a webhook was set meanwhile
            logger.error("getUpdates conflict: %s", exc)
            await _sleep_or_stop(stop, 5.0)
            continue
        except (NetworkError, TelegramError) as exc:
            logger.warning("getUpdates failed: %s; retrying in %.0fs", exc, backoff)
            await _sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        backoff = 1.0
        for update in updates:
            offset = update.update_id + 1  # confirms it with Telegram on the next call
            await forwarder.submit(update.to_dict())


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests)
            pass


if __name__ == "__main__":
    sys.exit(main())
