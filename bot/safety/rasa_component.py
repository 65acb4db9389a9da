"""The risk detector inside the Rasa server: runs on every message, before any policy.

When a message escalates, the intent becomes `risk_disclosure` (the classifier's guess is
kept) and the entities `risk_category` / `risk_severity` fill their slots through plain
slot mappings — so the crisis reply needs no custom action and no action server.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

RISK_KEY = "risk"
RISK_INTENT = "risk_disclosure"
RISK_ENTITIES = ("risk_category", "risk_severity")


def _risk_entities(category: str, severity: str) -> list[dict[str, Any]]:
    values = {"risk_category": category, "risk_severity": severity}
    return [
        {
            "entity": name,
            "value": values[name],
            "start": 0,
            "end": 0,
            "confidence": 1.0,
            "extractor": "RiskDetector",
        }
        for name in RISK_ENTITIES
    ]


def annotate(message: Message, role: str | None = None) -> dict[str, Any]:
    """Run the detector on one message and mark it; returns the stored risk dict."""
    from bot.safety import detect

    text = message.get(TEXT) or ""
    try:
        detection = detect(text, role=role)
    except Exception:  # the detector must never take the server down with it
        logger.exception("risk detector failed; treating the message as needing review")
        return {"escalate": False, "error": "detector_failed"}
    risk = detection.to_dict()
    original = (message.get(INTENT) or {}).get("name")
    risk["original_intent"] = original
    message.set(RISK_KEY, risk, add_to_output=True)
    if detection.escalate:
        message.set(INTENT, {"name": RISK_INTENT, "confidence": 1.0}, add_to_output=True)
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(
            INTENT_RANKING_KEY,
            [{"name": RISK_INTENT, "confidence": 1.0}]
            + [r for r in ranking if r.get("name") != RISK_INTENT],
            add_to_output=True,
        )
        entities = [e for e in message.get(ENTITIES, []) if e.get("entity") not in RISK_ENTITIES]
        message.set(
            ENTITIES,
            entities + _risk_entities(detection.category or "", detection.severity or "high"),
            add_to_output=True,
        )
    return risk


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RiskDetector(GraphComponent):
    """Marks every message with the safety detector's verdict."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RiskDetector":
        from bot.safety import detect

        detect("你好")  # load the lexicon and semantic bank now, not on a child's message
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TEXT):
                annotate(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
