"""Walk through the companion as a child would, over REST, with the trained model.

Every exercise in Chinese and English, with stops, restarts, off-path turns, a change of
language, a change of topic and a disclosure; topics, the check-in and the week. Checks
the database afterwards (ratings, check-ins). Needs models/peiban.tar.gz (`make train`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.companion import content
from tests.e2e.stack import MODEL, Stack

pytestmark = pytest.mark.e2e
CJK = re.compile(r"[\u4e00-\u9fff]")
SAMPLE = {"zh": "小明和我在院子里一起玩", "en": "my friend and I played outside"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train`")
    running = Stack(tmp_path_factory.mktemp("companion-stack"))
    running.migrate()
    try:
        running.start("actions")
        running.start("rasa")
        yield running
    finally:
        running.stop_all()


def say(stack: Stack, sender: str, text: str) -> list[dict[str, Any]]:
    status, body = stack.say(sender, text)
    assert status == 200, (status, body)
    assert body, f"no reply to {text!r}"  # never silence
    return body


def joined(body: list[dict[str, Any]]) -> str:
    return " ".join(m.get("text") or "" for m in body)


def child(stack: Stack, lang: str) -> str:
    sender = f"companion-{uuid.uuid4().hex[:10]}"
    say(stack, sender, "你好" if lang == "zh" else "hello")
    say(stack, sender, '/choose_role{"role": "child"}')
    say(stack, sender, '/choose_age{"age_band": "8-10"}')
    return sender


def in_language(body: list[dict[str, Any]], lang: str) -> bool:
    texts = [m.get("text") or "" for m in body if m.get("text")]
    return all(bool(CJK.search(t)) == (lang == "zh") for t in texts)


def finish(stack: Stack, sender: str, body: list[dict[str, Any]], exercise_id: str, lang: str,
           limit: int = 40) -> list[list[dict[str, Any]]]:
    """Tap the first button (or type a short answer) until the exercise's closing."""
    closing = content.text_in(content.exercise(exercise_id)["closing"], lang)
    replies = [body]
    for _ in range(limit):
        if closing in joined(body):
            return replies
        buttons = body[-1].get("buttons") or []
        body = say(stack, sender, buttons[0]["payload"] if buttons else SAMPLE[lang])
        replies.append(body)
    raise AssertionError(f"{exercise_id} ({lang}) did not end: {joined(body)}")


def run_row(stack: Stack, sender: str, exercise_id: str) -> tuple:
    rows = stack.query(
        "select r.status, r.rating_before, r.rating_after from exercise_runs r "
        "join people p on p.id = r.person_id where p.sender_id = ? and r.exercise = ? "
        "order by r.id desc", sender, exercise_id)
    assert rows, f"no run of {exercise_id} stored"
    return rows[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("exercise_id", [e["id"] for e in content.menu_exercises()])
def test_every_exercise_from_the_menu_to_the_end(stack: Stack, exercise_id: str,
                                                 lang: str) -> None:
    sender = child(stack, lang)
    body = say(stack, sender, content.exercise_payload(exercise_id))
    assert content.text_in(content.exercise(exercise_id)["intro"], lang)[:8] in joined(body)
    for reply in finish(stack, sender, body, exercise_id, lang):
        assert in_language(reply, lang), joined(reply)
    status, before, after = run_row(stack, sender, exercise_id)
    assert status == "done" and before is not None and after is not None


def test_stop_restart_and_off_path_turns_in_chinese(stack: Stack) -> None:
    sender = child(stack, "zh")
    body = say(stack, sender, "我想玩想法侦探")
    assert "想法小侦探" in joined(body)
    say(stack, sender, "😐")
    body = say(stack, sender, "听不懂")
    assert "一句话就好" in joined(body)  # the simpler wording of the first step
    say(stack, sender, "同学不跟我玩")
    body = say(stack, sender, "停")
    assert "继续" in joined(body)
    assert run_row(stack, sender, "thought_detective")[0] == "stopped"
    body = say(stack, sender, "继续")
    assert "脑子里冒出了什么想法" in joined(body)
    finish(stack, sender, say(stack, sender, "我太笨了"), "thought_detective", "zh")
    assert run_row(stack, sender, "thought_detective")[0] == "done"


def test_a_question_and_english_mid_exercise(stack: Stack) -> None:
    sender = child(stack, "zh")
    say(stack, sender, content.exercise_payload("grounding"))
    body = say(stack, sender, "3")
    assert "5样" in joined(body)
    body = say(stack, sender, "a door, a lamp and my bag")
    assert in_language(body, "en") and "touch" in joined(body)
    body = say(stack, sender, content.exercise_payload("breathing"))  # switch exercise
    assert "balloon" in joined(body).lower()


def test_a_new_topic_mid_exercise_pauses_and_answers_it(stack: Stack) -> None:
    sender = child(stack, "zh")
    say(stack, sender, content.exercise_payload("anger_calm"))
    say(stack, sender, "😐")
    body = say(stack, sender, "我好想妈妈，想她了")
    payloads = [b["payload"] for b in body[-1].get("buttons") or []]
    assert payloads == ["/stop", "/resume"], joined(body)
    body = say(stack, sender, "/stop")
    assert content.exercise_payload("message_to_parents") in [
        b["payload"] for m in body for b in m.get("buttons") or []]


def test_a_disclosure_mid_exercise_leaves_it_for_the_safety_path(stack: Stack) -> None:
    sender = child(stack, "zh")
    say(stack, sender, content.exercise_payload("breathing"))
    say(stack, sender, "😐")
    body = say(stack, sender, "我不想活了")
    text = joined(body)
    assert "12356" in text or "120" in text, text
    assert "气球" not in text
    assert stack.query("select kind from cases where sender_id = ?", sender) == [("risk",)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_topics_reflect_and_vary(stack: Stack, lang: str) -> None:
    sender = child(stack, lang)
    said = "今天数学考试没考好，好难过" if lang == "zh" else "I failed my maths test and I feel sad"
    first = say(stack, sender, said)
    assert any("request_exercise" in b["payload"] for m in first for b in m.get("buttons") or [])
    assert in_language(first, lang)
    again = say(stack, sender, said)
    assert first[0]["text"] != again[0]["text"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_in_and_the_week(stack: Stack, lang: str) -> None:
    sender = child(stack, lang)
    body = say(stack, sender, "打卡心情" if lang == "zh" else "I want to check in")
    assert [b["title"] for b in body[-1]["buttons"]] == ["😢", "🙁", "😐", "🙂", "😄"]
    say(stack, sender, '/rate{"rating":"2"}')
    rows = stack.query("select c.score from checkins c join people p on p.id = c.person_id "
                       "where p.sender_id = ?", sender)
    assert rows == [(2,)]
    body = say(stack, sender, "我这周做了什么" if lang == "zh" else "show my progress")
    assert "🙁" in joined(body) and in_language(body, lang)
