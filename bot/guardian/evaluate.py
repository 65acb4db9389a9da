"""Retrieval accuracy of the caregiving topics on held-out phrasings, per language.

    .venv/bin/python -m bot.guardian.evaluate --model models/latest.tar.gz

A guardian's question "gets its own answer" when the message is classified `ask_caregiving`
(or a child's intent the actions reroute for guardians, topics.guardian_topic) and the
topic action_caregiving_answer picks (the classifier's topic ranking, with topic words
breaking its doubts: bot/guardian/topics.py) is the labelled one. Also reported: the model
alone (selector top-1 after the intent), the selector alone, and what took the other
messages (e.g. risk_disclosure: the safety path answered first). Follow-ups from
tests/nlu/followups.yml must stay on the topic (bot/guardian/topics.py, rules).
Bar (issue 5): accuracy >= 0.85 in each language.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable

import yaml

from bot.config import ROOT
from bot.guardian import topics
from bot.guardian.caregiving import RETRIEVAL_INTENT, topic_from_key

HELDOUT = {"zh": ROOT / "tests/nlu/heldout_zh.yml", "en": ROOT / "tests/nlu/heldout_en.yml"}
# Written by the NLU engineer after tuning on the held-out sets; never looked at while
# tuning bot/guardian/topics.py either: the honest estimate.
BLIND = {"zh": ROOT / "tests/nlu/blind_zh.yml", "en": ROOT / "tests/nlu/blind_en.yml"}
# v2, written by someone who never saw data/nlu (2026-12-03)
BLIND2 = {"zh": ROOT / "tests/nlu/blind2_zh.yml", "en": ROOT / "tests/nlu/blind2_en.yml"}
# v3, written the same way in session 4; first scored on the linear classifier
BLIND3 = {"zh": ROOT / "tests/nlu/blind3_zh.yml", "en": ROOT / "tests/nlu/blind3_en.yml"}
# v4, the same way in session 5
BLIND4 = {"zh": ROOT / "tests/nlu/blind4_zh.yml", "en": ROOT / "tests/nlu/blind4_en.yml"}
FOLLOWUPS = ROOT / "tests/nlu/followups.yml"
STAY_ON_TOPIC = ("follow_up_question", "tell_more")
BAR = 0.85


def examples(path: Path, prefix: str = "") -> list[tuple[str, str]]:
    """(intent, text) pairs of a Rasa NLU YAML file, for intents starting with `prefix`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in data.get("nlu") or []:
        intent = block.get("intent") or ""
        if not intent.startswith(prefix):
            continue
        for line in (block.get("examples") or "").splitlines():
            text = line.strip()
            if text.startswith("- "):
                pairs.append((intent, text[2:].strip()))
    return pairs


def selector_ranking(parse: dict[str, Any]) -> list[tuple[str, float]]:
    return topics.ranking_from_selector(
        (parse.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    )


def routed_topic(parse: dict[str, Any]) -> str | None:
    """The topic the bot answers a guardian with (as the actions pick it: an ask_caregiving
    message, or one rerouted from a child's intent, topics.guardian_topic), or None when
    the message does not reach a caregiving answer at all."""
    intent = (parse.get("intent") or {}).get("name")
    return topics.guardian_topic(intent, selector_ranking(parse), parse.get("text") or "")


def model_topic(parse: dict[str, Any]) -> str | None:
    """The model alone: intent, then the selector's top topic (no topic words)."""
    if (parse.get("intent") or {}).get("name") != RETRIEVAL_INTENT:
        return None
    ranking = selector_ranking(parse)
    return ranking[0][0] if ranking else None


def stays_on_topic(parse: dict[str, Any]) -> bool:
    """After a caregiving answer, does this message get a follow-up on the same topic?
    (rules: follow_up_question / tell_more always; unclear or ask_help, or a caregiving
    "question" naming no other topic, when it reads like a follow-up)."""
    intent = (parse.get("intent") or {}).get("name")
    if intent in STAY_ON_TOPIC:
        return True
    if intent not in ("nlu_fallback", "ask_help", RETRIEVAL_INTENT):
        return False
    text = parse.get("text") or ""
    return topics.has_follow_up_cue(text) and not topics.word_hits(text)


def score(rows: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    rows = list(rows)
    per_topic: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter[str] = Counter()
    for gold, predicted in rows:
        per_topic[gold][1] += 1
        if predicted == gold:
            per_topic[gold][0] += 1
        else:
            confusions[f"{gold} -> {predicted}"] += 1
    correct = sum(ok for ok, _ in per_topic.values())
    return {
        "n": len(rows),
        "accuracy": round(correct / len(rows), 4) if rows else None,
        "per_topic": {t: round(ok / n, 2) for t, (ok, n) in sorted(per_topic.items())},
        "confusions": dict(confusions.most_common(15)),
    }


async def _parse_all(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    return [await agent.parse_message(text) for text in texts]


def evaluate(model: str) -> dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    report: dict[str, Any] = {"model": model, "bar": BAR}
    sets = {lang: path for lang, path in HELDOUT.items()}
    blinds = (("blind", BLIND), ("blind2", BLIND2), ("blind3", BLIND3), ("blind4", BLIND4))
    for name, paths in blinds:
        sets.update({f"{name}_{lang}": path for lang, path in paths.items() if path.exists()})
    for lang, path in sets.items():
        pairs = examples(path, RETRIEVAL_INTENT + "/")
        parses = asyncio.run(_parse_all(agent, [text for _, text in pairs]))
        golds = [topic_from_key(gold) for gold, _ in pairs]
        report[lang] = score(zip(golds, map(routed_topic, parses), strict=True))
        report[lang]["model_only"] = score(zip(golds, map(model_topic, parses), strict=True))[
            "accuracy"]
        top1 = [(r[0][0] if r else None) for r in map(selector_ranking, parses)]
        report[lang]["selector_top1"] = score(zip(golds, top1, strict=True))["accuracy"]
        intents = Counter((p.get("intent") or {}).get("name") for p in parses)
        report[lang]["not_ask_caregiving"] = {
            k: v for k, v in intents.most_common() if k != RETRIEVAL_INTENT}
    follow = examples(FOLLOWUPS)
    parses = asyncio.run(_parse_all(agent, [text for _, text in follow]))
    stayed = [stays_on_topic(p) for p in parses]
    report["followups"] = {
        "n": len(stayed),
        "stay_on_topic": round(sum(stayed) / len(stayed), 4) if stayed else None,
        "intent_only": round(sum((p.get("intent") or {}).get("name") in STAY_ON_TOPIC
                                 for p in parses) / len(parses), 4) if parses else None,
        "missed": [
            f"{text} -> {(p.get('intent') or {}).get('name')}"
            for (_, text), ok, p in zip(follow, stayed, parses, strict=True)
            if not ok
        ][:20],
    }
    return report


def _quiet() -> None:
    """Rasa logs every parse at debug level to stdout; the report must stay clean JSON."""
    import logging

    import structlog

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a trained Rasa model (.tar.gz)")
    args = parser.parse_args(argv)
    _quiet()
    report = evaluate(args.model)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    ok = all((report[name]["accuracy"] or 0) >= BAR
             for name in report if name in HELDOUT or name.startswith("blind"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
