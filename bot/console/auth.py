"""Login, logout and the gate every request passes.

Throttling works on two keys. Per account (in the database, so it survives restarts and is
shared by several console processes): every 5th consecutive failure locks the account,
15 minutes the first time, doubling up to a day. Per client address (in memory): at most
20 failures in 15 minutes, then 429. Unknown usernames get the same counting in memory and
the same answers, so the login form does not tell which accounts exist.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import get_session, new_session
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console import keys
from bot.console.i18n import request_lang, translate
from bot.console.pages import render
from bot.console.security import IDLE_TIMEOUT, SESSION_MAX_AGE, Handler, csrf_token, safe_next
from bot.db import audit
from bot.db.models import Worker, utcnow
from bot.db.session import session_scope
from bot.staff import passwords

LOCK_EVERY = 5
LOCK_BASE = dt.timedelta(minutes=15)
LOCK_MAX = dt.timedelta(hours=24)
IP_WINDOW = 15 * 60
IP_LIMIT = 20
MEMORY_CAP = 10_000  # bound the in-memory tables: a flood of names must not eat the RAM
PUBLIC_PREFIXES = ("/static/", "/chat/", "/lang/")
PUBLIC_PATHS = {"/health", "/login", "/chat", "/favicon.ico"}
API_PREFIXES = ("/events", "/api/")
PASSIVE_PATHS = {"/events"}
USERNAME_MAX = 64


def lock_duration(failures: int) -> dt.timedelta:
    rounds = max(1, failures // LOCK_EVERY)
    return min(LOCK_MAX, LOCK_BASE * 2 ** min(rounds - 1, 16))


@dataclass
class _Ghost:
    """Failure state for a username that has no account."""

    failures: int = 0
    locked_until: dt.datetime | None = None


class LoginThrottle:
    def __init__(self) -> None:
        self._ip: OrderedDict[str, deque[float]] = OrderedDict()
        self._ghosts: OrderedDict[str, _Ghost] = OrderedDict()

    def ip_blocked(self, ip: str) -> int:
        """Seconds until this address may try again (0: allowed now)."""
        attempts = self._ip.get(ip)
        if not attempts:
            return 0
        now = time.monotonic()
        while attempts and attempts[0] < now - IP_WINDOW:
            attempts.popleft()
        if len(attempts) < IP_LIMIT:
            return 0
        return int(attempts[0] + IP_WINDOW - now) + 1

    def ip_failed(self, ip: str) -> None:
        self._ip.setdefault(ip, deque()).append(time.monotonic())
        self._ip.move_to_end(ip)
        while len(self._ip) > MEMORY_CAP:
            self._ip.popitem(last=False)

    def ghost(self, username: str) -> _Ghost:
        key = username.lower()
        ghost = self._ghosts.get(key)
        if ghost is None:
            ghost = self._ghosts[key] = _Ghost()
            while len(self._ghosts) > MEMORY_CAP:
                self._ghosts.popitem(last=False)
        self._ghosts.move_to_end(key)
        return ghost

    def reset_ip(self, ip: str) -> None:
        self._ip.pop(ip, None)


def client_ip(request: web.Request) -> str:
    # Behind a reverse proxy every client shares its address; the per-account lock still holds.
    return request.remote or "unknown"


def password_fingerprint(password_hash: str) -> str:
    """Stored in the session: a new password (or a rehash) ends every older session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


# --- the gate -----------------------------------------------------------------------------


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_api(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIXES) or "application/json" in request.headers.get(
        "Accept", ""
    )


def _refuse(request: web.Request) -> web.HTTPException:
    if is_api(request):
        return web.HTTPUnauthorized(
            text='{"error": "login required"}', content_type="application/json"
        )
    target = request.path_qs if request.method == "GET" else "/cases"
    return web.HTTPFound(f"/login?next={_quote(target)}")


def _quote(value: str) -> str:
    return quote(value, safe="/")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if is_public(request.path):
        return await handler(request)
    session = await get_session(request)
    worker_id = session.get("wid")
    if not isinstance(worker_id, int):
        raise _refuse(request)
    now = int(time.time())
    seen = session.get("seen", 0)
    if now - int(seen) > IDLE_TIMEOUT or now - int(session.get("auth_at", 0)) > SESSION_MAX_AGE:
        session.invalidate()
        raise _refuse(request)
    with session_scope(request.app[keys.DB_URL]) as db:
        worker = db.get(Worker, worker_id)
        if (
            worker is None
            or not worker.active
            or session.get("pwfp") != password_fingerprint(worker.password_hash)
        ):
            session.invalidate()
            raise _refuse(request)
    request["worker"] = worker
    if request.path not in PASSIVE_PATHS:
        # Background polling is not activity: it must not keep an idle console logged in.
        session["seen"] = now
    return await handler(request)


