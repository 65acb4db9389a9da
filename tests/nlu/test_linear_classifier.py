"""The linear intent classifier: numpy inference equals scikit-learn's, and the Rasa
component trains, persists, loads and answers in the shape Rasa's classifiers give."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import linear
from bot.nlu.linear_classifier import LinearIntentClassifier
from bot.nlu.sentence_encoder import SentenceEncoderFeaturizer
from bot.nlu.tokenizer import PeibanTokenizer

EXAMPLES = [
    ("greet", None, ["你好", "你好呀", "hello", "hi there", "hey", "早上好", "good morning"]),
    ("feel_sad", None, ["我好难过", "我很伤心", "I feel sad", "I'm so sad today", "心里难受",
                        "I feel down", "我想哭"]),
    ("ask_caregiving", "ask_caregiving/sleep",
     ["孩子晚上不肯睡觉怎么办", "孙子总是很晚才睡", "My grandson won't go to bed",
      "How much sleep does a child need", "孩子睡不着怎么办", "she stays up too late"]),
    ("ask_caregiving", "ask_caregiving/homework",
     ["孩子不写作业怎么办", "孙女作业总是拖", "My granddaughter won't do her homework",
      "How can I help with homework", "作业写不完怎么办", "he never finishes his homework"]),
]
RESPONSES = {
    "utter_ask_caregiving/sleep": [{"text": "A calm bedtime routine helps."}],
    "utter_ask_caregiving/homework": [{"text": "Sit with them for the first ten minutes."}],
}


def test_numpy_scores_equal_sklearn() -> None:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    texts = ["abc abd", "bcd bce", "cde cdf", "abc bcd", "cde abc", "bce cdf"] * 3
    y = np.array([0, 1, 2, 0, 2, 1] * 3)
    emb = rng.normal(size=(len(texts), 4)).astype(np.float32)
    arrays = linear.fit(texts, emb, y, 3, min_df=1)
    scorer = linear.LinearScorer(**linear.scorer_arrays(arrays))

    vec = TfidfVectorizer(analyzer=linear.ngrams, min_df=1, sublinear_tf=True)
    x = sparse.hstack([vec.fit_transform(texts), sparse.csr_matrix(emb)]).tocsr()
    expected = LogisticRegression(C=10.0, max_iter=3000).fit(x, y).predict_proba(x)
    ours = np.stack([scorer.scores(linear.ngrams(t), e) for t, e in zip(texts, emb, strict=True)])
    assert np.allclose(ours, expected, atol=2e-3)  # w_ngram is stored as float16


def test_a_label_without_examples_is_never_predicted() -> None:
    emb = np.zeros((4, 2), dtype=np.float32)
    arrays = linear.fit(["aa", "ab", "ba", "bb"], emb, np.array([0, 0, 2, 2]), 3, min_df=1)
    probs = linear.LinearScorer(**linear.scorer_arrays(arrays)).scores(["a"], emb[0])
    assert probs[1] < 1e-9 and probs.sum() == pytest.approx(1.0)


def _messages(texts: list[str], labelled: bool = False) -> list[Message]:
    messages = []
    for intent, key, examples in EXAMPLES if labelled else [(None, None, texts)]:
        for text in examples:
            data = {TEXT: text}
            if intent:
                data[INTENT] = intent
            if key:
                data[INTENT_RESPONSE_KEY] = key
            messages.append(Message(data=data))
    return messages


@pytest.fixture(scope="module")
def featurize():
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = PeibanTokenizer(PeibanTokenizer.get_default_config())
    encoder = SentenceEncoderFeaturizer(SentenceEncoderFeaturizer.get_default_config(), context)

    def run(messages: list[Message]) -> list[Message]:
        return encoder.process(tokenizer.process(messages))

    return run


@pytest.fixture(scope="module")
def trained(tmp_path_factory, featurize):
    storage = LocalModelStorage(tmp_path_factory.mktemp("linear"))
    context = ExecutionContext(GraphSchema({}), "test")
    resource = Resource("linear_intents")
    config = {**LinearIntentClassifier.get_default_config(), "min_df": 1}
    component = LinearIntentClassifier.create(config, storage, resource, context)
    data = TrainingData(training_examples=featurize(_messages([], labelled=True)),
                        responses=RESPONSES)
    component.train(data)
    return LinearIntentClassifier.load(config, storage, resource, context)


def test_loaded_component_classifies_both_languages(trained, featurize) -> None:
    cases = {"hello!": "greet", "我今天很难过": "feel_sad",
             "my grandson will not sleep at night": "ask_caregiving"}
    messages = trained.process(featurize(_messages(list(cases))))
    for message, expected in zip(messages, cases.values(), strict=True):
        assert message.get(INTENT)["name"] == expected, message.get(TEXT)
        ranking = message.get("intent_ranking")
        assert ranking[0]["name"] == expected
        assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)


def test_response_selector_output_matches_rasa_shape(trained, featurize) -> None:
    [message] = trained.process(featurize(_messages(["孩子晚上老是不睡觉"])))
    selector = message.get("response_selector")
    assert selector["all_retrieval_intents"] == ["ask_caregiving"]
    response = selector["ask_caregiving"]["response"]
    assert response["intent_response_key"] == "ask_caregiving/sleep"
    assert response["utter_action"] == "utter_ask_caregiving/sleep"
    assert response["responses"] == RESPONSES["utter_ask_caregiving/sleep"]
    ranking = selector["ask_caregiving"]["ranking"]
    assert [r["intent_response_key"] for r in ranking][0] == "ask_caregiving/sleep"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🙂" * 5, "a" * 20000])
def test_odd_input_never_crashes(trained, featurize, text) -> None:
    [message] = trained.process(featurize(_messages([text])))
    intent = message.get(INTENT)
    assert intent["name"] is None or intent["name"] in {"greet", "feel_sad", "ask_caregiving"}


def test_untrained_component_leaves_intent_empty(tmp_path, featurize) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    component = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(), storage, Resource("missing"), context)
    [message] = component.process(featurize(_messages(["hello"])))
    assert message.get(INTENT)["name"] is None
