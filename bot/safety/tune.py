"""Cross-validate the whole detector with the classifier retrained per fold.

    python -m bot.safety.tune [--folds 5] [--focus JSONL...] [NAME=v1,v2,... ...]

The classifier is trained on the dev set and the NLU examples, so scoring the detector on
them with the shipped cache is in-sample and flatters it. Here the dev set and the NLU
everyday examples are split into folds; each fold is scored by a classifier trained
without it (the bank and the probes always train). Every grid point of detector
constants (T_RISK_HIGH, T_RISK_HINT, T_RISK_FRAMED, ...) prints out-of-fold recall per
category and false alarms, so they are chosen on messages the classifier did not see.
Build time only (needs scikit-learn); takes a few minutes.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import random
from collections import defaultdict
from typing import Sequence

import numpy as np

from . import classifier as clf
from . import detector, semantic
from .types import CATEGORIES

CV_SOURCES = {"dev"}  # plus every NLU file (the everyday messages)


def _memoise_encoder() -> None:
    """Each message is encoded once across folds and grid points."""
    m = semantic.model()
    if getattr(m, "memo", None) is not None:
        return
    raw = m.encode
    m.memo = {}

    @functools.wraps(raw)
    def encode(texts: list[str]) -> np.ndarray:
        key = tuple(texts)
        if key not in m.memo:
            m.memo[key] = raw(list(texts))
        return m.memo[key]

    m.encode = encode


def _folds(ex: Sequence[clf.Example], k: int, seed: int = 7) -> list[int]:
    """Fold per example (-1 = always trains), stratified by label."""
    fold = [-1] * len(ex)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(ex):
        if e.source in CV_SOURCES or e.source.endswith(".yml"):
            by_label[e.label].append(i)
    rng = random.Random(seed)
    for idx in by_label.values():
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


Point = tuple[tuple[str, float], ...]


def _grid_scores(ex: Sequence[clf.Example], fold: list[int], grid: list[Point],
                 k: int, explain: dict[int, str] | None = None) -> dict[Point, list[bool]]:
    """Out-of-fold escalation decision per example and grid point; `explain` collects
    the first grid point's signals for every wrong decision."""
    masked, emb = clf.example_features(ex)
    y = np.array([clf.LABELS.index(e.label) for e in ex])
    out = {g: [False] * len(ex) for g in grid}
    for f in range(k):
        train = [i for i in range(len(ex)) if fold[i] != f]
        test = [i for i in range(len(ex)) if fold[i] == f and ex[i].source != clf.SENTENCE]
        model = clf.from_arrays(clf.fit([masked[i] for i in train], emb[train], y[train],
                                        clf.weights([ex[i] for i in train])))
        with clf.use(model):
            for g in grid:
                for name, value in g:
                    setattr(detector, name, value)
                for i in test:
                    d = detector.analyse(ex[i].text)
                    out[g][i] = d.escalate
                    if explain is not None and g == grid[0] and d.escalate != (
                            ex[i].label != "negative"):
                        explain[i] = "; ".join(f"{s.category}:{s.score:.2f} {s.evidence}"
                                               for s in d.signals[:4])
        print(f"fold {f + 1}/{k} done", flush=True)
    return out


def _report(ex: Sequence[clf.Example], fold: list[int],
            decisions: dict[Point, list[bool]],
            only: set[str] | None = None) -> None:
    scored = [i for i in range(len(ex)) if fold[i] >= 0 and ex[i].source != clf.SENTENCE
              and (only is None or ex[i].text in only)]
    dev_neg = [i for i in scored if ex[i].label == "negative" and ex[i].source == "dev"]
    nlu_neg = [i for i in scored if ex[i].label == "negative" and ex[i].source != "dev"]
    pos = [i for i in scored if ex[i].label != "negative"]
    width = max(len(_label(g)) for g in decisions)
    head = f"{'point':<{width}}  recall " + " ".join(f"{c[:7]:>7}" for c in CATEGORIES)
    print(f"{head}  FA-dev  FA-nlu   (n pos {len(pos)}, dev neg {len(dev_neg)}, "
          f"nlu neg {len(nlu_neg)})")
    for g, dec in decisions.items():
        def rate(idx: list[int], dec: list[bool] = dec) -> float:
            return sum(dec[i] for i in idx) / max(len(idx), 1)
        cats = " ".join(f"{rate([i for i in pos if ex[i].label == c]):7.3f}" for c in CATEGORIES)
        print(f"{_label(g):<{width}}  {rate(pos):.3f}  {cats}  {rate(dev_neg):.3f}  "
              f"{rate(nlu_neg):.3f}")


def _label(g: Point) -> str:
    return " ".join(f"{name.removeprefix('T_RISK_').lower()}={value:g}" for name, value in g)


def parse_grid(spec: Sequence[str]) -> list[Point]:
    """["T_RISK_HIGH=0.6,0.7", "T_RISK_HINT=0.4"] -> every combination."""
    axes = []
    for item in spec:
        name, values = item.split("=", 1)
        axes.append([(name, float(v)) for v in values.split(",")])
    return [tuple(p) for p in itertools.product(*axes)]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.safety.tune", description=__doc__)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("grid", nargs="*", default=["T_RISK_HIGH=0.6,0.7,0.8,0.9", "T_RISK_HINT=0.4"],
                    help="detector constants to sweep, NAME=v1,v2,... (every combination)")
    ap.add_argument("--explain", action="store_true",
                    help="list the first grid point's misses and false alarms (focus rows)")
    ap.add_argument("--focus", nargs="*", default=[], metavar="JSONL",
                    help="also report the dev rows that came from these files (a batch the "
                         "lexicon and bank were not tuned on: the fairest estimate)")
    args = ap.parse_args(argv)
    grid = parse_grid(args.grid)
    _memoise_encoder()
    ex = clf.training_examples()
    fold = _folds(ex, args.folds)
    for parent, sentence in clf.sentence_negatives(ex):  # train with their message's fold
        ex.append(sentence)
        fold.append(fold[parent])
    explain: dict[int, str] = {}
    decisions = _grid_scores(ex, fold, grid, args.folds, explain if args.explain else None)
    print("all dev rows and NLU examples, out of fold:")
    _report(ex, fold, decisions)
    print(f"\nlong messages only ({detector.LONG_CHARS}+ characters):")
    _report(ex, fold, decisions, {e.text for e in ex if len(e.text) >= detector.LONG_CHARS})
    if args.focus:
        from .eval import load

        only = {r["text"] for r in load(args.focus)}
        print(f"\nonly the rows from {', '.join(args.focus)}:")
        _report(ex, fold, decisions, only | {e.text for e in ex if e.source.endswith(".yml")})
        for i, why in sorted(explain.items(), key=lambda kv: ex[kv[0]].label):
            if ex[i].text in only:
                kind = "MISS" if ex[i].label != "negative" else "FA  "
                print(f"{kind} {ex[i].label:<12} {ex[i].text}  <- {why or 'no signal'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
