"""/admin/workers: accounts for admins (everyone else gets a 404, like any hidden page)."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.orm import Session

from bot.console.access import parse_id
from bot.console.pages import UserError, db_url, flash, form_of, me, render, text_field
from bot.db.models import WORKER_ROLES, Worker
from bot.db.session import session_scope
from bot.staff import accounts
from bot.staff.accounts import AccountError


def _require_admin(request: web.Request) -> str:
    worker = me(request)
    if worker.role != "admin":
        raise web.HTTPNotFound()
    return f"worker:{worker.id}"


async def workers_page(request: web.Request) -> web.StreamResponse:
    _require_admin(request)
    with session_scope(db_url(request)) as db:
        rows = accounts.list_workers(db)
    return await render(request, "admin_workers.html", {
        "rows": rows, "roles": WORKER_ROLES, "nav": "admin", "error": None,
    })


async def create_worker(request: web.Request) -> web.StreamResponse:
    actor = _require_admin(request)
    form = await form_of(request)
    role = form.get("role", "social_worker")
    try:
        with session_scope(db_url(request)) as db:
            accounts.create_worker(
                db, text_field(form, "username", max_len=64), str(form.get("password", "")),
                role=str(role), supervisor=text_field(form, "supervisor", required=False) or None,
                telegram_chat_id=text_field(form, "telegram_chat_id", required=False) or None,
                on_call=form.get("on_call") == "yes", actor=actor,
            )
    except AccountError as exc:
        return await _page_with_error(request, str(exc))
    await flash(request, "done_worker_created")
    raise web.HTTPSeeOther("/admin/workers")


async def _page_with_error(request: web.Request, message: str) -> web.StreamResponse:
    with session_scope(db_url(request)) as db:
        rows = accounts.list_workers(db)
    return await render(request, "admin_workers.html", {
        "rows": rows, "roles": WORKER_ROLES, "nav": "admin", "error": message,
    }, status=400)


async def worker_action(request: web.Request) -> web.StreamResponse:
    actor = _require_admin(request)
    worker_id = parse_id(request.match_info["id"])
    action = request.match_info["action"]
    form = await form_of(request)
    try:
        with session_scope(db_url(request)) as db:
            target = db.get(Worker, worker_id)
            if target is None:
                raise web.HTTPNotFound()
            _apply(db, action, target.username, form, actor, me(request).id == worker_id)
    except AccountError as exc:
        return await _page_with_error(request, str(exc))
    await flash(request, "done_worker_changed")
    raise web.HTTPSeeOther("/admin/workers")


def _apply(db: Session, action: str, username: str, form: MultiDictProxy, actor: str,
           is_self: bool) -> None:
    if action == "disable":
        if is_self:  # an admin locking themselves out leaves nobody to undo it
            raise UserError(409, "error_disable_self")
        accounts.set_active(db, username, False, actor=actor)
    elif action == "enable":
        accounts.set_active(db, username, True, actor=actor)
    elif action == "unlock":
        accounts.unlock(db, username, actor=actor)
    elif action == "password":
        accounts.reset_password(db, username, str(form.get("password", "")), actor=actor)
    elif action == "on-call":
        accounts.set_on_call(db, username, form.get("on_call") == "yes", actor=actor)
    else:
        raise web.HTTPNotFound()


async def assign_child(request: web.Request) -> web.StreamResponse:
    actor = _require_admin(request)
    form = await form_of(request)
    try:
        with session_scope(db_url(request)) as db:
            accounts.assign(db, text_field(form, "sender_id", max_len=128),
                            text_field(form, "username", max_len=64), actor=actor)
    except AccountError as exc:
        return await _page_with_error(request, str(exc))
    await flash(request, "done_assigned")
    raise web.HTTPSeeOther("/admin/workers")
