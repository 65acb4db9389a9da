"""The guardian actions with a rasa_sdk Tracker and a real (migrated) SQLite database."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import guardian as g
from bot.db.models import Case, GuardianLink
from bot.db.session import session_scope
from bot.staff.linking import create_invite_code
from tests.guardian import factories as f
from tests.guardian.conftest import make_tracker


async def run(action: Any, tracker: Any) -> tuple[list[dict], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def slots_of(events: list[Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# --- caregiving ---------------------------------------------------------------------------


async def test_answer_uses_the_response_selector_topic_and_remembers_it() -> None:
    tracker = make_tracker(text="孙子天天想去河里游泳", response_key="ask_caregiving/water_safety")
    messages, events = await run(g.ActionCaregivingAnswer(), tracker)
    assert "溺水" in messages[0]["text"]
    assert messages[-1]["text"] == "想多了解一点吗？"
    assert slots_of(events) == {"caregiving_topic": "water_safety", "caregiving_seen": ["first"]}


async def test_answer_in_english_when_the_language_is_english() -> None:
    tracker = make_tracker(slots={"language": "en"}, response_key="ask_caregiving/sleep")
    messages, _ = await run(g.ActionCaregivingAnswer(), tracker)
    assert messages[0]["text"].startswith("Enough sleep")
    assert messages[-1]["buttons"][0]["payload"] == "/tell_more"


async def test_a_button_entity_beats_the_response_selector() -> None:
    tracker = make_tracker(
        text='/ask_caregiving{"caregiving_topic": "services"}',
        entities=[{"entity": "caregiving_topic", "value": "services"}],
        response_key="ask_caregiving/sleep",
    )
    _, events = await run(g.ActionCaregivingAnswer(), tracker)
    assert slots_of(events)["caregiving_topic"] == "services"


async def test_an_old_style_menu_payload_still_finds_its_topic() -> None:
    # the classifier may rank another topic first for such a payload: the text decides
    tracker = make_tracker(text="/ask_caregiving/water_safety",
                           response_key="ask_caregiving/discipline")
    _, events = await run(g.ActionCaregivingAnswer(), tracker)
    assert slots_of(events)["caregiving_topic"] == "water_safety"


async def test_no_topic_asks_which_one() -> None:
    messages, events = await run(g.ActionCaregivingAnswer(), make_tracker(text="?"))
    assert events == [] and len(messages[0]["buttons"]) == 6


async def test_tell_more_then_follow_up_stay_on_the_topic_without_repeating() -> None:
    slots = {"caregiving_topic": "screen_time", "caregiving_seen": ["first"]}
    messages, events = await run(g.ActionCaregivingMore(), make_tracker(slots=slots,
                                                                       intent="tell_more"))
    assert "青少年模式" in " ".join(m["text"] for m in messages)
    slots["caregiving_seen"] = slots_of(events)["caregiving_seen"]
    assert slots["caregiving_seen"] == ["first", "more"]
    messages, events = await run(g.ActionCaregivingFollowUp(),
                                 make_tracker(slots=slots, text="他要是不肯呢",
                                              intent="follow_up_question"))
    assert "哭闹" in messages[0]["text"]
    assert slots_of(events)["caregiving_seen"] == ["first", "more", "follow_up:0"]


async def test_a_what_if_classified_as_a_new_question_stays_on_the_topic() -> None:
    slots = {"caregiving_topic": "water_safety", "caregiving_seen": ["first", "more"]}
    tracker = make_tracker(slots=slots, text="要是孩子不答应咋办",
                           response_key="ask_caregiving/discipline")
    messages, events = await run(g.ActionCaregivingAnswer(), tracker)
    assert slots_of(events) == {"caregiving_seen": ["first", "more", "follow_up:0"]}
    assert "偷偷" in messages[0]["text"]


async def test_a_new_question_on_another_topic_starts_that_topic() -> None:
    slots = {"caregiving_topic": "water_safety", "caregiving_seen": ["first"]}
    tracker = make_tracker(slots=slots, text="那他晚上不睡觉怎么办",
                           response_key="ask_caregiving/sleep")
    _, events = await run(g.ActionCaregivingAnswer(), tracker)
    assert slots_of(events)["caregiving_topic"] == "sleep"


async def test_unclear_message_after_an_answer_is_a_follow_up_only_if_it_reads_like_one() -> None:
    slots = {"caregiving_topic": "sleep", "caregiving_seen": ["first"]}
    messages, events = await run(g.ActionCaregivingFollowUp(), make_tracker(
        slots=slots, text="我照你说的做了 还是不管用", intent="nlu_fallback"))
    assert slots_of(events)["caregiving_seen"] == ["first", "follow_up:0"]
    messages, events = await run(g.ActionCaregivingFollowUp(), make_tracker(
        slots=slots, text="asdf qwer", intent="nlu_fallback"))
    assert events == [] and messages[0]["response"] == "utter_default"
    messages, _ = await run(g.ActionCaregivingFollowUp(), make_tracker(
        slots=slots, text="what can you do", intent="ask_help", ))
    assert messages[0]["response"] == "utter_help"


async def test_a_guardians_question_taken_for_a_childs_intent_gets_the_caregiving_answer() -> None:
    from actions.companion import ActionTopicReply

    tracker = make_tracker(slots={"language": "en"}, text="she is teased at school every day",
                           intent="school_stress", response_key="ask_caregiving/bullying")
    messages, events = await run(ActionTopicReply(), tracker)
    assert slots_of(events)["caregiving_topic"] == "bullying"
    assert messages and all("text" in m for m in messages)


async def test_a_child_is_never_rerouted_to_caregiving() -> None:
    from actions.companion import ActionTopicReply

    tracker = make_tracker(slots={"role": "child"}, text="考试好紧张", intent="school_stress",
                           response_key="ask_caregiving/homework")
    _, events = await run(ActionTopicReply(), tracker)
    assert "caregiving_topic" not in slots_of(events)


async def test_a_childs_message_taken_for_a_caregiving_question_gets_a_child_reply() -> None:
    tracker = make_tracker(slots={"role": "child", "language": "zh"},
                           text="弟弟老抢我手机 气死了", response_key="ask_caregiving/screen_time")
    tracker.latest_message["intent_ranking"] = [
        {"name": "ask_caregiving", "confidence": 0.5}, {"name": "feel_angry", "confidence": 0.3},
        {"name": "feel_sad", "confidence": 0.1}]
    messages, events = await run(g.ActionCaregivingAnswer(), tracker)
    assert "caregiving_topic" not in slots_of(events)
    assert slots_of(events)["topic_memory"]["last_topic"] == "feel_angry"
    assert messages and all("text" in m for m in messages)


async def test_a_guardians_caregiving_question_still_gets_the_caregiving_answer() -> None:
    tracker = make_tracker(slots={"role": "guardian", "language": "zh"},
                           text="孙子天天玩手机怎么办", response_key="ask_caregiving/screen_time")
    _, events = await run(g.ActionCaregivingAnswer(), tracker)
    assert slots_of(events)["caregiving_topic"] == "screen_time"


@pytest.mark.parametrize("intent,usual", [("nlu_fallback", "utter_default"),
                                          ("out_of_scope", "utter_out_of_scope"),
                                          ("ask_help", "utter_help")])
async def test_unclear_out_of_scope_and_help_keep_their_usual_reply(intent: str,
                                                                   usual: str) -> None:
    for role in ("child", "guardian"):  # a guardian's unclear message names no topic here
        messages, events = await run(g.ActionReplyOrCaregiving(), make_tracker(
            slots={"role": role}, text="asdf qwer", intent=intent))
        assert events == [] and messages[0]["response"] == usual


async def test_a_guardians_unclear_message_with_a_clear_topic_is_answered_on_it() -> None:
    tracker = make_tracker(text="where is the nearest childrens home to our village",
                           slots={"language": "en"}, intent="nlu_fallback",
                           response_key="ask_caregiving/services")
    _, events = await run(g.ActionReplyOrCaregiving(), tracker)
    assert slots_of(events)["caregiving_topic"] == "services"


async def test_follow_up_without_a_topic_asks_which_topic() -> None:
    messages, events = await run(g.ActionCaregivingFollowUp(),
                                 make_tracker(intent="follow_up_question"))
    assert events == [] and messages[0]["buttons"]


async def test_yes_after_a_normal_answer_gives_the_deeper_answer(db) -> None:  # type: ignore[no-untyped-def]
    slots = {"caregiving_topic": "homework", "caregiving_seen": ["first"]}
    messages, events = await run(g.ActionCaregivingYes(db), make_tracker(slots=slots,
                                                                        intent="affirm"))
    assert slots_of(events)["caregiving_seen"] == ["first", "more"]
    with session_scope(db.url) as s:
        assert s.execute(select(Case)).first() is None


async def test_yes_to_the_self_care_offer_tells_the_worker(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.url) as s:
        w = f.worker(s, "wang", chat_id="9001")
        grandma = f.person(s, "tg:5001", "guardian")
        child = f.person(s, "tg:1001", "child")
        f.link(s, grandma, child)
        f.assign(s, child, w)
        worker_id = w.id
    slots = {"caregiving_topic": "guardian_self_care", "caregiving_seen": ["first"]}
    messages, _ = await run(g.ActionCaregivingYes(db), make_tracker(slots=slots, intent="affirm"))
    assert "告诉社工" in messages[0]["text"]
    with session_scope(db.url) as s:
        case = s.execute(select(Case)).scalar_one()
        assert (case.category, case.worker_id, case.severity) == (
            "guardian_support", worker_id, "medium")


# --- the concern report -------------------------------------------------------------------


async def test_concern_start_clears_the_last_answers() -> None:
    messages, events = await run(g.ActionConcernStart(), make_tracker(intent="report_concern"))
    assert messages[0]["response"] == "utter_concern_intro"
    assert all(v is None for v in slots_of(events).values())
    assert set(slots_of(events)) == set(g.CONCERN_SLOTS) | {"requested_slot"}


async def test_stop_at_any_question_ends_the_form_without_saving(db) -> None:  # type: ignore[no-untyped-def]
    action = g.ValidateConcernForm(db)
    for text in ("算了，不说了", "停", "stop", "never mind", "不想说了"):
        tracker = make_tracker(text=text, intent="stop", active_loop="concern_form",
                               slots={"requested_slot": "concern_since", "concern_since": text})
        events = await action.run(CollectingDispatcher(), tracker, {})
        assert slots_of(events) == {"concern_since": None, "concern_stopped": True,
                                    "requested_slot": None}, text
    messages, events = await run(g.ActionConcernSubmit(db), make_tracker(
        slots={"concern_what": "他不说话", "concern_stopped": True}))
    assert [m["response"] for m in messages] == ["utter_concern_stopped"]
    assert all(v is None for v in slots_of(events).values())
    with session_scope(db.url) as s:
        assert s.execute(select(Case)).first() is None


async def test_a_short_answer_that_looks_like_stop_is_still_an_answer(db) -> None:  # type: ignore[no-untyped-def]
    # "这几天" was classified `stop` by a trained model: the words decide, not the intent
    tracker = make_tracker(text="这几天", intent="stop", active_loop="concern_form",
                           slots={"requested_slot": "concern_since", "concern_since": "这几天",
                                  "concern_what": "他不说话"},
                           candidates={"concern_since": "这几天"})
    domain = {"forms": {"concern_form": {"required_slots": [
        "concern_child", "concern_what", "concern_since", "concern_urgency", "concern_callback"]}}}
    events = await g.ValidateConcernForm(db).run(CollectingDispatcher(), tracker, domain)
    assert slots_of(events).get("concern_since") == "这几天"
    assert slots_of(events).get("requested_slot") == "concern_urgency"
    assert "concern_stopped" not in slots_of(events)


def concern_slots(**kw: Any) -> dict[str, Any]:
    slots = {"concern_what": "孙女这几天老是哭，不愿意去上学", "concern_since": "这几天",
             "concern_urgency": "很急", "concern_callback": "yes"}
    slots.update(kw)
    return slots


async def test_submitted_report_is_a_case_for_the_right_child_and_worker(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.url) as s:
        w = f.worker(s, "wang", contact="王老师 13800000000", chat_id="9001")
        grandma = f.person(s, "tg:5001", "guardian")
        child = f.person(s, "tg:1001", "child", "小月")
        f.link(s, grandma, child)
        f.assign(s, child, w)
        ids = (w.id, child.id, grandma.id)
    tracker = make_tracker(slots=concern_slots(), intent="affirm")
    messages, events = await run(g.ActionConcernSubmit(db), tracker)
    assert [m["response"] for m in messages] == [
        "utter_concern_filed", "utter_concern_will_call", "utter_concern_urgent"]
    assert messages[0]["worker_name"] == "Wang"
    assert all(v is None for v in slots_of(events).values())
    with session_scope(db.url) as s:
        case = s.execute(select(Case)).scalar_one()
        assert (case.worker_id, case.child_id, case.person_id) == ids
        assert (case.kind, case.severity) == ("concern", "high")
        assert case.summary == "孙女这几天老是哭，不愿意去上学"
    # the same message again (a retried action) does not open a second case
    await run(g.ActionConcernSubmit(db), tracker)
    with session_scope(db.url) as s:
        assert len(s.execute(select(Case)).scalars().all()) == 1


async def test_submitted_report_in_english_without_a_worker(db) -> None:  # type: ignore[no-untyped-def]
    tracker = make_tracker(sender_id="tg:5002", intent="deny", slots=concern_slots(
        language="en", concern_what="my granddaughter cries every night",
        concern_urgency="not urgent", concern_callback="no"))
    messages, _ = await run(g.ActionConcernSubmit(db), tracker)
    assert [m["response"] for m in messages] == [
        "utter_concern_filed_unassigned", "utter_concern_no_call"]
    with session_scope(db.url) as s:
        case = s.execute(select(Case)).scalar_one()
        assert case.severity == "medium" and case.evidence["urgency"] == "later"


async def test_a_database_failure_is_said_plainly(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from actions.common import Database

    messages, _ = await run(g.ActionConcernSubmit(Database("sqlite:////nonexistent/dir/x.db")),
                            make_tracker(slots=concern_slots()))
    assert messages[-1]["response"] == "utter_concern_not_saved"


def validator_call(db, method: str, value: Any, **slots: Any) -> dict:  # type: ignore[no-untyped-def]
    action = g.ValidateConcernForm(db)
    return getattr(action, method)(value, CollectingDispatcher(), make_tracker(slots=slots), {})


def test_validation_of_the_answers(db) -> None:  # type: ignore[no-untyped-def]
    assert validator_call(db, "validate_concern_urgency", "不急，想让社工知道") == {
        "concern_urgency": "later"}
    assert validator_call(db, "validate_concern_urgency", "嗯嗯") == {"concern_urgency": None}
    assert validator_call(db, "validate_concern_callback", "yes") == {"concern_callback": "yes"}
    assert validator_call(db, "validate_concern_callback", "不用打") == {"concern_callback": "no"}
    assert validator_call(db, "validate_concern_callback", "随便") == {"concern_callback": None}
    assert validator_call(db, "validate_concern_what", "   ") == {"concern_what": None}


async def test_several_children_make_the_form_ask_which_one(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.url) as s:
        grandma = f.person(s, "tg:5001", "guardian")
        a, b = f.person(s, "tg:1001", "child", "小星"), f.person(s, "tg:1002", "child", "小月")
        f.link(s, grandma, a)
        f.link(s, grandma, b)
        b_id = b.id
    action = g.ValidateConcernForm(db)
    base = ["concern_child", "concern_what", "concern_since", "concern_urgency",
            "concern_callback"]
    required = await action.required_slots(base, CollectingDispatcher(), make_tracker(), {})
    assert required == base
    assert validator_call(db, "validate_concern_child", "2") == {"concern_child": str(b_id)}
    assert validator_call(db, "validate_concern_child", "是小月") == {"concern_child": str(b_id)}
    assert validator_call(db, "validate_concern_child", "别的孩子") == {"concern_child": "none"}
    messages, _ = await run(g.ActionAskConcernChild(db), make_tracker())
    assert [b["title"] for b in messages[0]["buttons"]] == ["小星", "小月", "别的孩子"]


async def test_one_child_needs_no_question(db) -> None:  # type: ignore[no-untyped-def]
    base = ["concern_what", "concern_since", "concern_urgency", "concern_callback"]
    action = g.ValidateConcernForm(db)
    required = await action.required_slots(
        ["concern_child"] + base, CollectingDispatcher(), make_tracker(), {})
    assert required == base


# --- the social worker and invite codes ---------------------------------------------------


async def test_who_is_our_social_worker_gives_the_shared_contact(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.url) as s:
        w = f.worker(s, "wang", contact="王老师 138 0000 0000")
        grandma = f.person(s, "tg:5001", "guardian")
        child = f.person(s, "tg:1001", "child")
        f.link(s, grandma, child)
        f.assign(s, child, w)
    messages, _ = await run(g.ActionSocialWorker(db), make_tracker(intent="ask_social_worker"))
    assert len(messages) == 1
    assert messages[0]["response"] == "utter_social_worker_contact"
    assert (messages[0]["worker_name"], messages[0]["worker_contact"]) == (
        "Wang", "王老师 138 0000 0000")


async def test_a_worker_who_shared_nothing_is_named_without_a_number(db) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.url) as s:
        w = f.worker(s, "li")
        grandma = f.person(s, "tg:5001", "guardian")
        child = f.person(s, "tg:1001", "child")
        f.link(s, grandma, child)
        f.assign(s, child, w)
    messages, _ = await run(g.ActionSocialWorker(db), make_tracker(intent="ask_social_worker"))
    assert messages[0]["response"] == "utter_social_worker_no_contact"


async def test_not_linked_yet_explains_how(db) -> None:  # type: ignore[no-untyped-def]
    messages, _ = await run(g.ActionSocialWorker(db), make_tracker(intent="ask_social_worker"))
    assert [m["response"] for m in messages] == ["utter_social_worker_none", "utter_code_ask"]


def new_code(db, child_sender: str = "tg:1001") -> tuple[str, int]:  # type: ignore[no-untyped-def]
    with session_scope(db.url) as s:
        child = f.person(s, child_sender, "child", "小星")
        return create_invite_code(s, "guardian_child", child_id=child.id), child.id


async def test_an_invite_code_links_the_guardian_to_the_child(db) -> None:  # type: ignore[no-untyped-def]
    code, child_id = new_code(db)
    spaced = code[:4].lower() + " " + code[4:]
    tracker = make_tracker(intent="use_code", text=f"邀请码 {spaced}",
                           entities=[{"entity": "invite_code", "value": spaced}],
                           slots={"role": None})
    messages, events = await run(g.ActionUseCode(db), tracker)
    assert messages[0]["response"] == "utter_code_linked_child"
    assert messages[0]["child_name"] == "小星"
    assert SlotSet("role", "guardian") in events
    with session_scope(db.url) as s:
        link = s.execute(select(GuardianLink)).scalar_one()
        assert link.child_id == child_id
    # one-time: the same code again is refused
    messages, _ = await run(g.ActionUseCode(db), make_tracker(
        sender_id="tg:5009", intent="use_code", text=f"码 {code}"))
    assert messages[0]["response"] == "utter_code_invalid"


async def test_a_code_without_the_entity_is_found_in_the_text(db) -> None:  # type: ignore[no-untyped-def]
    code, _ = new_code(db)
    messages, _ = await run(g.ActionUseCode(db), make_tracker(
        intent="use_code", text=f"社工给的码是{code}谢谢"))
    assert messages[0]["response"] == "utter_code_linked_child"


async def test_no_code_at_all_asks_for_it(db) -> None:  # type: ignore[no-untyped-def]
    messages, _ = await run(g.ActionUseCode(db), make_tracker(intent="use_code", text="我有邀请码"))
    assert messages[0]["response"] == "utter_code_ask"


async def test_guessing_codes_is_locked_after_five_tries(db) -> None:  # type: ignore[no-untyped-def]
    code, _ = new_code(db)
    for i in range(5):
        messages, _ = await run(g.ActionUseCode(db), make_tracker(
            intent="use_code", entities=[{"entity": "invite_code", "value": f"WRONG{i}X9Z"}]))
        assert messages[0]["response"] == "utter_code_invalid"
    messages, _ = await run(g.ActionUseCode(db), make_tracker(
        intent="use_code", entities=[{"entity": "invite_code", "value": code}]))
    assert messages[0]["response"] == "utter_code_locked"


@pytest.mark.parametrize(("text", "code"), [
    ("邀请码 K7P2QXMA", "K7P2QXMA"), ("码是 r3dm 8kqz 我孙子的", "r3dm8kqz"),
    ("use code N4B8-MQTE", "N4B8MQTE"), ("我的电话是13800000000", None), ("hello world", None),
    ("码是 HKMNPQRS", "HKMNPQRS"), ("please remember me", None), ("CODE: HKMN PQRS", "HKMNPQRS"),
])
def test_code_in_text(text: str, code: str | None) -> None:
    from bot.guardian.links import code_in_text

    assert code_in_text(text) == code
