"""The companion test stories: every exercise and topic, both languages, up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.companion import content, topics
from tests.companion import gen_stories

STORIES = Path(__file__).resolve().parents[2] / "tests" / "stories"


def titles(name: str) -> set[str]:
    data = yaml.safe_load((STORIES / name).read_text(encoding="utf-8"))
    return {s["story"] for s in data["stories"]}


@pytest.mark.parametrize("name", sorted(gen_stories.FILES))
def test_generated_stories_are_current(name: str) -> None:
    assert (STORIES / name).read_text(encoding="utf-8") == gen_stories.render(name), (
        "run: .venv/bin/python -m tests.companion.gen_stories"
    )


def test_every_exercise_and_topic_in_both_languages() -> None:
    exercises = titles("test_companion_exercises.yml")
    topic_titles = titles("test_companion_topics.yml")
    checkin = titles("test_companion_checkin.yml")
    for lang in ("zh", "en"):
        for ex in content.menu_exercises():
            assert f"exercise {ex['id']} ({lang})" in exercises
        for topic in topics.topic_names():
            assert f"topic {topic} ({lang})" in topic_titles
        assert f"stop an exercise and resume it later ({lang})" in exercises
        assert f"a disclosure in the middle of an exercise goes to the safety path ({lang})" \
            in exercises
        assert f"a plan is asked about when the child comes back ({lang})" in checkin
