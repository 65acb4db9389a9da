"""Rendering helpers shared by the handlers: the base context, forms, user-facing errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from multidict import MultiDictProxy
from sqlalchemy.orm import Session

from bot.console import keys, queries
from bot.console.access import Viewer, viewer_for
from bot.console.fmt import Formatter
from bot.console.i18n import request_lang, translator
from bot.console.security import csrf_token
from bot.db.models import CASE_KINDS, Worker
from bot.db.session import session_scope

TEXT_MAX = 4000


class UserError(Exception):
    """A refusal the user should read: rendered as an error page with this status."""

    def __init__(self, status: int, key: str, **values: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values


def me(request: web.Request) -> Worker:
    return request["worker"]


def db_url(request: web.Request) -> str:
    return request.app[keys.DB_URL]


def viewer(request: web.Request, db: Session) -> Viewer:
    return viewer_for(db, me(request))


async def base_context(request: web.Request, *, with_counts: bool = True,
                       counts: dict[str, int] | None = None) -> dict[str, Any]:
    lang = request_lang(request)
    session = await get_session(request)
    worker = request.get("worker")
    context: dict[str, Any] = {
        "lang": lang,
        "t": translator(lang),
        "fmt": Formatter(lang),
        "csrf": csrf_token(session),
        "me": worker,
        "path_qs": request.path_qs,
        "flash": session.pop("flash", None),
        "counts": dict.fromkeys(CASE_KINDS, 0),
    }
    if counts is not None:
        context["counts"] = counts
    elif worker is not None and with_counts:
        with session_scope(db_url(request)) as db:
            context["counts"] = queries.open_counts(db, viewer_for(db, worker))
    return context


async def render(request: web.Request, template: str, context: dict[str, Any],
                 status: int = 200, with_counts: bool = True,
                 counts: dict[str, int] | None = None) -> web.Response:
    full = await base_context(request, with_counts=with_counts, counts=counts)
    full.update(context)
    return aiohttp_jinja2.render_template(template, request, full, status=status)


async def flash(request: web.Request, key: str) -> None:
    session = await get_session(request)
    session["flash"] = key


async def form_of(request: web.Request) -> MultiDictProxy:
    try:
        return await request.post()
    except ValueError as exc:
        raise UserError(400, "error_bad_form") from exc


def text_field(form: MultiDictProxy, name: str, *, required: bool = True,
               max_len: int = TEXT_MAX) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise UserError(400, "error_bad_form")
    value = value.replace("\r\n", "\n").strip()
    if required and not value:
        raise UserError(400, "error_field_required", field=name)
    if len(value) > max_len:
        raise UserError(400, "error_field_too_long", field=name, n=max_len)
    return value


def choice_field(form: MultiDictProxy, name: str, choices: tuple[str, ...]) -> str:
    value = form.get(name, "")
    if value not in choices:
        raise UserError(400, "error_bad_choice", field=name)
    return str(value)


def date_field(form: MultiDictProxy, name: str, *, today: dt.date) -> dt.date:
    raw = text_field(form, name, required=False, max_len=10)
    if not raw:
        return today
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise UserError(400, "error_bad_date") from exc
    if value > today or value < today - dt.timedelta(days=366):
        raise UserError(400, "error_bad_date")
    return value


def page_param(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isdigit() or len(raw) > 6:
        raise UserError(400, "error_bad_page")
    return int(raw)
