"""The walk through a topic: first, deeper, follow-ups, then an offer of human help."""

from __future__ import annotations

from bot.guardian import caregiving


def test_topic_from_key() -> None:
    assert caregiving.topic_from_key("ask_caregiving/sleep") == "sleep"
    assert caregiving.topic_from_key("water_safety") == "water_safety"
    assert caregiving.topic_from_key("ask_caregiving/cooking") is None
    assert caregiving.topic_from_key(None) is None


def test_first_answer_ends_with_the_offer_to_say_more() -> None:
    answer = caregiving.first_answer("sleep", "zh")
    assert answer.part == "first"
    assert answer.messages[-1].text == "想多了解一点吗？"
    assert [b["payload"] for b in answer.messages[-1].buttons] == ["/tell_more", "/deny"]
    english = caregiving.first_answer("sleep", "en")
    assert english.messages[-1].text == "Want to know more?"


def test_more_then_follow_ups_then_done_never_repeat() -> None:
    seen = ["first"]
    parts = []
    for _ in range(5):
        answer = caregiving.next_answer("water_safety", "zh", seen, "more")
        parts.append(answer.part)
        if answer.part != "done":
            seen.append(answer.part)
    assert parts == ["more", "follow_up:0", "follow_up:1", "done", "done"]
    texts = [t for p in seen for t in caregiving.part_texts("water_safety", p, "zh")]
    assert len(texts) == len(set(texts))


def test_a_follow_up_question_prefers_the_follow_up_parts() -> None:
    seen = ["first"]
    parts = []
    for _ in range(4):
        answer = caregiving.next_answer("discipline", "en", seen, "follow_up")
        parts.append(answer.part)
        seen.append(answer.part)
    assert parts == ["follow_up:0", "follow_up:1", "more", "done"]


def test_done_offers_the_social_worker_and_services() -> None:
    answer = caregiving.done_answer("bullying", "zh")
    payloads = [b["payload"] for b in answer.messages[0].buttons]
    assert "/report_concern" in payloads
    assert any(p.startswith('/ask_caregiving{"caregiving_topic": "services"') for p in payloads)


def test_the_deeper_answer_on_warning_signs_offers_to_tell_the_worker() -> None:
    answer = caregiving.next_answer("warning_signs", "zh", ["first"], "more")
    assert answer.part == "more"
    assert answer.messages[-1].buttons[0]["payload"] == "/report_concern"


def test_services_topic_shows_directory_entries() -> None:
    texts = caregiving.part_texts("services", "first", "zh")
    assert any("110" in t and "120" in t for t in texts)
    assert any(t.startswith("社工") for t in texts)


def test_which_topic_offers_buttons_with_the_topic_entity() -> None:
    message = caregiving.which_topic("en")
    assert message.buttons[0]["payload"] == '/ask_caregiving{"caregiving_topic": "screen_time"}'
    assert message.buttons[0]["title"] == "Phones and screen time"
