"""The guardian test stories cover every topic in both languages and stay generated."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.guardian.caregiving import TOPICS
from tests.guardian import gen_stories

STORIES = Path(__file__).resolve().parents[2] / "tests/stories"


def load(name: str) -> list[dict]:
    return yaml.safe_load((STORIES / name).read_text(encoding="utf-8"))["stories"]


def test_caregiving_stories_are_current() -> None:
    assert gen_stories.OUT.read_text(encoding="utf-8") == gen_stories.render()


def test_every_topic_in_both_languages_with_a_follow_up() -> None:
    titles = {s["story"] for s in load("test_guardian_caregiving.yml")}
    for topic in TOPICS:
        for lang in ("zh", "en"):
            assert f"caregiving {topic} ({lang})" in titles
    for story in load("test_guardian_caregiving.yml"):
        if story["story"].startswith("caregiving "):
            actions = [s["action"] for s in story["steps"] if "action" in s]
            assert actions[0] == "action_caregiving_answer"
            assert actions[-1] == "action_caregiving_follow_up"


def test_concern_report_in_both_languages_including_a_disclosure() -> None:
    titles = {s["story"] for s in load("test_guardian_concern.yml")}
    for lang in ("zh", "en"):
        assert f"concern report ({lang})" in titles
        assert f"a disclosure in the middle of the report goes to the safety path ({lang})" \
            in titles
