"""A dialogue policy that puts a risk disclosure ahead of everything else.

It outranks the rule policy (higher priority, full confidence), so a disclosure is answered
with the crisis responses whatever else is going on — an exercise form, onboarding, any
intent, either language — and any active form is closed. It only predicts domain
responses, so the child gets the crisis reply even when the action server is down.
After the crisis reply it keeps a short, gentle safety conversation going.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.risk_state import conversation_risk

logger = logging.getLogger(__name__)

CHILD_CRISIS = ("utter_crisis", "utter_crisis_worker", "utter_crisis_safe_now")
GUARDIAN_CRISIS = ("utter_crisis_guardian", "utter_crisis_worker_guardian")
FOLLOWUP_BY_INTENT = {"affirm": "utter_safety_followup_safe", "deny": "utter_safety_not_safe"}
FOLLOWUP_DEFAULT = "utter_safety_followup"
SAFETY_TURNS_SLOT = "safety_turns"


def _actions_since_user(tracker: DialogueStateTracker) -> list[str]:
    """Names of the actions run since the latest user message (excluding slot extraction)."""
    names: list[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            names.append(event.action_name)
    names.reverse()
    return [n for n in names if n != "action_extract_slots"]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class SafetyPolicy(Policy):
    """Crisis replies first; then a gentle safety conversation for a few turns."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 7, "followup_turns": 2, "context_turns": 5}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource):
            pass  # nothing to learn; the resource only has to exist

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SafetyPolicy":
        return cls(config, model_storage, resource, execution_context)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        try:
            return self._predict(tracker, domain)
        except Exception:  # never let the safety policy break the conversation
            logger.exception("SafetyPolicy failed; abstaining")
            return self._abstain(domain)

    def _abstain(self, domain: Domain) -> PolicyPrediction:
        return self._prediction(self._default_predictions(domain))

    def _predict_action(
        self, domain: Domain, action: str, events: Optional[list] = None
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        # "No user" predictions (a form's happy path) outrank every other kind in Rasa's
        # ensemble whatever their confidence, so ours must be one too, or a form would keep
        # asking its question over a disclosure. Events are optional: applied only if we win.
        return self._prediction(
            probabilities, optional_events=events or [], is_no_user_prediction=True
        )

    def _predict(self, tracker: DialogueStateTracker, domain: Domain) -> PolicyPrediction:
        if (
            not isinstance(tracker.latest_message, UserUttered)
            or tracker.latest_message.text is None
        ):
            return self._abstain(domain)
        done = _actions_since_user(tracker)
        risk = conversation_risk(tracker, self.config["context_turns"])
        if risk.escalate_now:
            return self._crisis_step(tracker, domain, done)
        if (tracker.get_slot(SAFETY_TURNS_SLOT) or 0) > 0:
            return self._followup_step(tracker, domain, done)
        return self._abstain(domain)

    def _crisis_sequence(self, tracker: DialogueStateTracker) -> tuple[str, ...]:
        return GUARDIAN_CRISIS if tracker.get_slot("role") == "guardian" else CHILD_CRISIS

    def _crisis_step(
        self, tracker: DialogueStateTracker, domain: Domain, done: list[str]
    ) -> PolicyPrediction:
        sequence = self._crisis_sequence(tracker)
        remaining = [a for a in sequence if a not in done]
        if not remaining:
            return self._predict_action(domain, ACTION_LISTEN_NAME)
        events: list = []
        if not done:  # first step of the crisis turn: close forms, start the follow-up window
            if tracker.active_loop_name:
                events.append(ActiveLoop(None))
            events.append(SlotSet(SAFETY_TURNS_SLOT, float(self.config["followup_turns"])))
        return self._predict_action(domain, remaining[0], events)

    def _followup_step(
        self, tracker: DialogueStateTracker, domain: Domain, done: list[str]
    ) -> PolicyPrediction:
        if done:
            return self._predict_action(domain, ACTION_LISTEN_NAME)
        intent = (tracker.latest_message.intent or {}).get("name")
        action = FOLLOWUP_BY_INTENT.get(intent, FOLLOWUP_DEFAULT)
        turns_left = max(0.0, float(tracker.get_slot(SAFETY_TURNS_SLOT) or 0) - 1)
        events: list = [SlotSet(SAFETY_TURNS_SLOT, turns_left)]
        if tracker.active_loop_name:
            events.append(ActiveLoop(None))
        return self._predict_action(domain, action, events)
