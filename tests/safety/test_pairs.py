"""The neighbour check on a long message's riskiest sentence (detector._classifier_probs).

A keyword classifier stands in for the trained one so the rule itself is pinned: a
sentence that reads as risk alone speaks for a long message only when it still reads as
risk beside the sentence before or after it.
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.safety import detector
from bot.safety.classifier import LABELS

RISK, FRAME = "RISK", "MOVIE"
LONG_WHOLE = "an ordinary long diary of the day " * 4
FRAMED = [f"{FRAME} night", f"{RISK} off the roof", f"the {FRAME} ending", "dinner"]


class KeywordClassifier:
    """Risk 0.9 for a text that says RISK without MOVIE, else 0.05."""

    def probs(self, text: str, emb: np.ndarray) -> np.ndarray:
        risk = 0.9 if RISK in text and FRAME not in text else 0.05
        p = np.zeros(len(LABELS), dtype=np.float32)
        p[0], p[LABELS.index("suicide")] = 1.0 - risk, risk
        return p


class RecordingEncoder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.zeros((len(texts), 512), dtype=np.float32)


@pytest.fixture
def encoder(monkeypatch: pytest.MonkeyPatch) -> RecordingEncoder:
    enc = RecordingEncoder()
    monkeypatch.setattr(detector._semantic, "model", lambda: enc)
    return enc


def risk_of(sentences: list[str], whole: str = LONG_WHOLE) -> float:
    segs = [whole, *sentences]
    emb = np.zeros((len(segs), 512), dtype=np.float32)
    return 1.0 - float(detector._classifier_probs(KeywordClassifier(), segs, emb)[0][0])


def test_a_sentence_risky_only_on_its_own_does_not_speak_for_a_long_message(encoder):
    assert risk_of(FRAMED) < 0.1
    assert len(encoder.calls) == 1  # both neighbour pairs in one encoder call
    assert len(encoder.calls[0]) == 2


def test_a_sentence_still_risky_beside_a_neighbour_speaks(encoder):
    assert risk_of([f"{FRAME} night", f"{RISK} off the roof", "homework", "bed"]) > 0.8


@pytest.mark.parametrize("sentences, whole", [
    # a short message: each sentence speaks (no neighbours to read it with)
    (FRAMED, "short"),
    # too few sentences for a neighbour to be context
    (FRAMED[1:3], LONG_WHOLE),
])
def test_no_neighbour_check(encoder, sentences, whole):
    assert risk_of(sentences, whole) > 0.8
    assert encoder.calls == []


def test_the_check_is_off_at_zero(encoder, monkeypatch):
    monkeypatch.setattr(detector, "T_RISK_PAIR", 0.0)
    assert risk_of(FRAMED) > 0.8
    assert encoder.calls == []


def test_the_encoder_is_skipped_when_the_lexicon_already_escalates(encoder):
    """The model layers only add evidence, so a message the lexicon escalates on its own
    costs no encoder call; one it does not still gets the model's reading."""
    result = detector.analyse("我不想活了 我已经写好遗书了", "child")
    assert result.escalate and result.category == "suicide"
    assert encoder.calls == []
    assert not detector.analyse("今天数学考了九十分 奶奶给我做了红烧肉", "child").escalate
    assert encoder.calls and encoder.calls[0][0].startswith("今天数学考了九十分")
