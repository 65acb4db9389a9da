"""Console pages: queues, live updates, a case and its actions, children, Telegram linking."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.console import access, actions, keys, queries
from bot.console.access import Viewer, load_case, load_child, parse_id, viewer_for
from bot.console.chart import mood_chart
from bot.console.i18n import LANG_COOKIE, LANGS, request_lang, translate
from bot.console.pages import (
    UserError,
    base_context,
    choice_field,
    date_field,
    db_url,
    flash,
    form_of,
    me,
    page_param,
    render,
    text_field,
)
from bot.console.security import safe_next
from bot.db import audit
from bot.db.models import CASE_KINDS, Case, Worker
from bot.db.session import session_scope
from bot.safety.types import SEVERITIES
from bot.staff import linking

QUEUE_PATHS = {"risk": "/cases", "concern": "/concerns", "watch": "/watch"}
BEIJING = dt.timedelta(hours=8)


async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/cases")


async def set_language(request: web.Request) -> web.StreamResponse:
    lang = request.match_info["lang"]
    if lang not in LANGS:
        raise web.HTTPNotFound()
    response = web.HTTPSeeOther(safe_next(request.query.get("next"), default="/"))
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="Lax",
                        path="/", secure=request.secure or None)
    raise response


# --- queues -------------------------------------------------------------------------------


def _status_param(request: web.Request) -> str:
    status = request.query.get("status", "open")
    if status not in ("open", "resolved"):
        raise UserError(400, "error_bad_choice", field="status")
    return status


def queue_handler(kind: str) -> Callable:
    async def handler(request: web.Request) -> web.StreamResponse:
        status, page = _status_param(request), page_param(request)
        with session_scope(db_url(request)) as db:
            viewer = viewer_for(db, me(request))
            counts, latest = queries.open_stats(db, viewer)
            result = queries.queue(db, viewer, kind, status, page, open_total=counts[kind],
                                   latest_id=latest[kind])
            audit.record(db, viewer.actor, "view_queue", "queue", kind, {
                "status": status, "page": result.page, "cases": [r.id for r in result.rows],
            })
        return await render(request, "queue.html", {
            "page": result, "kind": kind, "nav": kind, "base_path": QUEUE_PATHS[kind],
        }, counts=counts)

    return handler


async def events(request: web.Request) -> web.StreamResponse:
    """JSON poll for the queue pages: new case ids and, when the page changed, its rows."""
    kind = request.query.get("kind", "risk")
    if kind not in CASE_KINDS:
        raise UserError(400, "error_bad_choice", field="kind")
    since_raw = request.query.get("since", "0")
    if not since_raw.isdigit() or len(since_raw) > 18:
        raise UserError(400, "error_bad_choice", field="since")
    status, page = _status_param(request), page_param(request)
    with session_scope(db_url(request)) as db:
        viewer = viewer_for(db, me(request))
        counts, latest = queries.open_stats(db, viewer)
        result = queries.queue(db, viewer, kind, status, page, open_total=counts[kind],
                               latest_id=latest[kind])
        since = int(since_raw)
        new = queries.new_cases_since(db, viewer, kind, since) if latest[kind] > since else []
        if new:  # what this viewer newly sees is an access like any page view
            audit.record(db, viewer.actor, "view_new_cases", "queue", kind,
                         {"cases": [c["id"] for c in new]})
    body = {
        "kind": kind, "latest_id": result.latest_id, "fingerprint": result.fingerprint,
        "total": result.total, "counts": counts, "new": new,
    }
    if request.query.get("fp") != result.fingerprint:
        context = await base_context(request, with_counts=False)
        context.update({"page": result, "kind": kind})
        body["rows_html"] = aiohttp_jinja2.render_string("_queue_rows.html", request, context)
    return web.json_response(body, dumps=_dumps)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- one case -----------------------------------------------------------------------------


async def case_page(request: web.Request) -> web.StreamResponse:
    case_id = parse_id(request.match_info["id"])
    worker = me(request)
    with session_scope(db_url(request)) as db:
        viewer = viewer_for(db, worker)
        case = load_case(db, viewer, case_id)
        view = queries.case_view(db, viewer, case)
        targets = access.reassign_targets(db, viewer, db.get(Worker, worker.id))
        counts = queries.open_counts(db, viewer)  # nav badges, in this transaction
        audit.record(db, viewer.actor, "view_case", "case", case.id)
    return await render(request, "case.html", {
        "v": view, "c": view.case, "nav": view.case.kind, "targets": targets, "names": view.names,
        "severities": SEVERITIES, "outcomes": actions.OUTCOMES,
        "contact_with": actions.CONTACT_WITH, "contact_how": actions.CONTACT_HOW,
        "today": (dt.datetime.utcnow() + BEIJING).date().isoformat(),
    }, counts=counts)


def _today() -> dt.date:
    return (dt.datetime.utcnow() + BEIJING).date()


def _do_note(db: Session, viewer: Viewer, case: Case, form: MultiDictProxy) -> str:
    actions.add_note(db, viewer, case, text_field(form, "text"))
    return "done_note"


def _do_ack(db: Session, viewer: Viewer, case: Case, form: MultiDictProxy) -> str:
    actions.acknowledge(db, viewer, case)
    return "done_ack"


def _do_contact(db: Session, viewer: Viewer, case: Case, form: MultiDictProxy) -> str:
    contact = actions.Contact(
        with_whom=choice_field(form, "with", actions.CONTACT_WITH),
        how=choice_field(form, "how", actions.CONTACT_HOW),
        text=text_field(form, "text", required=False),
    )
    actions.record_contact(db, viewer, case, contact)
    return "done_contact"


def _do_visit(db: Session, viewer: Viewer, case: Case, form: MultiDictProxy) -> str:
    day = date_field(form, "date", today=_today())
    actions.record_visit(db, viewer, case, day, text_field(form, "text"))
    return "done_visit"


def _do_severity(db: Session, viewer: Viewer, case: Case, form: MultiDictProxy) -> str:
    severity = choice_field(form, "severity", SEVERITIES)
    actions.change_severity(db, viewer, case, severity, text_field(form, "reason"))
    return "done_severity"


def _do_reassign(db: Session, viewer: Viewer, case: Case, form: MultiDictProxy) -> str:
    raw = form.get("worker_id", "")
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 18:
        raise UserError(400, "error_bad_choice", field="worker_id")
    me_row = db.get(Worker, viewer.id)
    targets = {w.id: w for w in access.reassign_targets(db, viewer, me_row)}
    target = targets.get(int(raw))
    if target is None:
        raise UserError(400, "error_bad_choice", field="worker_id")
    actions.reassign(db, viewer, case, target, text_field(form, "reason", required=False))
    return "done_reassign"


def _do_resolve(db: Session, viewer: Viewer, case: Case, form: MultiDictProxy) -> str:
    outcome = choice_field(form, "outcome", actions.OUTCOMES)
    text = text_field(form, "text")
    actions.resolve(db, viewer, case, outcome, text, form.get("police_reported") == "yes")
    return "done_resolve"


CASE_ACTIONS = {
    "acknowledge": _do_ack, "note": _do_note, "contact": _do_contact, "visit": _do_visit,
    "severity": _do_severity, "reassign": _do_reassign, "resolve": _do_resolve,
}


async def case_action(request: web.Request) -> web.StreamResponse:
    do = CASE_ACTIONS.get(request.match_info["action"])
    if do is None:
        raise web.HTTPNotFound()
    case_id = parse_id(request.match_info["id"])
    form = await form_of(request)
    with session_scope(db_url(request)) as db:
        viewer = viewer_for(db, me(request))
        case = load_case(db, viewer, case_id)
        try:
            done = do(db, viewer, case, form)
        except actions.ActionRefused as exc:
            raise UserError(409, exc.key) from exc
        still_visible = _visible(db, viewer, case_id)
    await flash(request, done)
    raise web.HTTPSeeOther(f"/cases/{case_id}" if still_visible else "/cases")


def _visible(db: Session, viewer: Viewer, case_id: int) -> bool:
    try:
        load_case(db, viewer, case_id)
    except web.HTTPNotFound:
        return False
    return True


# --- children -----------------------------------------------------------------------------


async def children_page(request: web.Request) -> web.StreamResponse:
    page = page_param(request)
    with session_scope(db_url(request)) as db:
        viewer = viewer_for(db, me(request))
        rows, page, pages = queries.children(db, viewer, page)
        audit.record(db, viewer.actor, "view_children", "person", None,
                     {"people": [r.id for r in rows]})
    return await render(request, "children.html", {
        "rows": rows, "page": page, "pages": pages, "nav": "children",
    })


async def child_page(request: web.Request) -> web.StreamResponse:
    person_id = parse_id(request.match_info["id"])
    lang = request_lang(request)
    with session_scope(db_url(request)) as db:
        viewer = viewer_for(db, me(request))
        person = load_child(db, viewer, person_id)
        view = queries.child_view(db, viewer, person)
        counts = queries.open_counts(db, viewer)
        audit.record(db, viewer.actor, "view_child", "person", person.id)
    chart = mood_chart(view.checkins, {
        "title": translate(lang, "chart_title"), "point": translate(lang, "chart_point"),
    })
    return await render(request, "child.html", {"v": view, "chart": chart, "nav": "children"},
                        counts=counts)


# --- Telegram linking -----------------------------------------------------------------------


async def link_telegram_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "link_telegram.html", {"code": None, "nav": "telegram"})


async def link_telegram_create(request: web.Request) -> web.StreamResponse:
    with session_scope(db_url(request)) as db:
        code = linking.create_telegram_link_code(db, me(request).id)
    minutes = int(linking.TELEGRAM_TTL.total_seconds() // 60)
    return await render(request, "link_telegram.html", {
        "code": code, "minutes": minutes, "nav": "telegram",
    })


async def link_telegram_remove(request: web.Request) -> web.StreamResponse:
    worker = me(request)
    with session_scope(db_url(request)) as db:
        linking.unlink_telegram(db, worker.id, f"worker:{worker.id}")
    await flash(request, "done_unlinked")
    raise web.HTTPSeeOther("/link-telegram")


# --- health -------------------------------------------------------------------------------


def _db_ok(url: str) -> bool:
    try:
        with session_scope(url) as db:
            db.execute(text("SELECT 1"))
            db.execute(select(Worker.id).limit(1))  # our schema exists (migrated)
    except SQLAlchemyError:
        return False
    return True


async def health(request: web.Request) -> web.StreamResponse:
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, _db_ok, db_url(request))
    body = {"ok": ok, "db": ok, "version": request.app[keys.VERSION]}
    return web.json_response(body, status=200 if ok else 503)
