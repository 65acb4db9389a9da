"""The guardian companion end to end (issue 5): real Rasa, action server and database.

Caregiving answers stay on topic; a concern report becomes a case for the right child and
social worker (and reaches the worker's Telegram); a disclosure in the middle of the report
goes to the safety path at once; "who is our social worker?" gives the shared contact.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import WORKER_CHAT_ID
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e
GUARDIAN = '/choose_role{"role": "guardian"}'


def family(stack: Stack) -> tuple[str, str]:
    """A child assigned to worker wang, and a grandparent linked to that child."""
    child, guardian = f"child-{uuid.uuid4().hex[:8]}", f"grandma-{uuid.uuid4().hex[:8]}"
    for args in (("assign", child, "wang"), ("link-guardian", guardian, child)):
        done = stack.cli("admin", *args)
        assert done.returncode == 0, done.stderr
    return child, guardian


def person_id(stack: Stack, sender: str) -> int:
    return stack.query("select id from people where sender_id = ?", sender)[0][0]


def talk(stack: Stack, sender: str, *messages: str) -> list[str]:
    texts: list[str] = []
    for message in messages:
        texts = stack.texts(sender, message)
    return texts


def test_caregiving_answer_more_and_a_follow_up_stay_on_topic(stack: Stack) -> None:
    _, guardian = family(stack)
    talk(stack, guardian, GUARDIAN)
    first = " ".join(stack.texts(guardian, "天热了，村里孩子都去水库游泳，我孙子也想去"))
    assert "溺水" in first and "想多了解一点吗" in first
    more = " ".join(stack.texts(guardian, "/tell_more"))
    assert "别跳下去" in more
    follow = " ".join(stack.texts(guardian, "那他要是不听呢"))
    assert "偷偷" in follow or "控水" in follow  # a follow-up part of water safety
    assert follow not in (first, more)


def test_caregiving_in_english(stack: Stack) -> None:
    _, guardian = family(stack)
    talk(stack, guardian, GUARDIAN)
    first = " ".join(stack.texts(
        guardian, "He never listens and I end up smacking him. Is there a better way?"))
    assert "hit" in first and "Want to know more?" in first
    follow = " ".join(stack.texts(guardian, "what if he refuses?"))
    assert "consequence" in follow or "hitting" in follow


def test_concern_report_becomes_a_case_for_the_childs_worker(stack: Stack) -> None:
    child, guardian = family(stack)
    # Not "关在屋里，饭也不吃": the detector rightly reads that as possible neglect and the
    # safety path takes over (see the disclosure test below); this is an everyday worry.
    talk(stack, guardian, GUARDIAN, "我担心我孙子")
    replies = [stack.texts(guardian, answer) for answer in (
        "孙子最近成绩掉得厉害，也不爱说话了", "这几天", "不太急", "/affirm")]
    assert "这样有多久了" in " ".join(replies[0]), replies  # each answer is taken in turn
    assert "有多急" in " ".join(replies[1]), replies
    assert "打电话" in " ".join(replies[2]), replies
    assert "记下来" in " ".join(replies[3]), replies
    rows = stack.query(
        "select id, kind, child_id, worker_id, severity from cases where sender_id = ?", guardian)
    assert len(rows) == 1, rows
    case_id, kind, child_id, worker_id, severity = rows[0]
    wang = stack.query("select id from workers where username = 'wang'")[0][0]
    assert (kind, child_id, worker_id, severity) == ("concern", person_id(stack, child), wang,
                                                     "medium")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        sent = [c for c in stack.telegram_calls("sendMessage")
                if str(c["params"].get("chat_id")) == WORKER_CHAT_ID
                and f"#{case_id}" in str(c["params"].get("text", ""))]
        if sent:
            break
        time.sleep(0.1)
    assert sent, "the worker got no alert for the concern"


def test_stop_in_the_middle_saves_nothing(stack: Stack) -> None:
    _, guardian = family(stack)
    texts = talk(stack, guardian, GUARDIAN, "我担心我孙女", "她最近老是不说话", "算了，不说了")
    assert "不问了" in " ".join(texts), texts
    assert stack.query("select id from cases where sender_id = ?", guardian) == []


def test_a_disclosure_in_the_middle_of_the_report_goes_to_the_safety_path(stack: Stack) -> None:
    _, guardian = family(stack)
    talk(stack, guardian, GUARDIAN, "我担心我孙女")
    texts = stack.texts(guardian, "她说活着没意思，想喝农药")
    joined = " ".join(texts)
    assert "农药" in joined and "社工" in joined, texts  # utter_crisis_guardian (suicide)
    rows = stack.query("select kind, category from cases where sender_id = ?", guardian)
    assert ("risk", "suicide") in rows and all(kind != "concern" for kind, _ in rows), rows
    # the form is closed: the next message is not taken as an answer to its questions
    later = " ".join(stack.texts(guardian, "她现在在屋里"))
    assert "这样有多久了" not in later


def test_who_is_our_social_worker(stack: Stack) -> None:
    _, guardian = family(stack)
    done = stack.cli("admin", "set-contact", "wang", "王老师 138 0000 0000")
    assert done.returncode == 0, done.stderr
    texts = talk(stack, guardian, GUARDIAN, "我们家的社工是谁，电话多少")
    assert "王老师 138 0000 0000" in " ".join(texts), texts
