"""Topic words break the selector's doubts and tell follow-ups from new questions."""

from __future__ import annotations

import re

import pytest

from bot.guardian import caregiving, topics


def test_every_topic_has_words_in_both_languages_and_they_compile() -> None:
    patterns = topics._patterns()
    assert set(patterns) == set(caregiving.TOPICS)
    for topic, (zh, en) in patterns.items():
        assert zh and en, topic
        assert all(isinstance(p, re.Pattern) for p in en)


def test_a_confident_selector_is_trusted() -> None:
    assert topics.choose([("sleep", 0.95), ("water_safety", 0.03)], "孩子想去河里游泳") == "sleep"


def test_topic_words_break_an_unsure_selector() -> None:
    ranking = [("discipline", 0.64), ("missing_parents", 0.1), ("homework", 0.09)]
    assert topics.choose(ranking, "the child misses her father who works away") == (
        "missing_parents")
    assert topics.choose([("illness", 0.5), ("eating", 0.2)], "孩子太挑食了") == "eating"


def test_without_words_the_selector_decides() -> None:
    assert topics.choose([("emotions", 0.4), ("sleep", 0.3)], "他最近怪怪的") == "emotions"
    assert topics.choose([], "孩子想去水库游泳") == "water_safety"
    assert topics.choose([], "你好") is None


def test_ranking_from_selector() -> None:
    selector = {
        "response": {"intent_response_key": "ask_caregiving/sleep", "confidence": 0.6},
        "ranking": [
            {"intent_response_key": "ask_caregiving/sleep", "confidence": 0.6},
            {"intent_response_key": "ask_caregiving/eating", "confidence": 0.3},
        ],
    }
    assert topics.ranking_from_selector(selector) == [("sleep", 0.6), ("eating", 0.3)]
    del selector["ranking"]
    assert topics.ranking_from_selector(selector) == [("sleep", 0.6)]


@pytest.mark.parametrize("text", [
    "那怎么办呢?", "那他要是不听呢", "要是孩子不答应咋办", "我照你说的做了 还是不管用",
    "万一他偷偷去呢",
    "what if he refuses?", "and if she still won't?", "so what should I do now",
])
def test_follow_up_cues(text: str) -> None:
    assert topics.looks_like_follow_up(text, "water_safety")


@pytest.mark.parametrize("text", [
    "孩子不听话怎么办", "那他晚上不睡觉怎么办", "what if he gets bullied at school?", "你好",
])
def test_a_new_topic_or_no_cue_is_not_a_follow_up(text: str) -> None:
    assert not topics.looks_like_follow_up(text, "water_safety")


@pytest.mark.parametrize("text", ["还有别的办法吗", "具体该咋做 一步一步说", "any other ways?",
                                  "tell me more"])
def test_more_cues(text: str) -> None:
    assert topics.has_more_cue(text) and topics.looks_like_follow_up(text, "sleep")


def test_no_current_topic_means_no_follow_up() -> None:
    assert not topics.looks_like_follow_up("那怎么办呢", None)
