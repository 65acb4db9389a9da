"""Typed application keys (aiohttp.web.AppKey) shared by the console modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.console.auth import LoginThrottle

DB_URL = web.AppKey("db_url", str)
VERSION = web.AppKey("version", str)
THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("throttle")
