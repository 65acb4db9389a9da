"""The queue, a case and its actions, children, authorization and the audit trail."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.db import audit
from bot.db.models import Case, CaseEvent, CheckIn, ExerciseRun, Outbox, Worker, utcnow
from bot.db.session import session_scope
from bot.safety.types import SEVERITIES
from tests.console.conftest import World, audit_rows, login, make_case, make_child, make_worker

ROW_RE = re.compile(r'data-case-id="(\d+)"')


def queue_ids(html: str) -> list[int]:
    return [int(x) for x in ROW_RE.findall(html)]


async def test_queue_orders_by_severity_then_waiting(client: TestClient, world: World) -> None:
    url, child = world.url, world.child_a
    medium_old = make_case(url, child, severity="medium", worker_id=world.alice,
                           created_ago=dt.timedelta(hours=5))
    imminent_new = make_case(url, child, severity="imminent", worker_id=world.alice,
                             created_ago=dt.timedelta(minutes=1))
    imminent_old = make_case(url, child, severity="imminent", worker_id=world.alice,
                             created_ago=dt.timedelta(minutes=9))
    await login(client, "alice")
    html = await (await client.get("/cases")).text()
    assert queue_ids(html) == [imminent_old, imminent_new, world.case_a, medium_old]
    assert "还剩" in html  # time left before re-notification


async def test_overdue_renotify_shown(client: TestClient, world: World) -> None:
    with session_scope(world.url) as db:
        db.get(Case, world.case_a).notify_due_at = utcnow() - dt.timedelta(minutes=4)
    await login(client, "alice")
    html = await (await client.get("/cases")).text()
    assert "已超时 4 分钟" in html or "已超时 3 分钟" in html


async def test_worker_sees_only_own_cases(client: TestClient, world: World) -> None:
    await login(client, "alice")
    html = await (await client.get("/cases")).text()
    assert queue_ids(html) == [world.case_a]
    assert (await client.get(f"/cases/{world.case_b}")).status == 404
    assert (await client.get(f"/children/{world.child_b}")).status == 404
    response = await client.get(f"/cases/{world.case_b}")
    nonexistent = await client.get("/cases/999")
    # No existence leak: the same page as for an id that does not exist (but for the URL).
    assert (await response.text()).replace(f"/cases/{world.case_b}", "/cases/999") == \
        await nonexistent.text()


async def test_actions_on_other_workers_case_are_404(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    for action, data in (("acknowledge", {}), ("note", {"text": "x"}),
                         ("resolve", {"outcome": "false_alarm", "text": "x"})):
        response = await client.post(f"/cases/{world.case_b}/{action}",
                                     data={"_csrf": token, **data})
        assert response.status == 404
    with session_scope(world.url) as db:
        assert db.get(Case, world.case_b).status == "open"
        assert db.execute(select(CaseEvent)).first() is None


async def test_supervisor_sees_team_admin_sees_all(client: TestClient, other_client: TestClient,
                                                   world: World) -> None:
    await login(client, "boss")
    html = await (await client.get("/cases")).text()
    assert queue_ids(html) == [world.case_a]
    assert (await client.get(f"/cases/{world.case_a}")).status == 200
    assert (await client.get(f"/cases/{world.case_b}")).status == 404
    await login(other_client, "root")
    html = await (await other_client.get("/cases")).text()
    assert sorted(queue_ids(html)) == sorted([world.case_a, world.case_b])


async def test_unrouted_case_visible_to_child_worker_and_on_call(
    client: TestClient, other_client: TestClient, world: World
) -> None:
    unrouted = make_case(world.url, world.child_a, worker_id=None)
    make_worker(world.url, "oncall", on_call=True)
    orphan = make_child(world.url, "tg-3003", "root", "小红")
    with session_scope(world.url) as db:
        from bot.db.models import WorkerAssignment
        db.execute(WorkerAssignment.__table__.delete().where(WorkerAssignment.child_id == orphan))
    orphan_case = make_case(world.url, orphan, worker_id=None)
    await login(client, "alice")
    ids = queue_ids(await (await client.get("/cases")).text())
    assert unrouted in ids and orphan_case not in ids
    await login(other_client, "oncall")
    ids = queue_ids(await (await other_client.get("/cases")).text())
    assert orphan_case in ids and world.case_b not in ids


async def test_alerted_worker_can_open_case(client: TestClient, world: World) -> None:
    """An escalation sent to someone outside the team lets them open that case (and only it)."""
    with session_scope(world.url) as db:
        db.add(Outbox(case_id=world.case_b, channel="telegram", worker_id=world.alice,
                      kind="escalate", payload={}, dedupe_key="t-1"))
    await login(client, "alice")
    assert (await client.get(f"/cases/{world.case_b}")).status == 200


async def test_case_page_content_and_audit(client: TestClient, world: World) -> None:
    await login(client, "alice")
    html = await (await client.get(f"/cases/{world.case_a}")).text()
    for text in ("我不想活了", "今天好累", "听起来很辛苦", "小花", "11-12", "李庄", "自杀风险",
                 "关于建立侵害未成年人案件强制报告制度的意见", "不想活", "110"):
        assert text in html, text
    views = audit_rows(world.url, "view_case")
    assert views[-1].actor == f"worker:{world.alice}" and views[-1].target_id == str(world.case_a)


async def test_no_mandatory_prompt_when_not_applicable(client: TestClient, world: World) -> None:
    case_id = make_case(world.url, world.child_a, worker_id=world.alice, category="bullying",
                        mandatory=False)
    await login(client, "alice")
    html = await (await client.get(f"/cases/{case_id}")).text()
    assert "强制报告制度" not in html


async def test_guardian_link_shown(client: TestClient, world: World) -> None:
    from bot.staff import accounts

    with session_scope(world.url) as db:
        link = accounts.link_guardian(db, "grandma-1", "tg-1001", relation="奶奶")
        from bot.db.models import Person
        db.get(Person, link.guardian_id).pseudonym = "王奶奶"
    await login(client, "alice")
    html = await (await client.get(f"/cases/{world.case_a}")).text()
    assert "王奶奶" in html and "奶奶" in html


async def test_full_case_workflow(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    base = f"/cases/{world.case_a}"

    async def post(action: str, **data: str) -> None:
        response = await client.post(f"{base}/{action}", data={"_csrf": token, **data},
                                     allow_redirects=False)
        assert response.status == 303, (action, await response.text())

    await post("acknowledge")
    await post("note", text="打过电话，孩子在奶奶家")
    await post("contact", **{"with": "guardian", "how": "phone", "text": "奶奶说孩子安全"})
    await post("visit", date=dt.date.today().isoformat(), text="家访，情况稳定")
    await post("severity", severity="medium", reason="已经安全")
    await post("resolve", outcome="ongoing_support", text="转为持续跟进", police_reported="yes")
    with session_scope(world.url) as db:
        case = db.get(Case, world.case_a)
        assert case.status == "resolved" and case.outcome == "ongoing_support"
        assert case.acknowledged_by == world.alice and case.severity == "medium"
        kinds = [e.kind for e in db.execute(select(CaseEvent).where(
            CaseEvent.case_id == world.case_a).order_by(CaseEvent.id)).scalars()]
        assert kinds[-5:] == ["note", "contact", "visit", "severity", "resolve"]
        resolve = db.execute(select(CaseEvent).where(CaseEvent.kind == "resolve")).scalar_one()
        assert resolve.data == {"outcome": "ongoing_support", "police_reported": True}
        assert audit.verify(db) == (True, None)
    actions = [r.action for r in audit_rows(world.url) if r.target_id == str(world.case_a)]
    for action in ("ack_case", "note_case", "contact_case", "visit_case", "severity_case",
                   "resolve_case"):
        assert action in actions
    html = await (await client.get(base)).text()
    assert "已结案" in html and "今天好累" not in html  # no transcript once resolved
    assert "打过电话" in html
    second = await client.post(f"{base}/resolve", data={"_csrf": token, "outcome": "other",
                                                        "text": "again"})
    assert second.status == 409


async def test_acknowledge_is_idempotent(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    for _ in range(2):
        await client.post(f"/cases/{world.case_a}/acknowledge", data={"_csrf": token})
    with session_scope(world.url) as db:
        case = db.get(Case, world.case_a)
        assert case.status == "acknowledged" and case.acknowledged_at is not None


async def test_raising_severity_brings_renotify_forward(client: TestClient, world: World) -> None:
    token = await login(client, "alice")
    await client.post(f"/cases/{world.case_a}/severity",
                      data={"_csrf": token, "severity": "imminent", "reason": "说有药"})
    with session_scope(world.url) as db:
        case = db.get(Case, world.case_a)
        assert case.severity == "imminent"
        assert case.notify_due_at <= utcnow() + dt.timedelta(minutes=5, seconds=5)


async def test_reassign_within_team(client: TestClient, world: World) -> None:
    with session_scope(world.url) as db:
        db.get(Worker, world.boss).telegram_chat_id = "999"
    token = await login(client, "alice")
    response = await client.post(f"/cases/{world.case_a}/reassign", data={
        "_csrf": token, "worker_id": str(world.boss), "reason": "休假"}, allow_redirects=False)
    assert response.status == 303
    with session_scope(world.url) as db:
        assert db.get(Case, world.case_a).worker_id == world.boss
        # The new worker is told on Telegram, through the alerts outbox.
        assert db.execute(select(Outbox).where(Outbox.worker_id == world.boss)).scalars().all()
    assert audit_rows(world.url, "reassign_case")


async def test_concern_and_watch_queues(client: TestClient, world: World) -> None:
    concern = make_case(world.url, world.child_a, kind="concern", category=None, severity="medium",
                        worker_id=world.alice, mandatory=False, message="孙子最近不爱说话")
    watch = make_case(world.url, world.child_a, kind="watch", category=None, severity=None,
                      worker_id=world.alice, mandatory=False, message="连续三天心情很低")
    await login(client, "alice")
    assert queue_ids(await (await client.get("/concerns")).text()) == [concern]
    assert queue_ids(await (await client.get("/watch")).text()) == [watch]
    assert concern not in queue_ids(await (await client.get("/cases")).text())
    html = await (await client.get(f"/cases/{concern}")).text()
    assert "孙子最近不爱说话" in html and "监护人关切" in html


async def test_events_poll_reports_new_cases(client: TestClient, world: World) -> None:
    await login(client, "alice")
    first = await (await client.get("/events?kind=risk&since=0")).json()
    assert first["latest_id"] >= world.case_a and "rows_html" in first
    again = await (await client.get(
        f"/events?kind=risk&since={first['latest_id']}&fp={first['fingerprint']}")).json()
    assert again["new"] == [] and "rows_html" not in again
    new_id = make_case(world.url, world.child_a, worker_id=world.alice, severity="imminent")
    make_case(world.url, world.child_b, worker_id=world.bob)  # not alice's
    third = await (await client.get(
        f"/events?kind=risk&since={first['latest_id']}&fp={first['fingerprint']}")).json()
    assert [c["id"] for c in third["new"]] == [new_id]
    assert f'data-case-id="{new_id}"' in third["rows_html"]
    assert third["counts"]["risk"] == 2
    assert audit_rows(world.url, "view_new_cases")


async def test_resolved_tab(client: TestClient, world: World) -> None:
    with session_scope(world.url) as db:
        case = db.get(Case, world.case_a)
        case.status, case.resolved_at, case.outcome = "resolved", utcnow(), "false_alarm"
    await login(client, "alice")
    assert queue_ids(await (await client.get("/cases")).text()) == []
    html = await (await client.get("/cases?status=resolved")).text()
    assert queue_ids(html) == [world.case_a] and "误报" in html


async def test_child_overview(client: TestClient, world: World) -> None:
    now = utcnow()
    with session_scope(world.url) as db:
        for days, score in ((20, 2), (10, 3), (3, 4), (1, 5)):
            db.add(CheckIn(person_id=world.child_a, score=score, note="秘密",
                           created_at=now - dt.timedelta(days=days)))
        db.add(ExerciseRun(person_id=world.child_a, exercise="breathing", status="done",
                           rating_before=2, rating_after=4, started_at=now))
    make_case(world.url, world.child_a, kind="concern", category=None, worker_id=world.alice,
              mandatory=False)
    await login(client, "alice")
    html = await (await client.get(f"/children/{world.child_a}")).text()
    assert "<svg" in html and html.count("<circle") == 4 and "<polyline" in html
    assert "breathing" in html and "2 → 4" in html
    assert f"/cases/{world.case_a}" in html
    assert "我不想活了" not in html and "今天好累" not in html and "秘密" not in html
    assert audit_rows(world.url, "view_child")[-1].target_id == str(world.child_a)


async def test_children_list(client: TestClient, world: World) -> None:
    await login(client, "alice")
    html = await (await client.get("/children")).text()
    assert "小花" in html and "小明" not in html


async def test_admin_pages_only_for_admins(client: TestClient, other_client: TestClient,
                                           world: World) -> None:
    token = await login(client, "alice")
    assert (await client.get("/admin/workers")).status == 404
    response = await client.post("/admin/workers", data={
        "_csrf": token, "username": "mallory", "password": "kite-river-lamp-99"})
    assert response.status == 404
    admin_token = await login(other_client, "root")
    assert (await other_client.get("/admin/workers")).status == 200
    response = await other_client.post("/admin/workers", data={
        "_csrf": admin_token, "username": "dora", "password": "kite-river-lamp-99",
        "role": "social_worker", "supervisor": "boss"}, allow_redirects=False)
    assert response.status == 303
    weak = await other_client.post("/admin/workers", data={
        "_csrf": admin_token, "username": "eve", "password": "weak", "role": "admin"})
    assert weak.status == 400
    await other_client.post(f"/admin/workers/{world.bob}/disable", data={"_csrf": admin_token})
    self_disable = await other_client.post(f"/admin/workers/{world.root}/disable",
                                           data={"_csrf": admin_token})
    assert self_disable.status == 409
    with session_scope(world.url) as db:
        assert db.execute(select(Worker).where(Worker.username == "dora")).scalar_one()
        assert not db.get(Worker, world.bob).active
        assert db.get(Worker, world.root).active
    assert audit_rows(world.url, "create_worker")[-1].actor == f"worker:{world.root}"


async def test_link_telegram_page(client: TestClient, world: World) -> None:
    from bot.staff import linking

    token = await login(client, "alice")
    html = await (await client.post("/link-telegram", data={"_csrf": token})).text()
    code = re.search(r"/link ([A-Z0-9]{8})", html).group(1)
    with session_scope(world.url) as db:
        assert "Linked" in linking.redeem_telegram_code(db, code, 4242)
        assert db.get(Worker, world.alice).telegram_chat_id == "4242"
    html = await (await client.get("/link-telegram")).text()
    assert "已绑定" in html
    await client.post("/link-telegram/unlink", data={"_csrf": token})
    with session_scope(world.url) as db:
        assert db.get(Worker, world.alice).telegram_chat_id is None


async def test_english_switch(client: TestClient, world: World) -> None:
    await login(client, "alice")
    response = await client.get("/lang/en?next=/cases", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/cases"
    html = await (await client.get("/cases")).text()
    assert "Risk cases" in html and 'lang="en"' in html
    await client.get("/lang/zh?next=//evil.example")
    assert "风险个案" in await (await client.get("/cases")).text()
    assert (await client.get("/lang/fr")).status == 404


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_catalogue_complete(lang: str) -> None:
    """Every key used in templates/code exists in both languages; families are complete."""
    from pathlib import Path

    from bot.console import actions, i18n

    catalogue = i18n.catalogue()
    root = Path(i18n.__file__).parent
    sources = [p.read_text("utf-8") for p in root.glob("templates/*.html")]
    sources += [p.read_text("utf-8") for p in root.glob("*.py")]
    used = set()
    for text in sources:
        used |= set(re.findall(r"\bt\('([a-z0-9_]+)'", text))
        used |= set(re.findall(r'"((?:error|done|login)_[a-z0-9_]+)"', text))
    families = {f"severity_{s}" for s in (*SEVERITIES, "none")}
    families |= {f"outcome_{o}" for o in actions.OUTCOMES}
    families |= {f"with_{w}" for w in actions.CONTACT_WITH}
    families |= {f"how_{h}" for h in actions.CONTACT_HOW}
    families |= {f"category_{c}" for c in ("suicide", "self_harm", "abuse", "sexual_abuse",
                                           "neglect", "bullying", "danger", "runaway")}
    families |= {f"status_{s}" for s in ("open", "acknowledged", "resolved")}
    families |= {f"queue_title_{k}" for k in ("risk", "concern", "watch")}
    used = {k for k in used if not k.endswith("_")}  # prefixes of t('family_' ~ value)
    missing = sorted(k for k in used | families if lang not in catalogue.get(k, {}))
    assert missing == []


async def test_tracker_store_case_shape(client: TestClient, world: World) -> None:
    """Context and evidence as bot.escalation writes them, and appended message events."""
    case_id = make_case(world.url, world.child_a, worker_id=world.alice, context=[
        {"who": "user", "text": "最近睡不着", "at": 1_700_000_000.0},
        {"who": "bot", "text": "谢谢你告诉我", "at": 1_700_000_001.0},
        {"who": "user", "text": "我不想活了", "at": 1_700_000_002.0},
    ])
    with session_scope(world.url) as db:
        case = db.get(Case, case_id)
        case.evidence = {"evidence": ["不想活"], "from_context": True, "risk": {
            "escalate": True, "signals": [{"category": "suicide", "severity": "high",
                                           "score": 0.93, "evidence": "不想活",
                                           "source": "lexicon"}]}}
        db.add(CaseEvent(case_id=case_id, kind="message", text="药在柜子里",
                         data={"risk": {}}, event_key="k1"))
    await login(client, "alice")
    html = await (await client.get(f"/cases/{case_id}")).text()
    for text in ("最近睡不着", "谢谢你告诉我", "药在柜子里", "lexicon · suicide · high · 0.93",
                 "累积", "2023-11-15"):
        assert text in html, text
