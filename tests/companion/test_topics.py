"""Topic replies: the child's own words, one question, fitting exercises, no repeats."""

from __future__ import annotations

import random

import pytest

from bot.companion import content, topics
from bot.companion.text import is_chinese, reflect_phrase

TOPICS = topics.topic_names()


@pytest.mark.parametrize("topic", TOPICS)
def test_reply_has_ack_question_offer_and_who_to_talk_to(topic: str) -> None:
    reply = topics.compose(topic, "zh", "child", f"/{topic}", None, random.Random(0))
    first, second = reply.messages
    assert first.text and not first.buttons
    payloads = [b["payload"] for b in second.buttons]
    expected = content.topics()["topics"][topic]["offer_exercises"]
    assert payloads == [content.exercise_payload(e) for e in expected]
    assert reply.memory["last_topic"] == topic


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_never_the_same_reply_twice_in_a_row(topic: str, lang: str) -> None:
    memory = None
    previous = None
    rng = random.Random(7)
    for _ in range(25):
        reply = topics.compose(topic, lang, "child", "", memory, rng)
        text = reply.messages[0].text
        assert text != previous
        assert is_chinese(text) == (lang == "zh")
        previous, memory = text, reply.memory


def test_the_childs_own_words_are_reflected() -> None:
    reply = topics.compose("school_stress", "zh", "child", "数学考试没考好，好难过", None,
                           random.Random(1))
    assert "数学考试没考好" in reply.messages[0].text
    reply = topics.compose("feel_sad", "en", "child", "my dog died yesterday", None,
                           random.Random(1))
    assert "my dog died yesterday" in reply.messages[0].text


def test_a_parent_mentioned_earlier_is_remembered() -> None:
    first = topics.compose("miss_parents", "zh", "child", "我好想妈妈", None, random.Random(2))
    assert first.memory["person"] == "mum"
    later = topics.compose("feel_lonely", "zh", "child", "晚上就我一个", first.memory,
                           random.Random(2))
    assert "妈妈" in later.messages[0].text
    again = topics.compose("feel_sad", "en", "child", "sad", later.memory, random.Random(2))
    assert "your mum" in again.messages[0].text


def test_the_same_topic_twice_gets_a_follow_on_acknowledgement() -> None:
    first = topics.compose("feel_angry", "zh", "child", "气死我了", None, random.Random(3))
    second = topics.compose("feel_angry", "zh", "child", "还是很气", first.memory,
                            random.Random(3))
    again_ids = {v["id"] for v in content.topics()["topics"]["feel_angry"]["ack_again"]}
    assert second.memory["used"]["feel_angry.ack_again"] in again_ids


@pytest.mark.parametrize("topic", TOPICS)
def test_guardians_get_an_adult_answer_with_caregiving_buttons(topic: str) -> None:
    reply = topics.compose(topic, "zh", "guardian", "孩子不开心", None, random.Random(4))
    assert len(reply.messages) == 1
    assert not any("request_exercise" in b["payload"] for b in reply.messages[0].buttons)
    english = topics.compose(topic, "en", "guardian", "the child is upset", None,
                             random.Random(4))
    assert not is_chinese(english.messages[0].text)


def test_yes_and_no_after_a_topic_reply() -> None:
    reply = topics.compose("feel_worried", "zh", "child", "明天考试", None, random.Random(5))
    yes = topics.follow_up("affirm", "zh", "child", reply.memory, random.Random(5))
    assert [b["payload"] for b in yes.messages[0].buttons] == [
        content.exercise_payload("breathing"), content.exercise_payload("thought_detective")]
    no = topics.follow_up("deny", "en", "child", reply.memory, random.Random(5))
    deny = [v["en"] for v in content.topics()["followup"]["deny"]]
    assert not no.messages[0].buttons and no.messages[0].text in deny


@pytest.mark.parametrize("text,person", [("我想妈妈", "mum"), ("爸爸什么时候打电话", "dad"),
                                         ("想爸妈了", "both"), ("I miss my mom", "mum"),
                                         ("my dad and my mum", "both"), ("今天好累", None)])
def test_which_parent(text: str, person: str) -> None:
    assert topics.person_in(text) == person


@pytest.mark.parametrize("text,phrase", [
    ("我好孤单啊", "我好孤单"),
    ("今天数学考试没考好，回家还被骂了，好难过", "今天数学考试没考好"),
    ("/feel_sad", None),
    ("嗯", None),
    ("I feel so alone tonight.", "I feel so alone tonight"),
])
def test_reflect_phrase(text: str, phrase: str) -> None:
    assert reflect_phrase(text) == phrase
