"""The companion's Rasa actions with a real (SQLite) database, as the action server runs them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import pytest
from sqlalchemy import select, update

from actions import companion as c
from actions import exercises as x
from actions.common import Database
from bot.companion import content
from bot.db.models import Case, CheckIn, ExerciseRun, Person, utcnow
from tests.companion.conftest import make_tracker, run_action, slots_of, user_event

SENDER = "tg:7001"
ACTIVATED = [{"event": "active_loop", "name": "exercise_form"}]


class FormChat:
    """Drives exercise_form the way Rasa does: activation, then one validation per message."""

    def __init__(self, db: Database, slots: Optional[dict[str, Any]] = None,
                 sender: str = SENDER) -> None:
        self.db = db
        self.sender = sender
        self.slots: dict[str, Any] = {"language": "zh", "role": "child", "age_band": "8-10"}
        self.slots.update(slots or {})
        self.history: list[dict[str, Any]] = []
        self.closed = False

    async def activate(self, text: str, intent: str = "request_exercise") -> list[str]:
        tracker = make_tracker(self.sender, slots=self.slots, text=text, intent=intent,
                               history=self.history, after_user=ACTIVATED)
        self.history += [user_event(text, intent)] + ACTIVATED
        return await self._run(tracker)

    async def say(self, text: str, intent: str = "inform", confidence: float = 0.95,
                  entities: Optional[list[dict[str, Any]]] = None) -> list[str]:
        assert not self.closed, "the form is closed"
        slots = dict(self.slots, exercise_input=text)
        tracker = make_tracker(self.sender, slots=slots, text=text, intent=intent,
                               entities=entities, confidence=confidence, history=self.history,
                               active_loop="exercise_form")
        self.history.append(user_event(text, intent, entities, confidence))
        return await self._run(tracker)

    async def _run(self, tracker) -> list[str]:  # type: ignore[no-untyped-def]
        messages, events = await run_action(x.ValidateExerciseForm(self.db), tracker)
        self.messages = messages
        changed = slots_of(events)
        self.closed = "requested_slot" in changed and changed["requested_slot"] is None
        self.slots.update({k: v for k, v in changed.items() if k != "requested_slot"})
        return [m.get("text") or "" for m in messages]

    @property
    def buttons(self) -> list[dict[str, str]]:
        return self.messages[-1].get("buttons") or [] if self.messages else []


def runs(db: Database) -> list[ExerciseRun]:
    with db.session() as session:
        return list(session.execute(select(ExerciseRun).order_by(ExerciseRun.id)).scalars())


# --- offering ---------------------------------------------------------------------------------


async def test_a_named_exercise_starts_the_form() -> None:
    tracker = make_tracker(text='/request_exercise{"exercise":"grounding"}',
                           entities=[{"entity": "exercise", "value": "grounding"}])
    messages, events = await run_action(x.ActionOfferExercise(), tracker)
    assert messages == []
    assert slots_of(events)["exercise_id"] == "grounding"
    assert slots_of(events)["exercise_ready"] is True


async def test_the_childs_words_pick_the_exercise() -> None:
    _, events = await run_action(x.ActionOfferExercise(), make_tracker(text="教我吹气球呼吸"))
    assert slots_of(events)["exercise_id"] == "breathing"


async def test_no_match_shows_the_menu_first_with_a_stopped_exercise() -> None:
    tracker = make_tracker(text="有什么小练习吗")
    messages, events = await run_action(x.ActionOfferExercise(), tracker)
    assert slots_of(events)["exercise_ready"] is False
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [content.exercise_payload(e["id"]) for e in content.menu_exercises()]
    paused = {"exercise": "grounding", "step": "touch", "status": "stopped", "answers": {}}
    messages, _ = await run_action(
        x.ActionOfferExercise(), make_tracker(text="换一个练习", slots={"exercise_state": paused}))
    assert messages[0]["buttons"][0]["payload"] == "/resume"
    assert "五感小侦探" in messages[0]["text"]


# --- a whole exercise through the form --------------------------------------------------------


async def test_breathing_from_start_to_end_is_stored_with_both_ratings(db: Database) -> None:
    chat = FormChat(db, {"exercise_id": "breathing"})
    said = await chat.activate("教我吹气球呼吸")
    assert "吹气球" in said[0]
    assert [b["title"] for b in chat.buttons] == ["😢", "🙁", "😐", "🙂", "😄"]
    await chat.say('/rate{"rating":"2"}', "rate", entities=[{"entity": "rating", "value": "2"}])
    await chat.say("准备好了 👍")
    for _ in range(3):
        await chat.say("好了")
    await chat.say("松了一点 😌")
    assert not chat.closed
    said = await chat.say("🙂")
    assert chat.closed and "以后紧张" in " ".join(said)
    [run] = runs(db)
    assert (run.exercise, run.status, run.rating_before, run.rating_after) == (
        "breathing", "done", 2, 4)
    assert run.finished_at is not None and run.answers["answers"]["body"] == {"option": "calmer"}


async def test_the_answers_are_encrypted_in_the_database(db: Database, db_url: str) -> None:
    chat = FormChat(db, {"exercise_id": "message_to_parents"})
    await chat.activate("我想给妈妈写几句话")
    await chat.say("😐")
    await chat.say("妈妈")
    await chat.say("妈妈我今天考了一百分")
    import sqlite3

    raw = sqlite3.connect(db_url.split("///", 1)[1]).execute(
        "select answers from exercise_runs").fetchone()[0]
    assert "一百分" not in raw
    assert runs(db)[0].answers["answers"]["message"]["text"] == "妈妈我今天考了一百分"


async def test_stop_then_resume_from_the_slot_and_from_the_database(db: Database) -> None:
    chat = FormChat(db, {"exercise_id": "thought_detective"})
    await chat.activate("玩想法侦探")
    await chat.say("😐")
    await chat.say("同学不跟我玩")
    said = await chat.say("不想做了")
    assert chat.closed and "继续" in said[0]
    assert runs(db)[0].status == "stopped"
    _, events = await run_action(x.ActionExerciseEnd(db), make_tracker(slots=chat.slots))
    assert slots_of(events) == {"exercise_ready": False, "exercise_input": None}

    # The slot still holds the state: resume from it.
    _, events = await run_action(x.ActionResumeExercise(db), make_tracker(
        text="继续", intent="resume", slots=chat.slots))
    assert slots_of(events)["exercise_ready"] is True
    # Without the slot (a lost tracker), the database still knows where we were.
    _, events = await run_action(x.ActionResumeExercise(db), make_tracker(
        text="继续", intent="resume", slots={"exercise_state": None}))
    resumed = slots_of(events)
    assert resumed["exercise_id"] == "thought_detective" and resumed["exercise_ready"] is True
    again = FormChat(db, resumed)
    said = await again.activate("继续", "resume")
    assert "接着" in said[0] or "继续" in said[0]
    assert "脑子里冒出了什么想法" in " ".join(said)
    await again.say("我太笨了")
    assert runs(db)[0].status == "started"  # the same row, picked up again
    assert len(runs(db)) == 1


async def test_resume_with_nothing_stopped_offers_the_menu(db: Database) -> None:
    messages, events = await run_action(x.ActionResumeExercise(db),
                                        make_tracker(text="继续", intent="resume"))
    assert slots_of(events) == {"exercise_ready": False}
    assert "没有没做完" in messages[0]["text"] and len(messages[0]["buttons"]) == 12


async def test_english_reply_in_a_chinese_exercise_switches_language(db: Database) -> None:
    chat = FormChat(db, {"exercise_id": "grounding"})
    await chat.activate("来玩五感游戏")
    await chat.say("3")
    chat.slots["language"] = "en"  # the NLU language detector fills the slot
    said = await chat.say("a window and a tree")
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in s) for s in said)


async def test_talking_about_something_else_pauses_and_answers_it(db: Database) -> None:
    chat = FormChat(db, {"exercise_id": "anger_calm"})
    await chat.activate("教我冷静")
    await chat.say("😐")
    said = await chat.say("我好想妈妈", "miss_parents", 0.93)
    assert not chat.closed and [b["payload"] for b in chat.buttons] == ["/stop", "/resume"]
    said = await chat.say("/stop", "stop")
    assert chat.closed
    joined = " ".join(said)
    assert "继续" in joined and "我好想妈妈" in joined  # paused, then the topic reply
    assert chat.slots["topic_memory"]["last_topic"] == "miss_parents"
    assert runs(db)[0].status == "stopped"


async def test_a_menu_button_mid_exercise_starts_the_other_one(db: Database) -> None:
    chat = FormChat(db, {"exercise_id": "breathing"})
    await chat.activate("呼吸")
    said = await chat.say('/request_exercise{"exercise":"bedtime_calm"}', "request_exercise")
    assert not chat.closed and "晚上" in " ".join(said)
    assert chat.slots["exercise_id"] == "bedtime_calm"
    assert [r.status for r in runs(db)] == ["stopped", "started"]


async def test_a_disclosure_reaching_the_form_leaves_it_with_the_crisis_reply(db: Database
                                                                             ) -> None:
    chat = FormChat(db, {"exercise_id": "feelings"})
    await chat.activate("心情温度计")
    await chat.say("我不想活了", "risk_disclosure", 1.0,
                   entities=[{"entity": "risk_category", "value": "suicide"}])
    assert chat.closed
    assert [m.get("response") for m in chat.messages] == ["utter_crisis"]
    assert chat.slots["exercise_state"]["status"] == "stopped"


async def test_when_safety_policy_has_the_turn_the_form_steps_aside_silently(db: Database
                                                                            ) -> None:
    chat = FormChat(db, {"exercise_id": "breathing"})
    await chat.activate("呼吸")
    await chat.say("😐")
    # The ensemble lets the form's happy path run once; SafetyPolicy's events are applied.
    chat.history.append({"event": "slot", "name": "safety_turns", "value": 2.0})
    slots = dict(chat.slots, exercise_input="我不想活了")
    tracker = make_tracker(SENDER, slots=slots, text="我不想活了", intent="risk_disclosure",
                           history=chat.history[:-1], active_loop="exercise_form",
                           after_user=[{"event": "slot", "name": "safety_turns", "value": 2.0}])
    messages, events = await run_action(x.ValidateExerciseForm(db), tracker)
    assert messages == []  # SafetyPolicy gives the crisis reply, once
    assert slots_of(events)["requested_slot"] is None
    assert runs(db)[0].status == "stopped"
    checkin = checkin_tracker("我不想活了", "risk_disclosure")
    messages, events = await run_action(c.ValidateCheckinForm(), checkin)
    assert slots_of(events)["requested_slot"] is None
    assert [m.get("response") for m in messages] == ["utter_crisis"]  # no policy: we answer


async def test_pausing_for_a_check_in_offers_the_check_in_button(db: Database) -> None:
    chat = FormChat(db, {"exercise_id": "thought_detective"})
    await chat.activate("想法侦探")
    await chat.say("😐")
    await chat.say("打卡心情", "mood_checkin", 0.97)
    assert [b["payload"] for b in chat.buttons] == ["/stop", "/resume"]
    await chat.say("/stop", "stop")
    assert chat.closed and [b["payload"] for b in chat.buttons] == ["/mood_checkin"]


async def test_the_exercise_still_runs_when_the_database_is_down() -> None:
    broken = Database("sqlite:////nonexistent/dir/peiban.db")
    chat = FormChat(broken, {"exercise_id": "breathing"})
    said = await chat.activate("呼吸")
    assert said and "吹气球" in said[0]
    await chat.say("😐")
    assert chat.slots["exercise_state"]["rating_before"] == 3


# --- problem-solving check back -----------------------------------------------------------------


async def test_a_plan_is_asked_about_when_the_child_comes_back(db: Database) -> None:
    chat = FormChat(db, {"exercise_id": "problem_solving"})
    await chat.activate("教我一步一步解决问题")
    for answer in ("😐", "作业太多", "先做简单的", "问老师", "问同桌", "①", "今晚先做数学",
                   "我自己就行"):
        await chat.say(answer)
    await chat.say("🙂")
    assert chat.closed and chat.slots["plan_followup_due"] is True
    [run] = runs(db)
    assert run.follow_up_due_at is not None

    greeting = make_tracker(text="你好", intent="greet", slots={"plan_followup_due": True})
    _, events = await run_action(x.ActionPlanFollowup(db), greeting)
    assert slots_of(events) == {"exercise_ready": False}  # not due yet: same session

    with db.session() as session:
        session.execute(update(ExerciseRun).values(
            follow_up_due_at=utcnow() - dt.timedelta(minutes=1)))
    _, events = await run_action(x.ActionPlanFollowup(db), greeting)
    found = slots_of(events)
    assert found["exercise_ready"] is True and found["exercise_id"] == "plan_check"
    check = FormChat(db, dict(found, plan_followup_due=True))
    said = await check.activate("你好", "greet")
    assert "今晚先做数学" in " ".join(said)
    assert runs(db)[0].followed_up_at is not None
    await check.say("做到了 😄")
    assert check.closed
    _, events = await run_action(x.ActionExerciseEnd(db), make_tracker(slots=check.slots))
    assert slots_of(events)["plan_followup_due"] is False  # nothing left to ask about
    _, events = await run_action(x.ActionExerciseEnd(db), make_tracker(slots=chat.slots))
    assert "plan_followup_due" not in slots_of(events)  # just made a plan: keep asking later


async def test_no_plan_question_in_the_middle_of_onboarding(db: Database) -> None:
    tracker = make_tracker(text="你好", intent="greet", slots={"age_band": None})
    _, events = await run_action(x.ActionPlanFollowup(db), tracker)
    assert slots_of(events) == {"exercise_ready": False}


# --- mood check-in ------------------------------------------------------------------------------


def checkin_tracker(text: str, intent: str = "rate", entities=None, answers_before: int = 0,
                    activated: bool = False, slots: Optional[dict[str, Any]] = None):  # type: ignore[no-untyped-def]
    loop = [{"event": "active_loop", "name": "checkin_form"}]
    history = [user_event("打卡心情", "mood_checkin")] + loop
    history += [user_event("嗯", "affirm") for _ in range(answers_before)]
    return make_tracker(text=text, intent=intent, entities=entities, history=history,
                        slots=dict(slots or {}, checkin_rating=text),
                        after_user=loop if activated else None, active_loop="checkin_form")


async def test_checkin_form_reads_buttons_and_typed_answers() -> None:
    action = c.ValidateCheckinForm()
    _, events = await run_action(action, checkin_tracker("打卡心情", "mood_checkin",
                                                         activated=True))
    assert slots_of(events) == {"checkin_rating": None}
    _, events = await run_action(action, checkin_tracker(
        '/rate{"rating":"2"}', entities=[{"entity": "rating", "value": "2"}]))
    assert slots_of(events) == {"checkin_rating": "2"}
    _, events = await run_action(action, checkin_tracker("还行吧", "inform"))
    assert slots_of(events) == {"checkin_rating": "3"}


async def test_checkin_form_re_asks_once_then_lets_go() -> None:
    action = c.ValidateCheckinForm()
    messages, events = await run_action(action, checkin_tracker("啊？", "inform"))
    assert slots_of(events) == {"checkin_rating": None} and "表情" in messages[0]["text"]
    messages, events = await run_action(action, checkin_tracker("啊？", "inform",
                                                                answers_before=1))
    assert slots_of(events) == {"checkin_rating": None, "requested_slot": None}
    messages, events = await run_action(action, checkin_tracker("停", "stop"))
    assert slots_of(events)["requested_slot"] is None


async def test_checkin_form_hands_over_to_a_topic() -> None:
    messages, events = await run_action(c.ValidateCheckinForm(), checkin_tracker(
        "我好想爸爸", "miss_parents"))
    assert slots_of(events)["requested_slot"] is None
    assert "我好想爸爸" in messages[0]["text"]


async def test_checkin_is_stored_and_three_low_days_raise_a_watch_note(db: Database) -> None:
    action = c.ActionCheckinDone(db)
    messages, events = await run_action(action, make_tracker(slots={"checkin_rating": "2"},
                                                             intent="rate"))
    assert slots_of(events) == {"checkin_rating": None}
    assert "谢谢" in messages[0]["text"] and messages[0]["buttons"]
    with db.session() as session:
        person = session.execute(select(Person).where(Person.sender_id == SENDER)).scalar_one()
        for days in (2, 1):
            session.add(CheckIn(person_id=person.id, score=1,
                                created_at=utcnow() - dt.timedelta(days=days)))
    messages, _ = await run_action(action, make_tracker(slots={"checkin_rating": "1"}))
    text = " ".join(m["text"] for m in messages)
    assert "社工" in text and "3天" in text
    with db.session() as session:
        cases = session.execute(select(Case)).scalars().all()
        assert [c.kind for c in cases] == ["watch"]
        scores = sorted(s for (s,) in session.execute(select(CheckIn.score)))
        assert scores == [1, 1, 1, 2]


async def test_a_sharp_drop_raises_a_watch_note_but_a_guardian_never_does(db: Database) -> None:
    action = c.ActionCheckinDone(db)
    await run_action(action, make_tracker(slots={"checkin_rating": "5"}))
    await run_action(action, make_tracker(slots={"checkin_rating": "1"}))
    for score in ("5", "1"):
        grandma = {"checkin_rating": score, "role": "guardian"}
        await run_action(action, make_tracker("tg:9", slots=grandma))
    with db.session() as session:
        assert [c.sender_id for c in session.execute(select(Case)).scalars()] == [SENDER]


async def test_a_face_tapped_outside_the_form_is_a_check_in(db: Database) -> None:
    tracker = make_tracker(text='/rate{"rating":"5"}', intent="rate",
                           entities=[{"entity": "rating", "value": "5"}])
    messages, _ = await run_action(c.ActionCheckinDone(db), tracker)
    assert messages and messages[-1]["buttons"]
    with db.session() as session:
        assert session.execute(select(CheckIn.score)).scalar_one() == 5


# --- progress, topics, stop ---------------------------------------------------------------------


async def test_my_progress_shows_the_week_with_encouragement(db: Database) -> None:
    messages, _ = await run_action(c.ActionMyProgress(db), make_tracker(intent="my_progress"))
    assert "没关系" in messages[0]["text"] and messages[0]["buttons"]
    for score in ("2", "4"):
        await run_action(c.ActionCheckinDone(db), make_tracker(slots={"checkin_rating": score}))
    for _ in range(2):
        chat = FormChat(db, {"exercise_id": "breathing"})
        await chat.activate("呼吸")
        for answer in ("😐", "好", "好了", "好了", "好了", "没什么变化", "😄"):
            await chat.say(answer)
    messages, _ = await run_action(c.ActionMyProgress(db), make_tracker(intent="my_progress"))
    text = " ".join(m["text"] for m in messages)
    assert "🙁🙂" in text and "吹气球呼吸2次" in text and "2次做完以后" in text
    english = make_tracker(intent="my_progress", slots={"language": "en"})
    messages, _ = await run_action(c.ActionMyProgress(db), english)
    assert "Balloon breathing ×2" in " ".join(m["text"] for m in messages)


async def test_topic_reply_reflects_and_remembers() -> None:
    action = c.ActionTopicReply()
    tracker = make_tracker(text="我好想妈妈", intent="miss_parents")
    messages, events = await run_action(action, tracker)
    assert len(messages) == 2 and "我好想妈妈" in messages[0]["text"]
    memory = slots_of(events)["topic_memory"]
    yes = make_tracker(text="好", intent="affirm", slots={"topic_memory": memory})
    messages, _ = await run_action(action, yes)
    assert messages[0]["buttons"][0]["payload"] == content.exercise_payload("message_to_parents")


async def test_guardian_gets_the_adult_reply() -> None:
    # nothing names a caregiving topic: the adult reply offers the topic as a button
    tracker = make_tracker(text="唉 这几天都这样", intent="miss_parents",
                           slots={"role": "guardian"})
    messages, _ = await run_action(c.ActionTopicReply(), tracker)
    assert messages[0]["buttons"][0]["payload"] == "/ask_caregiving/missing_parents"


async def test_guardian_question_naming_a_topic_gets_the_caregiving_answer() -> None:
    tracker = make_tracker(text="孩子老是想他妈", intent="miss_parents",
                           slots={"role": "guardian"})
    messages, events = await run_action(c.ActionTopicReply(), tracker)
    topic = [e["value"] for e in events if e.get("name") == "caregiving_topic"]
    assert topic == ["missing_parents"] and messages[0]["text"]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_stop_and_rephrase_outside_an_exercise(lang: str) -> None:
    messages, _ = await run_action(c.ActionCompanionStop(), make_tracker(
        text="停", intent="stop", slots={"language": lang}))
    assert messages[0]["text"]
    messages, _ = await run_action(c.ActionCompanionRephrase(), make_tracker(
        text="听不懂", intent="dont_understand", slots={"language": lang}))
    assert messages[0]["buttons"]
