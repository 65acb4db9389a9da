"""The console app on :8080: health, the social-worker console, and the children's chat page.

`create_app()` builds it (tests use it directly); `python -m bot console` serves it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
from importlib import metadata
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp_session import session_middleware

from bot.config import settings
from bot.console import admin, auth, keys, views
from bot.console.i18n import request_lang, translate
from bot.console.pages import UserError, render
from bot.console.security import (
    ConsoleCookieStorage,
    Handler,
    csrf_middleware,
    load_session_key,
    security_headers,
)
from bot.db.session import normalise_url

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATUS_KEYS = {400: "error_400", 401: "error_401", 403: "error_403", 404: "error_404",
               405: "error_405", 409: "error_409", 413: "error_413", 429: "error_429"}


def _version() -> str:
    try:
        return metadata.version("peiban")
    except metadata.PackageNotFoundError:
        return "0.0.0"


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as a readable page (or JSON for the API); never a stack trace."""
    try:
        return await handler(request)
    except UserError as exc:
        return await _error(request, exc.status, exc.key, exc.values)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        response = await _error(request, exc.status, STATUS_KEYS.get(exc.status, "error_400"), {})
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await _error(request, 500, "error_500", {})


async def _error(request: web.Request, status: int, key: str, values: dict) -> web.Response:
    if auth.is_api(request):
        message = translate(request_lang(request), key, **values)
        return web.Response(status=status, content_type="application/json",
                            text=json.dumps({"error": key, "message": message}, ensure_ascii=False))
    try:
        return await render(request, "error.html", {"status": status, "key": key, "values": values},
                            status=status, with_counts=False)
    except Exception:  # the error page itself failed (e.g. no database): plain text
        log.exception("error page failed")
        return web.Response(status=status, text=f"{status}")


STATIC_DIR = HERE / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml",
                ".png": "image/png", ".ico": "image/x-icon", ".txt": "text/plain"}
STATIC_NAME = re.compile(r"^[A-Za-z0-9_-]+\.[a-z]{2,4}$")


async def static_file(request: web.Request) -> web.StreamResponse:
    """Our few static files, by plain name only (no paths, so no traversal)."""
    name = request.match_info["name"]
    path = STATIC_DIR / name
    content_type = STATIC_TYPES.get(path.suffix)
    if not STATIC_NAME.match(name) or content_type is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=path.read_bytes(), content_type=content_type,
                        charset="utf-8" if content_type.startswith("text/") else None)


def _mount_chat_page(app: web.Application, rasa_url: str) -> None:
    """The children's chat page (bot/channels/chatpage), mounted at /chat when it exists."""
    try:
        module = importlib.import_module("bot.channels.chatpage.routes")
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("bot.channels"):
            log.exception("chat page cannot be imported")
        return
    except Exception:  # a broken chat page must not keep the console (safety work) down
        log.exception("chat page cannot be imported")
        return
    # Its routes are absolute (/chat, /chat/static/…, /chat/api/message). Not a sub-app: the
    # sub-app resolver reads request.url, which raises with the pinned yarl (see static_file).
    module.add_routes(app, rasa_url)


def _add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/health", views.health)
    r.add_get("/", views.index)
    r.add_get("/login", auth.login_page)
    r.add_post("/login", auth.login_submit)
    r.add_post("/logout", auth.logout)
    r.add_get("/lang/{lang}", views.set_language)
    for kind, path in views.QUEUE_PATHS.items():
        r.add_get(path, views.queue_handler(kind))
    r.add_get("/events", views.events)
    r.add_get("/cases/{id}", views.case_page)
    r.add_post("/cases/{id}/{action}", views.case_action)
    r.add_get("/children", views.children_page)
    r.add_get("/children/{id}", views.child_page)
    r.add_get("/link-telegram", views.link_telegram_page)
    r.add_post("/link-telegram", views.link_telegram_create)
    r.add_post("/link-telegram/unlink", views.link_telegram_remove)
    r.add_get("/admin/workers", admin.workers_page)
    r.add_post("/admin/workers", admin.create_worker)
    r.add_post("/admin/workers/{id}/{action}", admin.worker_action)
    r.add_post("/admin/assign", admin.assign_child)
    # Not add_static: its resolver reads request.url, which raises with the pinned yarl 1.25
    # (Host with a port), turning every unknown path into a 500.
    r.add_get("/static/{name}", static_file)


def create_app(database_url: str | None = None, rasa_url: str | None = None) -> web.Application:
    config = settings()
    storage = ConsoleCookieStorage(
        load_session_key(config.session_secret_file),
        always_secure=config.console_url.startswith("https://"),
    )
    # Order matters: headers on everything (errors too), error pages outside the session so a
    # refused request still saves its session, the gate before CSRF (no session, no token).
    app = web.Application(
        middlewares=[security_headers, error_pages, session_middleware(storage),
                     auth.auth_middleware, csrf_middleware],
        client_max_size=256 * 1024,
    )
    app[keys.DB_URL] = normalise_url(database_url or config.database_url)
    app[keys.VERSION] = _version()
    app[keys.THROTTLE] = auth.LoginThrottle()
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # child messages with HTML or script show as text
    )
    _add_routes(app)
    _mount_chat_page(app, rasa_url or config.rasa_url)
    return app


def main(argv: list[str] | None = None) -> int:
    config = settings()
    parser = argparse.ArgumentParser(prog="python -m bot console", description=__doc__)
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--port", type=int, default=config.console_port)
    parser.add_argument("--no-migrate", action="store_true", help="skip `alembic upgrade head`")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.no_migrate:
        from bot.db.migrate import upgrade

        upgrade()
    web.run_app(create_app(), host=args.host, port=args.port, print=None)
    return 0