# --- handlers -----------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    if isinstance(session.get("wid"), int):
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return await _render_login(request, error=None, status=200)


async def _render_login(request: web.Request, error: str | None, status: int,
                        username: str = "") -> web.Response:
    context = {"error": error, "next": safe_next(request.query.get("next")), "username": username}
    return await render(request, "login.html", context, status=status, with_counts=False)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()[:USERNAME_MAX]
    password = str(form.get("password", ""))
    lang = request_lang(request)
    throttle: LoginThrottle = request.app[keys.THROTTLE]
    ip = client_ip(request)
    wait = throttle.ip_blocked(ip)
    if wait:
        response = await _render_login(request, translate(lang, "login_too_many"), 429, username)
        response.headers["Retry-After"] = str(wait)
        return response
    if not username or not password:
        return await _render_login(request, translate(lang, "login_failed"), 400, username)
    outcome = await _check_credentials(request, username, password, ip)
    if isinstance(outcome, str):
        throttle.ip_failed(ip)
        return await _render_login(request, translate(lang, outcome), 401, username)
    await _start_session(request, outcome)
    target = safe_next(str(form.get("next", "")) or request.query.get("next"))
    raise web.HTTPSeeOther(target)


async def _check_credentials(request: web.Request, username: str, password: str,
                             ip: str) -> Worker | str:
    """The worker, or the message key to show. Locks count before the (slow) hash check."""
    db_url = request.app[keys.DB_URL]
    now = utcnow()
    with session_scope(db_url) as db:
        worker = db.execute(
            select(Worker).where(func.lower(Worker.username) == username.lower())
        ).scalar()
        locked = worker is not None and bool(worker.locked_until and worker.locked_until > now)
        if locked:
            audit.record(db, "anonymous", "login_locked", "worker", worker.id, {"ip": ip})
    if worker is None:
        return await _ghost_attempt(request, username, password, now)
    if locked:
        return "login_locked"
    stored = worker.password_hash
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, passwords.verify_password, stored, password)
    with session_scope(db_url) as db:
        worker = db.get(Worker, worker.id)
        if not ok or not worker.active:
            return _record_failure(db, worker, ip, now)
        worker.failed_logins = 0
        worker.locked_until = None
        if passwords.needs_rehash(worker.password_hash):
            worker.password_hash = passwords.hash_password(password)
        audit.record(db, f"worker:{worker.id}", "login", "worker", worker.id, {"ip": ip})
        return worker


def _record_failure(db: Session, worker: Worker, ip: str, now: dt.datetime) -> str:
    worker.failed_logins = (worker.failed_logins or 0) + 1
    locked = worker.failed_logins % LOCK_EVERY == 0
    if locked:
        worker.locked_until = now + lock_duration(worker.failed_logins)
    audit.record(db, "anonymous", "login_failed", "worker", worker.id,
                 {"ip": ip, "failures": worker.failed_logins, "locked": locked})
    return "login_locked" if locked else "login_failed"


async def _ghost_attempt(request: web.Request, username: str, password: str,
                         now: dt.datetime) -> str:
    ghost = request.app[keys.THROTTLE].ghost(username)
    if ghost.locked_until and ghost.locked_until > now:
        return "login_locked"
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, passwords.burn_time, password)
    ghost.failures += 1
    if ghost.failures % LOCK_EVERY == 0:
        ghost.locked_until = now + lock_duration(ghost.failures)
        return "login_locked"
    return "login_failed"


async def _start_session(request: web.Request, worker: Worker) -> None:
    """A new session (fresh cookie, fresh CSRF token): no session fixation."""
    session = await new_session(request)
    now = int(time.time())
    session["wid"] = worker.id
    session["pwfp"] = password_fingerprint(worker.password_hash)
    session["auth_at"] = now
    session["seen"] = now
    csrf_token(session)


async def logout(request: web.Request) -> web.StreamResponse:
    worker = request.get("worker")
    if worker is not None:
        with session_scope(request.app[keys.DB_URL]) as db:
            audit.record(db, f"worker:{worker.id}", "logout", "worker", worker.id)
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/login")
