"""Session cookies, CSRF tokens and security headers.

Sessions are aiohttp-session's EncryptedCookieStorage (Fernet: encrypted and authenticated),
HttpOnly, SameSite=Lax (Strict would drop the cookie when a worker taps the case link in a
Telegram alert, which must open the case, not the login page; every state change is a POST
checked against a CSRF token instead), Secure when served over https, and limited in age.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp_session import Session, get_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE_NAME = "peiban_console"
SESSION_MAX_AGE = 12 * 3600  # absolute lifetime, enforced by aiohttp-session and Fernet's TTL
IDLE_TIMEOUT = 30 * 60  # shared township computers: an idle console logs itself out
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
STATIC_PREFIX = "/static/"


def load_session_key(path: Path) -> bytes:
    """32 random bytes from the key file, created with mode 0600 on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)) + b"\n")
    raw = path.read_bytes().strip()
    key = base64.urlsafe_b64decode(raw)
    if len(key) != 32:
        raise ValueError(f"{path}: the session key must be 32 bytes (urlsafe base64)")
    return key


class ConsoleCookieStorage(EncryptedCookieStorage):
    """Sets Secure per response: always when the console URL is https, else when the
    request itself came over TLS (a deployment may serve both during a move)."""

    def __init__(self, key: bytes, *, always_secure: bool) -> None:
        super().__init__(
            key, cookie_name=COOKIE_NAME, max_age=SESSION_MAX_AGE, httponly=True,
            samesite="Lax", secure=always_secure,
        )
        self._always_secure = always_secure

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        # No await between setting the flag and the synchronous save_cookie in super().
        self._cookie_params["secure"] = self._always_secure or request.secure
        await super().save_session(request, response, session)


# --- CSRF ---------------------------------------------------------------------------------


def csrf_token(session: Session) -> str:
    """The session's token, created on first use (also for anonymous sessions: the login form)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


async def submitted_token(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()  # cached by aiohttp: the handler reads it again
        except ValueError as exc:
            raise web.HTTPBadRequest(text="malformed form") from exc
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def is_exempt(path: str) -> bool:
    """The children's chat page has its own endpoints and no console session."""
    return path == "/chat" or path.startswith("/chat/")


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in UNSAFE_METHODS and not is_exempt(request.path):
        session = await get_session(request)
        expected = session.get("csrf")
        given = await submitted_token(request)
        if not isinstance(expected, str) or not hmac.compare_digest(
            expected.encode(), given.encode()
        ):
            raise web.HTTPForbidden(reason="CSRF token missing or invalid")
    return await handler(request)


# --- headers --------------------------------------------------------------------------------


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _apply_headers(request, exc)
        raise
    _apply_headers(request, response)
    return response


def _apply_headers(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:  # a streamed response already sent its headers
        return
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    headers["X-Robots-Tag"] = "noindex, nofollow"
    if request.secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if request.path.startswith(STATIC_PREFIX):
        headers.setdefault("Cache-Control", "public, max-age=3600")
    else:
        # Pages carry child data or session state: never keep them in any cache.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"


def safe_next(target: str | None, default: str = "/cases") -> str:
    """Only same-site relative paths: `//evil.example` and `/\\evil` would leave the site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch in target for ch in "\r\n\t") or "\\" in target:
        return default
    return target
