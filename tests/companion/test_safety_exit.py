"""A risk disclosure in the middle of an exercise leaves the exercise for the safety path.

SafetyPolicy (bot/core) outranks the rule policy that keeps exercise_form running: it
answers with the crisis responses and closes the form in the same step. The detector
(bot/safety) is what marks the message; when it is importable we check that typical
mid-exercise disclosures are marked and ordinary exercise answers are not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.safety_policy import SafetyPolicy

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture()
def policy(tmp_path: Path) -> SafetyPolicy:
    return SafetyPolicy.create({**SafetyPolicy.get_default_config()},
                               LocalModelStorage(tmp_path), Resource("safety"),
                               ExecutionContext(GraphSchema({}), "test"))


def disclosure(text: str, category: str = "suicide") -> UserUttered:
    risk = {"escalate": True, "category": category, "severity": "high", "evidence": [text],
            "signals": []}
    return UserUttered(text, {"name": "risk_disclosure", "confidence": 1.0},
                       parse_data={"intent": {"name": "risk_disclosure"}, "risk": risk,
                                   "text": text})


def mid_exercise(*latest: UserUttered) -> DialogueStateTracker:
    events = [
        ActionExecuted("action_listen"),
        UserUttered("教我吹气球呼吸", {"name": "request_exercise", "confidence": 0.9}),
        ActionExecuted("action_offer_exercise"),
        SlotSet("exercise_id", "breathing"),
        SlotSet("exercise_ready", True),
        ActionExecuted("exercise_form"),
        ActiveLoop("exercise_form"),
        SlotSet("requested_slot", "exercise_input"),
        ActionExecuted("action_listen"),
        *latest,
    ]
    return DialogueStateTracker.from_events("child", events, slots=DOMAIN.slots)


def test_the_safety_policy_outranks_the_rules_that_run_the_form() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    priorities = {p["name"].split(".")[-1]: p.get("priority") for p in config["policies"]}
    assert priorities["SafetyPolicy"] > 6  # RulePolicy's default priority is 6


@pytest.mark.parametrize("text,category", [("我不想活了", "suicide"),
                                           ("he touches me and says keep it secret",
                                            "sexual_abuse")])
def test_a_disclosure_mid_exercise_closes_the_form_with_the_crisis_reply(
    policy: SafetyPolicy, text: str, category: str
) -> None:
    tracker = mid_exercise(disclosure(text, category))
    assert tracker.active_loop_name == "exercise_form"
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    action = DOMAIN.action_names_or_texts[prediction.max_confidence_index]
    assert action == "utter_crisis"
    # It must beat the form's happy path, which Rasa's ensemble ranks above any priority.
    assert prediction.is_no_user_prediction
    events = list(prediction.events) + list(prediction.optional_events)
    assert ActiveLoop(None) in events  # the exercise is left at once
    tracker.update_with_events(events, DOMAIN)
    assert tracker.active_loop_name is None


def test_an_ordinary_exercise_answer_leaves_the_form_running(policy: SafetyPolicy) -> None:
    answer = UserUttered("好了", {"name": "affirm", "confidence": 0.9},
                         parse_data={"intent": {"name": "affirm"}, "text": "好了",
                                     "risk": {"escalate": False, "signals": []}})
    prediction = policy.predict_action_probabilities(mid_exercise(answer), DOMAIN)
    assert max(prediction.probabilities) == 0  # abstains: the form goes on


def test_the_detector_marks_disclosures_typed_inside_an_exercise() -> None:
    safety = pytest.importorskip("bot.safety")
    detect = getattr(safety, "detect", None)
    if detect is None:
        pytest.skip("bot.safety.detect not available yet")
    for text in ("我不想活了", "我想喝农药", "I want to kill myself", "叔叔摸我还不让我说"):
        assert detect(text, role="child").escalate, text
    # Exercise answers that sound dramatic in everyday Chinese are not disclosures.
    for text in ("好了", "累死了", "作业多得要死", "气死我了", "我好想妈妈", "笑死我了"):
        assert not detect(text, role="child").escalate, text
