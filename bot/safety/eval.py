"""`python -m bot.safety.eval [FILES] [--report FILES]`: recall, false alarms, Wilson intervals.

Compares the full detector (lexicon + encoder + classifier) with the detector without
the classifier and with the lexicon alone, and times the detector. Exits 1 when the bars
fail on FILES: recall < 1.0 for suicide or sexual_abuse, overall recall < 0.97, or false
alarms > 5 %. `--report` files (held-out sets) are printed one by one and never fail
the run; `--no-bars` makes FILES report-only too.

Files are JSON lines (`text role escalate category severity`) or Rasa NLU YAML: every
example of an everyday intent counts as an everyday message unless
tests/safety/nlu_labels.tsv labels it a disclosure (a category) or ambiguous (`?`,
left out); `risk_disclosure` examples are left out.
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


NLU_LABELS = Path(__file__).resolve().parents[2] / "tests" / "safety" / "nlu_labels.tsv"


def load(paths: Iterable[str]) -> list[dict]:
    rows = []
    for p in paths:
        if p.endswith((".yml", ".yaml")):
            rows += load_nlu(Path(p))
            continue
        for line in Path(p).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def load_nlu(path: Path, labels_file: Path = NLU_LABELS) -> list[dict]:
    """Rasa NLU examples as evaluation rows (see the module doc)."""
    from .classifier import _nlu_examples, nlu_labels

    labels = nlu_labels(labels_file)
    out = []
    for ex in _nlu_examples([path], labels):
        pos = ex.label != "negative"
        out.append({"text": ex.text, "role": None, "escalate": pos,
                    "category": ex.label if pos else None,
                    "severity": "high" if pos else None, "note": path.name})
    return out


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


def table(full: Metrics, *others: tuple[str, Metrics]) -> str:
    cols = [("full detector", full), *others]
    lines = [f"{'':24}" + "".join(f"{name:<28}" for name, _ in cols)]

    def row(name: str, pick: Callable[[Metrics], Rate]) -> None:
        lines.append(f"{name:24}" + "".join(f"{pick(m).fmt():<28}" for _, m in cols))

    row("recall (all)", lambda m: m.recall)
    for c in CATEGORIES:
        if full.by_category[c].n:
            row(f"  recall {c}", lambda m, c=c: m.by_category[c])
    for sv in SEVERITIES:
        if full.by_severity[sv].n:
            row(f"  recall sev={sv}", lambda m, sv=sv: m.by_severity[sv])
    row("false alarms (neg)", lambda m: m.false_alarm)
    if full.category_accuracy.n:
        row("category acc (hits)", lambda m: m.category_accuracy)
        row("severity acc (hits)", lambda m: m.severity_accuracy)
    return "\n".join(lines)


def report(files: Sequence[str], verbose: bool, label: str = "") -> tuple[Metrics, list[float]]:
    """Print one evaluation (three detector variants); the full metrics and timings."""
    from .detector import analyse

    rows = load(files)
    preds, times = run(rows, lambda t, r: analyse(t, r))
    no_clf, _ = run(rows, lambda t, r: analyse(t, r, classifier=False))
    lex_preds, lex_times = run(rows, lambda t, r: analyse(t, r, semantic=False))
    full = metrics(rows, preds)
    n_pos = sum(r["escalate"] for r in rows)
    print(f"files: {', '.join(files)}{label}  messages: {len(rows)} ({n_pos} disclosures, "
          f"{len(rows) - n_pos} negatives)   rate [Wilson 95 %] k/n")
    print(table(full, ("lexicon + encoder", metrics(rows, no_clf)),
                ("lexicon only", metrics(rows, lex_preds))))
    print(f"detector time per message: p50 {percentile(times, 50):.2f} ms, "
          f"p95 {percentile(times, 95):.2f} ms (lexicon only p95 "
          f"{percentile(lex_times, 95):.2f} ms)")
    if verbose:
        for r in full.misses:
            print(f"MISS  {r['category']:<12} {r['severity']:<8} {r['text']}")
        for r in full.false_alarms:
            print(f"FA    {r['got']:<12} {r['text']}  {r['evidence'][:2]}")
    return full, times


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.safety.eval", description=__doc__)
    ap.add_argument("files", nargs="*", default=list(DEFAULT_FILES))
    ap.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms")
    ap.add_argument("--no-bars", action="store_true", help="report only, always exit 0")
    ap.add_argument("--report", nargs="*", default=[], metavar="FILE",
                    help="held-out files, each printed on its own, never failing the run")
    args = ap.parse_args(argv)

    from .detector import warmup

    t0 = time.perf_counter()
    warmup()
    print(f"first load {time.perf_counter() - t0:.2f} s")
    full, _ = report(args.files, args.verbose, "" if not args.no_bars else " (no bars)")
    bad = failures(full)
    for b in bad:
        print(f"{'NOTE' if args.no_bars else 'FAIL'}: {b}")
    if not bad:
        print("PASS: recall and false-alarm bars met")
    for f in args.report:
        print()
        m, _ = report([f], args.verbose, " (held out: reported, no bars)")
        for b in failures(m):
            print(f"NOTE: {b}")
    return 0 if args.no_bars or not bad else 1


if __name__ == "__main__":
    sys.exit(main())
