"""Every response the assistant can send exists in Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def responses() -> dict[str, list[dict]]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain.get("responses") or {}


def is_english_variant(variation: dict) -> bool:
    return any(
        c.get("name") == "language" and c.get("value") == "en"
        for c in variation.get("condition") or []
    )


def is_chinese_variant(variation: dict) -> bool:
    conditions = variation.get("condition") or []
    language = [c for c in conditions if c.get("name") == "language"]
    return not language or language[0].get("value") == "zh"


@pytest.mark.parametrize("name", sorted(responses()))
def test_response_has_both_languages(name: str) -> None:
    variations = responses()[name]
    chinese = [v for v in variations if is_chinese_variant(v)]
    english = [v for v in variations if is_english_variant(v)]
    assert chinese, f"{name} has no Chinese variation"
    assert english, f"{name} has no English variation"
    for variation in chinese:
        assert CJK.search(variation.get("text", "")), f"{name}: Chinese variation not in Chinese"
    for variation in english:
        assert not CJK.search(variation.get("text", "")), f"{name}: English variation has Chinese"


@pytest.mark.parametrize("name", sorted(responses()))
def test_buttons_match_across_languages(name: str) -> None:
    variations = responses()[name]
    zh = {
        tuple(b["payload"] for b in v.get("buttons", []))
        for v in variations
        if is_chinese_variant(v)
    }
    en = {
        tuple(b["payload"] for b in v.get("buttons", []))
        for v in variations
        if is_english_variant(v)
    }
    assert zh == en, f"{name}: buttons differ between languages"


CATEGORIES = [
    "suicide",
    "self_harm",
    "abuse",
    "sexual_abuse",
    "neglect",
    "bullying",
    "danger",
    "runaway",
]


@pytest.mark.parametrize("response", ["utter_crisis", "utter_crisis_guardian"])
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("category", CATEGORIES)
def test_crisis_reply_for_every_category_and_language(
    response: str, language: str, category: str
) -> None:
    from rasa.core.nlg.generator import ResponseVariationFilter

    variations = responses()[response]
    chosen = ResponseVariationFilter({response: variations}).responses_for_utter_action(
        response, "rest", {"language": language, "risk_category": category}
    )
    assert chosen, f"no {response} for {language}/{category}"
    for variation in chosen:
        text = variation["text"]
        assert bool(CJK.search(text)) == (language == "zh")
        assert re.search(r"\b(110|119|120|12355|12356)\b", text), "crisis reply names no number"
