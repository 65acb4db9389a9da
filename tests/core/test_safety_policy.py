"""The safety policy answers disclosures first, closes forms, and keeps talking gently."""

from __future__ import annotations

from pathlib import Path

import pytest
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
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    return SafetyPolicy.create(
        {**SafetyPolicy.get_default_config()}, storage, Resource("safety"), context
    )


def message(text: str, escalate: bool, intent: str = "feel_sad") -> UserUttered:
    marks = {
        "escalate": escalate,
        "category": "suicide" if escalate else None,
        "severity": "high" if escalate else None,
        "evidence": [],
        "signals": [],
    }
    name = "risk_disclosure" if escalate else intent
    return UserUttered(
        text,
        {"name": name, "confidence": 1.0},
        parse_data={"intent": {"name": name}, "risk": marks, "text": text},
    )


def predicted(policy: SafetyPolicy, tracker: DialogueStateTracker):  # type: ignore[no-untyped-def]
    prediction = policy.predict_action_probabilities(tracker, DOMAIN)
    if max(prediction.probabilities) == 0:
        assert not prediction.is_no_user_prediction  # abstaining must never outrank others
        return None, prediction.optional_events
    assert prediction.is_no_user_prediction and not prediction.events
    return DOMAIN.action_names_or_texts[prediction.max_confidence_index], prediction.optional_events


def tracker_with(*events) -> DialogueStateTracker:  # type: ignore[no-untyped-def]
    return DialogueStateTracker.from_events("t", list(events), slots=DOMAIN.slots)


def test_disclosure_gets_the_crisis_sequence(policy: SafetyPolicy) -> None:
    tracker = tracker_with(ActionExecuted("action_listen"), message("我不想活了", True))
    seen = []
    for _ in range(5):
        action, events = predicted(policy, tracker)
        seen.append(action)
        if action == "action_listen":
            break
        tracker.update(ActionExecuted(action))
        tracker.update_with_events(events, DOMAIN)
    assert seen == ["utter_crisis", "utter_crisis_worker", "utter_crisis_safe_now", "action_listen"]
    assert tracker.get_slot("safety_turns") == 2


def test_disclosure_closes_an_active_form(policy: SafetyPolicy) -> None:
    tracker = tracker_with(
        ActiveLoop("exercise_form"),
        ActionExecuted("action_listen"),
        message("我把药都攒起来了", True),
    )
    action, events = predicted(policy, tracker)
    assert action == "utter_crisis"
    assert ActiveLoop(None) in events


def test_guardian_gets_the_guardian_reply(policy: SafetyPolicy) -> None:
    tracker = tracker_with(
        SlotSet("role", "guardian"),
        ActionExecuted("action_listen"),
        message("孙女说她不想活了", True),
    )
    assert predicted(policy, tracker)[0] == "utter_crisis_guardian"


def test_ordinary_message_is_left_to_other_policies(policy: SafetyPolicy) -> None:
    tracker = tracker_with(ActionExecuted("action_listen"), message("作业好多", False))
    assert predicted(policy, tracker)[0] is None


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        ("deny", "utter_safety_not_safe"),
        ("affirm", "utter_safety_followup_safe"),
        ("request_exercise", "utter_safety_followup"),
    ],
)
def test_gentle_followup_after_a_disclosure(
    policy: SafetyPolicy, intent: str, expected: str
) -> None:
    tracker = tracker_with(
        SlotSet("safety_turns", 2.0),
        ActionExecuted("action_listen"),
        message("...", False, intent=intent),
    )
    action, events = predicted(policy, tracker)
    assert action == expected
    assert SlotSet("safety_turns", 1.0) in events


def test_followup_window_ends(policy: SafetyPolicy) -> None:
    tracker = tracker_with(
        SlotSet("safety_turns", 0.0),
        ActionExecuted("action_listen"),
        message("我想做个练习", False, intent="request_exercise"),
    )
    assert predicted(policy, tracker)[0] is None


def test_crisis_outranks_a_forms_happy_path_in_rasas_ensemble(policy: SafetyPolicy) -> None:
    """The bug this guards against: a form kept asking its question over a disclosure."""
    from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
    from rasa.core.policies.policy import PolicyPrediction

    tracker = tracker_with(
        ActiveLoop("concern_form"), ActionExecuted("action_listen"), message("她说想喝农药", True)
    )
    ours = policy.predict_action_probabilities(tracker, DOMAIN)
    form = [0.0] * len(DOMAIN.action_names_or_texts)
    form[DOMAIN.index_for_action("utter_goodbye")] = 1.0  # stands in for the loop action
    rule = PolicyPrediction(form, "RulePolicy", 6, is_no_user_prediction=True)
    for order in ([ours, rule], [rule, ours]):
        best = DefaultPolicyPredictionEnsemble._pick_best_policy(order)
        assert best.policy_name == "SafetyPolicy"
        assert ActiveLoop(None) in best.events


def test_an_explicit_risk_intent_escalates_without_nlu_marks(policy: SafetyPolicy) -> None:
    bare = UserUttered(
        "/risk_disclosure",
        {"name": "risk_disclosure", "confidence": 1.0},
        entities=[{"entity": "risk_category", "value": "abuse"}],
    )
    tracker = tracker_with(ActionExecuted("action_listen"), bare)
    assert predicted(policy, tracker)[0] == "utter_crisis"
