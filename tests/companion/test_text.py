"""Text helpers and the rating parser."""

from __future__ import annotations

import pytest

from bot.companion import engine, ratings
from bot.companion.text import parse_payload, sentence_count


@pytest.mark.parametrize("text,score", [
    ('/rate{"rating":"4"}', 4), ("😄", 5), ("🙁", 2), ("5", 5), ("一", 1), ("一般般", 3),
    ("不开心", 2), ("不好不坏", 3), ("很难过", 1), ("okay", 3), ("very happy", 5),
    ("pretty good", 4), ("😢😄", None), ("12", None), ("我今天去了奶奶家吃了很多好吃的饺子", None),
    ('/affirm', None), ("好了", None),
])
def test_rating_parse(text: str, score: int) -> None:
    assert ratings.parse(text) == score


@pytest.mark.parametrize("text,kind,control", [
    ("停", "text", "stop"), ("停！", "choice", "stop"), ("Stop please", "count", "stop"),
    ("不想做了", "text", "stop"), ("停电了", "text", None), ("算了", "choice", "stop"),
    ("我不想做这个练习了", "text", "stop"), ("繼續", "choice", None), ("/resume", "text", "resume"),
    ("听不懂", "text", "dont_understand"), ("啥意思？", "choice", "dont_understand"),
    ("I don't get it", "count", "dont_understand"), ("不知道", "text", "dont_know"),
    ("举个例子", "text", "help"), ("为什么要这样做", "choice", "question"),
    ("为什么要这样做", "text", None), ("这个有用吗？", "count", "question"),
    ("拜拜", "text", "goodbye"), ('/request_exercise{"exercise":"grounding"}', "text", "switch"),
    ("/feel_sad", "choice", "topic"),
])
def test_classify_is_deterministic(text: str, kind: str, control: str) -> None:
    assert engine.classify(text, kind) == control


def test_parse_payload() -> None:
    payload = parse_payload('/request_exercise{"exercise": "breathing"}')
    assert payload.intent == "request_exercise" and payload.entities == {"exercise": "breathing"}
    assert parse_payload("/ask_caregiving/sleep").intent == "ask_caregiving/sleep"
    assert parse_payload("你好") is None


@pytest.mark.parametrize("text,count", [
    ("你好。我是陪伴！你呢？", 3), ("Hi there. I'm Peiban! How are you", 3),
    ("吸气……呼气……好了告诉我。", 1), ("Breathe in... and out... done?", 1),
    ("1, 2, 3. Then 4.5 more", 2), ("", 0),
])
def test_sentence_count(text: str, count: int) -> None:
    assert sentence_count(text) == count
