"""Language detection and tokenization of mixed, messy text."""

from __future__ import annotations

import pytest

from bot.nlu.language import detect_language
from bot.nlu.text import normalize_same_length
from bot.nlu.tokenizer import split_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好", "zh"),
        ("我今天好開心", "zh"),
        ("wo bu xiang huo le", "zh"),
        ("nihao", "zh"),
        ("wo hao xiang mama", "zh"),
        ("我想玩game", "zh"),
        ("ｎｉ　ｈａｏ", "zh"),
        ("hello", "en"),
        ("I miss my mom", "en"),
        ("he is sad", "en"),
        ("long time no see", "en"),
        ("help me", "en"),
        ("I love 饺子", "en"),
        ("🙂🙂", None),
        ("12345", None),
        ("", None),
        ("/greet", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_normalisation_keeps_offsets() -> None:
    text = "我今天好開心！ＡＢＣ\u0007"
    assert len(normalize_same_length(text)) == len(text)
    assert normalize_same_length(text).startswith("我今天好开心!abc")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01",
        "😀" * 50,
        "字" * 10_000,
        "a b c",
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ],
)
def test_tokenizer_never_fails(text: str) -> None:
    tokens = split_tokens(text)
    for token, start in tokens:
        assert 0 <= start < len(text)
        assert token


def test_tokens_point_into_the_original_text() -> None:
    text = "我想媽媽了 I miss HER"
    for token, start in split_tokens(text):
        assert normalize_same_length(text)[start : start + len(token)] == token
