"""Evaluate the trained model on held-out utterances: accuracy and per-intent F1 per file.

`python -m bot.nlu.evaluate --model models/peiban.tar.gz tests/nlu/heldout_zh.yml …`
Caregiving questions count as right only when the response selector picks the right topic
(`ask_caregiving/<topic>`). Exits non-zero when a file's accuracy is under the bar.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

BAR = 0.85
RETRIEVAL_INTENT = "ask_caregiving"


def expected_label(example: Any) -> str:
    return example.get("intent_response_key") or example.get("intent")


def predicted_label(parsed: dict[str, Any]) -> str:
    intent = (parsed.get("intent") or {}).get("name") or "None"
    if intent != RETRIEVAL_INTENT:
        return intent
    selector = (parsed.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    return (selector.get("response") or {}).get("intent_response_key") or intent


def f1_table(pairs: list[tuple[str, str]]) -> list[tuple[str, float, float, float, int]]:
    labels = sorted({e for e, _ in pairs})
    rows = []
    for label in labels:
        tp = sum(1 for e, p in pairs if e == label and p == label)
        fp = sum(1 for e, p in pairs if e != label and p == label)
        fn = sum(1 for e, p in pairs if e == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((label, precision, recall, f1, tp + fn))
    return rows


async def predict(agent: Any, texts: list[str]) -> list[dict[str, Any]]:
    return [await agent.parse_message(text) for text in texts]


def evaluate_file(path: Path, parsed: list[dict[str, Any]], examples: list[Any]) -> dict[str, Any]:
    pairs = [(expected_label(e), predicted_label(p)) for e, p in zip(examples, parsed, strict=True)]
    correct = sum(1 for e, p in pairs if e == p)
    confusions = Counter((e, p) for e, p in pairs if e != p).most_common(8)
    return {
        "file": str(path),
        "n": len(pairs),
        "accuracy": correct / len(pairs) if pairs else 0.0,
        "macro_f1": sum(r[3] for r in f1_table(pairs)) / max(1, len(f1_table(pairs))),
        "per_intent": f1_table(pairs),
        "confusions": confusions,
    }


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\n{report['file']}: n={report['n']}  accuracy={report['accuracy']:.3f}  "
        f"macro F1={report['macro_f1']:.3f}"
    )
    print(f"  {'intent':<36}{'prec':>6}{'rec':>6}{'F1':>6}{'n':>5}")
    for label, precision, recall, f1, support in report["per_intent"]:
        print(f"  {label:<36}{precision:>6.2f}{recall:>6.2f}{f1:>6.2f}{support:>5}")
    if report["confusions"]:
        print("  most frequent confusions (expected -> predicted):")
        for (expected, predicted), count in report["confusions"]:
            print(f"    {count:>3}  {expected} -> {predicted}")


def main(argv: list[str] | None = None) -> int:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data

    parser = argparse.ArgumentParser(prog="python -m bot.nlu.evaluate")
    parser.add_argument("--model", required=True)
    parser.add_argument("--bar", type=float, default=BAR)
    parser.add_argument("--strict", action="store_true", help="exit 1 when under the bar")
    parser.add_argument("--out", default="var/results/nlu_heldout.json")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    agent = Agent.load(args.model)
    reports = []
    for name in args.files:
        examples = load_data(name).intent_examples
        parsed = asyncio.run(predict(agent, [e.get("text") for e in examples]))
        reports.append(evaluate_file(Path(name), parsed, examples))
        print_report(reports[-1])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(reports, ensure_ascii=False, indent=1, default=list))
    failing = [r["file"] for r in reports if r["accuracy"] < args.bar]
    if failing:
        print(f"\nBELOW BAR: held-out accuracy under {args.bar}: {', '.join(failing)}")
        return 1 if args.strict else 0
    print(f"\nheld-out accuracy >= {args.bar} in every file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
