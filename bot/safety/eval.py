"""`python -m bot.safety.eval [FILES...]`: recall, false alarms, Wilson intervals.

Compares the full detector with the lexicon alone and times the detector.
Exits 1 when the dev-set bars fail: recall < 1.0 for suicide or sexual_abuse,
overall recall < 0.97, or false alarms > 5 %.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .types import CATEGORIES, SEVERITIES, Detection

DEFAULT_FILES = ("tests/safety/devset.jsonl",)
BARS = {"recall": 0.97, "false_alarm": 0.05, "must_be_perfect": ("suicide", "sexual_abuse")}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (95 % by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Rate:
    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else float("nan")

    @property
    def ci(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def fmt(self) -> str:
        if not self.n:
            return "      n/a          "
        lo, hi = self.ci
        return f"{self.value:5.3f} [{lo:.2f},{hi:.2f}] {self.k:>3}/{self.n:<3}"


@dataclass
class Metrics:
    recall: Rate
    false_alarm: Rate
    category_accuracy: Rate
    severity_accuracy: Rate
    by_category: dict[str, Rate] = field(default_factory=dict)
    by_severity: dict[str, Rate] = field(default_factory=dict)
    misses: list[dict] = field(default_factory=list)
    false_alarms: list[dict] = field(default_factory=list)


def metrics(rows: Sequence[dict], preds: Sequence[Detection]) -> Metrics:
    """Pure: gold rows (escalate/category/severity) against detections."""
    pos = [(r, d) for r, d in zip(rows, preds, strict=True) if r["escalate"]]
    neg = [(r, d) for r, d in zip(rows, preds, strict=True) if not r["escalate"]]
    hits = [(r, d) for r, d in pos if d.escalate]
    by_cat = {c: _recall([p for p in pos if p[0]["category"] == c]) for c in CATEGORIES}
    by_sev = {s: _recall([p for p in pos if p[0]["severity"] == s]) for s in SEVERITIES}
    return Metrics(
        recall=_recall(pos),
        false_alarm=Rate(sum(d.escalate for _, d in neg), len(neg)),
        category_accuracy=Rate(sum(d.category == r["category"] for r, d in hits), len(hits)),
        severity_accuracy=Rate(sum(d.severity == r["severity"] for r, d in hits), len(hits)),
        by_category=by_cat, by_severity=by_sev,
        misses=[r for r, d in pos if not d.escalate],
        false_alarms=[dict(r, got=d.category, evidence=d.evidence) for r, d in neg if d.escalate],
    )


def _recall(pairs: Iterable[tuple[dict, Detection]]) -> Rate:
    pairs = list(pairs)
    return Rate(sum(d.escalate for _, d in pairs), len(pairs))


def failures(m: Metrics) -> list[str]:
    out = []
    for c in BARS["must_be_perfect"]:
        r = m.by_category.get(c)
        if r and r.n and r.k < r.n:
            out.append(f"recall for {c} {r.value:.3f} < 1.0")
    if m.recall.n and m.recall.value < BARS["recall"]:
        out.append(f"overall recall {m.recall.value:.3f} < {BARS['recall']}")
    if m.false_alarm.n and m.false_alarm.value > BARS["false_alarm"]:
        out.append(f"false alarms {m.false_alarm.value:.3f} > {BARS['false_alarm']}")
    return out


def load(paths: Iterable[str]) -> list[dict]:
    rows = []
    for p in paths:
        for line in Path(p).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


Detector = Callable[[str, "str | None"], Detection]


def run(rows: Sequence[dict], fn: Detector) -> tuple[list[Detection], list[float]]:
    preds, times = [], []
    for r in rows:
        t = time.perf_counter()
        preds.append(fn(r["text"], r.get("role")))
        times.append((time.perf_counter() - t) * 1000)
    return preds, times


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    i = min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))
    return s[i]


def table(full: Metrics, lex: Metrics) -> str:
    lines = [f"{'':24}{'full detector':<28}{'lexicon only':<28}"]

    def row(name: str, a: Rate, b: Rate) -> None:
        lines.append(f"{name:24}{a.fmt():<28}{b.fmt():<28}")

    row("recall (all)", full.recall, lex.recall)
    for c in CATEGORIES:
        row(f"  recall {c}", full.by_category[c], lex.by_category[c])
    for s in SEVERITIES:
        row(f"  recall sev={s}", full.by_severity[s], lex.by_severity[s])
    row("false alarms (neg)", full.false_alarm, lex.false_alarm)
    row("category acc (hits)", full.category_accuracy, lex.category_accuracy)
    row("severity acc (hits)", full.severity_accuracy, lex.severity_accuracy)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.safety.eval", description=__doc__)
    ap.add_argument("files", nargs="*", default=list(DEFAULT_FILES))
    ap.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms")
    ap.add_argument("--no-bars", action="store_true", help="report only, always exit 0")
    args = ap.parse_args(argv)

    from .detector import analyse, warmup

    t0 = time.perf_counter()
    warmup()
    load_s = time.perf_counter() - t0
    rows = load(args.files)
    preds, times = run(rows, lambda t, r: analyse(t, r))
    lex_preds, lex_times = run(rows, lambda t, r: analyse(t, r, semantic=False))
    full, lex = metrics(rows, preds), metrics(rows, lex_preds)

    n_pos = sum(r["escalate"] for r in rows)
    print(f"files: {', '.join(args.files)}  messages: {len(rows)} ({n_pos} disclosures, "
          f"{len(rows) - n_pos} negatives)   rate [Wilson 95 %] k/n")
    print(table(full, lex))
    print(f"detector time per message: p50 {percentile(times, 50):.2f} ms, "
          f"p95 {percentile(times, 95):.2f} ms (lexicon only p95 "
          f"{percentile(lex_times, 95):.2f} ms); first load {load_s:.2f} s")
    if args.verbose:
        for r in full.misses:
            print(f"MISS  {r['category']:<12} {r['severity']:<8} {r['text']}")
        for r in full.false_alarms:
            print(f"FA    {r['got']:<12} {r['text']}  {r['evidence'][:2]}")
    bad = failures(full)
    for b in bad:
        print(f"FAIL: {b}")
    if not bad:
        print("PASS: recall and false-alarm bars met")
    return 0 if args.no_bars or not bad else 1


if __name__ == "__main__":
    sys.exit(main())
