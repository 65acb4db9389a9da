"""The companion's content: both languages everywhere, every step reachable, short messages."""

from __future__ import annotations

import pytest

from bot.companion import content, engine, topics
from bot.companion.text import cjk_length, sentence_count
from tests.companion.walk import all_paths

EXERCISES = sorted(content.exercises())
REQUIRED = ["breathing", "grounding", "feelings", "thought_detective", "problem_solving",
            "message_to_parents", "three_good_things", "support_circle", "anger_calm",
            "making_friends", "bedtime_calm", "bored_ideas"]
TOPICS = ["feel_happy", "feel_sad", "feel_lonely", "feel_angry", "feel_worried", "feel_bored",
          "miss_parents", "school_stress", "friend_trouble", "low_confidence", "chores_burden"]
PLAN = {"zh": {"plan": {"text": "吃完饭先问同桌第3题"}},
        "en": {"plan": {"text": "ask my deskmate about question 3 after dinner"}}}


def test_every_required_exercise_has_a_file() -> None:
    assert set(REQUIRED) <= set(EXERCISES)
    assert [e["id"] for e in content.menu_exercises()] == REQUIRED


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_script_is_complete_in_both_languages(exercise_id: str) -> None:
    ex = content.exercise(exercise_id)
    assert content.check_exercise(ex, EXERCISES) == []


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_step_is_reached_by_some_path(exercise_id: str) -> None:
    ex = content.exercise(exercise_id)
    visited: set[str] = set()
    said = set()
    for messages, turn, steps in all_paths(ex, "zh", PLAN["zh"]):
        visited.update(steps)
        said.update(m.text for m in messages)
        assert turn.status == engine.DONE
    waiting = {s["id"] for s in ex["steps"] if s["type"] != "say"}
    assert waiting <= visited
    for step in ex["steps"]:
        if step["type"] == "say":
            head = content.text_in(step["text"], "zh").split("{")[0][:6]
            assert any(head in text for text in said), f"say step {step['id']} never said"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_message_is_short(exercise_id: str, lang: str) -> None:
    """1-3 sentences, at most ~120 Chinese characters, on every path."""
    ex = content.exercise(exercise_id)
    for messages, _, _ in all_paths(ex, lang, PLAN[lang]):
        for message in messages:
            assert sentence_count(message.text) <= 3, message.text
            if lang == "zh":
                assert cjk_length(message.text) <= 120, message.text
            else:
                assert cjk_length(message.text) == 0, f"Chinese in English: {message.text}"
                assert len(message.text) <= 320, message.text


@pytest.mark.parametrize("exercise_id", REQUIRED)
def test_keywords_find_the_exercise(exercise_id: str) -> None:
    ex = content.exercise(exercise_id)
    for lang in ("zh", "en"):
        longest = max(ex["keywords"][lang], key=len)
        assert content.match_exercise(f"我想做{longest}" if lang == "zh" else f"let's do {longest}"
                                      ) == exercise_id


def test_no_exercise_promises_parents_will_come_home() -> None:
    forbidden = ["会回来", "就回来", "回家的", "will come home", "come back home", "will be back"]
    for ex in content.exercises().values():
        for text in content._texts(ex):
            assert not any(f in text for f in forbidden), text


def test_shared_texts_are_bilingual() -> None:
    assert content.bilingual_problems(content.common(), "companion.yml") == []


def test_topics_cover_every_topic_intent_in_both_languages() -> None:
    spec = content.topics()
    assert content.bilingual_problems(spec, "topics.yml") == []
    assert set(spec["topics"]) == set(TOPICS)
    for name in TOPICS:
        topic = spec["topics"][name]
        assert len(topic["ack"]) >= 2 and len(topic["question"]) >= 1, name
        assert len(topic["guardian"]) >= 2, name
        assert topic["offer_exercises"] and len(topic["offer_exercises"]) <= 2
        for exercise_id in topic["offer_exercises"]:
            assert content.exercise(exercise_id) is not None
        for part in ("ack", "ack_quote", "ack_memory", "ack_again", "question", "offer",
                     "close", "guardian"):
            ids = [v["id"] for v in topic.get(part, [])]
            assert len(ids) == len(set(ids)), f"{name}.{part}: duplicate ids"


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_topic_bubbles_are_short(topic: str, lang: str) -> None:
    import random

    memory = {"person": "mum"}
    for seed in range(12):
        role = "guardian" if seed % 4 == 3 else "child"
        reply = topics.compose(topic, lang, role, "我好想妈妈，作业也写不完" if lang == "zh"
                               else "I miss my mum and I have too much homework", memory,
                               random.Random(seed))
        memory = reply.memory
        for message in reply.messages:
            assert sentence_count(message.text) <= 3, message.text
            assert (cjk_length(message.text) <= 120) if lang == "zh" else \
                (cjk_length(message.text) == 0), message.text
