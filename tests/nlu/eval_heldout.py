"""Evaluate a trained model on the held-out NLU sets (not a pytest module).

Sets: heldout_zh/heldout_en (tuned against), blind_zh/blind_en (written after tuning),
blind2_zh/blind2_en (v2: written 2026-12-03 by someone who never saw data/nlu),
blind3_zh/blind3_en (v3: the same way, session 4; first scored on the linear classifier),
blind4_zh/blind4_en (v4: the same way, session 5).

    .venv/bin/python tests/nlu/eval_heldout.py MODEL.tar.gz [--json out.json] [--errors]

Loads the model once and parses every held-out example. Reports per language:
  intent_acc    top-level intent (ask_caregiving/* counted as ask_caregiving), as `rasa test nlu`
  full_acc      intent with the retrieval key (ask_caregiving/<topic> must match the topic)
  macro_f1      macro F1 over full labels
  retrieval_acc topic accuracy on the ask_caregiving examples only (issue 5 bar)
  raw_*         the same before the RiskDetector (original_intent): classifier vs. detector
plus the most frequent confusions, and follow-up staying on topic (tests/nlu/followups.yml).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from test_data_contract import HELDOUT_SETS, language, load_nlu  # noqa: E402

FOLLOW_OK = {"follow_up_question", "tell_more"}


def full_label(parse: dict, raw: bool = False) -> str:
    intent = (parse.get("intent") or {}).get("name") or "None"
    if raw:
        risk = parse.get("risk") or {}
        original = risk.get("original_intent")
        if original:
            intent = original.get("name") if isinstance(original, dict) else str(original)
    if intent == "ask_caregiving":
        sel = (parse.get("response_selector") or {}).get("ask_caregiving") or {}
        key = (sel.get("response") or {}).get("intent_response_key")
        return key or "ask_caregiving/?"
    return intent


def macro_f1(gold: list[str], pred: list[str]) -> float:
    labels = sorted(set(gold))
    f1s = []
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=False) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred, strict=False) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred, strict=False) if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def top(label: str) -> str:
    return label.split("/")[0]


def metrics(rows: list[tuple[str, str]]) -> dict:
    gold = [g for g, _ in rows]
    pred = [p for _, p in rows]
    n = len(rows)
    care = [(g, p) for g, p in rows if g.startswith("ask_caregiving/")]
    return {
        "n": n,
        "intent_acc": round(sum(top(g) == top(p) for g, p in rows) / n, 4),
        "full_acc": round(sum(g == p for g, p in rows) / n, 4),
        "macro_f1": round(macro_f1(gold, pred), 4),
        "retrieval_acc": round(sum(g == p for g, p in care) / len(care), 4) if care else None,
    }


async def parse_all(model: str, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [await agent.parse_message(t) for t in texts]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--json")
    ap.add_argument("--errors", action="store_true", help="print every misclassified example")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:  # rasa logs every parse at debug level through structlog
        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    except Exception:  # pragma: no cover
        pass

    sets = {name: load_nlu(path) for name, path in HELDOUT_SETS.items()}
    items = [(name, intent, text) for name, rows in sets.items() for intent, text, _ in rows]
    parses = asyncio.run(parse_all(args.model, [t for _, _, t in items]))

    report: dict = {}
    confusions: Counter = Counter()
    errors = []
    for name in (n for n in sets if n != "followups"):
        final, raw = [], []
        for (set_name, gold, text), parse in zip(items, parses, strict=False):
            if set_name != name or language(text) not in (name[-2:], None):
                continue
            p, r = full_label(parse), full_label(parse, raw=True)
            final.append((gold, p))
            raw.append((gold, r))
            if p != gold:
                confusions[(gold, p)] += 1
                conf = (parse.get("intent") or {}).get("confidence") or 0.0
                errors.append(f"[{name}] {gold:36s} -> {p:36s} {conf:.2f}  {text}")
        report[name] = metrics(final)
        report[name].update({f"raw_{k}": v for k, v in metrics(raw).items() if k != "n"})
    fu = [
        (g, full_label(p)) for (s, g, _), p in zip(items, parses, strict=False) if s == "followups"
    ]
    report["followups_on_topic"] = round(sum(p in FOLLOW_OK for _, p in fu) / len(fu), 4)
    report["followups_exact"] = round(sum(g == p for g, p in fu) / len(fu), 4)
    report["top_confusions"] = [f"{g} -> {p} x{c}" for (g, p), c in confusions.most_common(25)]

    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.errors:
        print("\n".join(errors))
        for (s, g, t), p in zip(items, parses, strict=False):
            if s == "followups" and full_label(p) not in FOLLOW_OK:
                print(f"[followup] {g} -> {full_label(p)}  {t}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
