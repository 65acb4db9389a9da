"""Metrics helpers, the dev set's shape and the bars it must meet."""

import json
import math
from pathlib import Path

import pytest

from bot.safety import CATEGORIES, SEVERITIES, Detection, bench
from bot.safety import eval as ev
from bot.safety._data import DATA_DIR
from bot.safety.normalize import canonical
from bot.safety.semantic import BANK_FILE, parse_bank

HERE = Path(__file__).parent
DEV = HERE / "devset.jsonl"
# the held-out sets (v1-v6 are folded into the dev set): v7, v8 scored once in session 4,
# v9-v11 in session 5, v12-v14 in session 6, v15-v20 in session 7, one to three a session
# since (v29 in session 11; v37, then v35, v36 and v38 in session 14); first contacts in src/
BLINDS = [HERE / f"blind_v{v}.jsonl" for v in range(7, 243)]


def test_wilson_known_values():
    lo, hi = ev.wilson(0, 10)
    assert lo == 0.0 and math.isclose(hi, 0.2775, abs_tol=1e-3)
    lo, hi = ev.wilson(10, 10)
    assert math.isclose(lo, 0.7225, abs_tol=1e-3) and hi == 1.0
    lo, hi = ev.wilson(50, 100)
    assert math.isclose(lo, 0.4038, abs_tol=1e-3) and math.isclose(hi, 0.5962, abs_tol=1e-3)
    assert ev.wilson(0, 0) == (0.0, 1.0)


def test_metrics_pure():
    rows = [{"escalate": True, "category": "suicide", "severity": "high"},
            {"escalate": True, "category": "abuse", "severity": "high"},
            {"escalate": False, "category": None, "severity": None},
            {"escalate": False, "category": None, "severity": None}]
    preds = [Detection(True, "suicide", "high"), Detection(False, None, None),
             Detection(True, "abuse", "medium"), Detection(False, None, None)]
    m = ev.metrics(rows, preds)
    assert (m.recall.k, m.recall.n) == (1, 2)
    assert (m.false_alarm.k, m.false_alarm.n) == (1, 2)
    assert m.by_category["suicide"].value == 1.0 and m.by_category["abuse"].value == 0.0
    assert (m.category_accuracy.k, m.category_accuracy.n) == (1, 1)
    assert ev.failures(m)
    assert ev.percentile([1, 2, 3, 4], 50) == 2 and ev.percentile([1, 2, 3, 4], 100) == 4


def _rows(path: Path) -> list[dict]:
    return ev.load([str(path)])


@pytest.mark.parametrize("path,minimum,neg_share",
                         [(DEV, 500, 0.4)] + [(path, 300, 0.45) for path in BLINDS])
def test_set_shape(path, minimum, neg_share):
    if not path.exists():
        pytest.skip(f"{path.name} not written yet")
    rows = _rows(path)
    assert len(rows) >= minimum
    keys = {"text", "role", "lang", "escalate", "category", "severity", "note"}
    assert all(set(r) == keys for r in rows)
    pos = [r for r in rows if r["escalate"]]
    assert len(rows) - len(pos) >= neg_share * len(rows), "enough hard negatives"
    assert {r["category"] for r in pos} == set(CATEGORIES)
    assert {r["severity"] for r in pos} == set(SEVERITIES)
    assert all(r["category"] is None and r["severity"] is None for r in rows if not r["escalate"])
    assert {r["lang"] for r in rows} == {"zh", "en"}
    assert {r["role"] for r in rows} == {"child", "guardian"}
    texts = [r["text"] for r in rows]
    assert len(set(texts)) == len(texts), "duplicate messages"


def test_everyday_bank_is_everyday_and_kept_apart_from_the_blind_sets():
    """tests/safety/everyday.jsonl trains the classifier: only everyday messages, from
    both roles in both languages, none near a blind set (build_set.py --exclude-near when
    it is built, --prune-dev when a blind set is)."""
    from bot.safety.classifier import EVERYDAY_FILE, REPO
    from tests.safety.build_set import drop_near

    rows = _rows(REPO / EVERYDAY_FILE)
    assert len(rows) >= 1500 and not any(r["escalate"] for r in rows)
    assert {(r["role"], r["lang"]) for r in rows} == {
        (role, lang) for role in ("child", "guardian") for lang in ("zh", "en")}
    blind = [r for path in BLINDS for r in _rows(path)]
    kept = drop_near(blind, rows)
    assert len(kept) == len(blind), "blind lines near the everyday bank"


def test_folded_sets_stay_apart_from_the_newer_blinds():
    """The classifier trains on FOLDED_SETS; a blind set scored after them holds no line
    near one of theirs (build_set.py --exclude-near), or its first contact would flatter."""
    from bot.safety.classifier import FOLDED_SETS, REPO
    from tests.safety.build_set import drop_near

    def version(path: Path) -> int:
        return int(path.stem.removeprefix("blind_v"))

    folded = [REPO / name for name in FOLDED_SETS]
    last = max(map(version, folded))
    newer = [r for path in BLINDS if version(path) > last for r in _rows(path)]
    kept = drop_near(newer, [r for path in folded for r in _rows(path)])
    assert len(kept) == len(newer), "newer blind lines near a folded set"


def test_bank_does_not_contain_evaluation_messages():
    bank = {canonical(t) for _, _, t in parse_bank((DATA_DIR / BANK_FILE).read_text("utf-8"))}
    for path in (DEV, *BLINDS):
        if path.exists():
            leaked = [r["text"] for r in _rows(path) if canonical(r["text"]) in bank]
            assert not leaked, f"{path.name} texts in the bank: {leaked[:5]}"


def test_dev_set_meets_the_bars():
    from bot.safety.detector import analyse

    rows = _rows(DEV)
    preds, _ = ev.run(rows, lambda t, r: analyse(t, r))
    m = ev.metrics(rows, preds)
    assert not ev.failures(m), (ev.failures(m), m.misses[:5], m.false_alarms[:5])


def test_eval_cli_exit_code(capsys, tmp_path):
    rows = _rows(DEV)
    small = tmp_path / "small.jsonl"
    pick = [r for r in rows if r["escalate"]][:40:4] + [r for r in rows if not r["escalate"]][:40:4]
    small.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pick), "utf-8")
    assert ev.main([str(small)]) == 0
    out = capsys.readouterr().out
    assert "lexicon only" in out and "recall suicide" in out and "p95" in out
    bad = tmp_path / "bad.jsonl"
    miss = dict(pick[0], text="今天天气不错")
    bad.write_text(json.dumps(miss, ensure_ascii=False) + "\n", "utf-8")
    assert ev.main([str(bad)]) == 1


def test_bench_sanity():
    r = bench.run(200)
    assert set(r) >= {"p50_ms", "p95_ms", "p99_ms", "n"}
    assert r["p95_ms"] < 200  # loose: real numbers come from `make bench`


def test_bank_embedding_cache_is_fresh():
    """bank.npz must match bank.txt, or the first load re-embeds (> 2 s)."""
    import hashlib

    import numpy as np

    from bot.safety.semantic import CACHE_FILE, MODEL_TAG

    raw = (DATA_DIR / BANK_FILE).read_text(encoding="utf-8")
    digest = hashlib.sha1((MODEL_TAG + raw).encode("utf-8")).hexdigest()
    with np.load(DATA_DIR / CACHE_FILE, allow_pickle=False) as z:
        hint = "re-embed: python -c 'from bot.safety import warmup; warmup()'"
        assert str(z["digest"]) == digest, hint
        assert z["emb"].shape == (len(parse_bank(raw)), 512)


def test_startup_uses_the_caches():
    """A fresh process starts from the committed caches: the bank is not re-embedded and
    the classifier loads (how long that takes is `make bench`'s load_s, not a test)."""
    import subprocess
    import sys

    code = ("from bot.safety import semantic, classifier, warmup\n"
            "n = [0]\n"
            "raw = semantic._Model.encode\n"
            "def counting(self, texts):\n"
            "    n[0] += len(texts)\n"
            "    return raw(self, texts)\n"
            "semantic._Model.encode = counting\n"
            "warmup()\n"
            "print(n[0], classifier.model() is not None, len(semantic.bank().texts))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=HERE.parents[1], timeout=120, check=True)
    encoded, loaded, bank_size = out.stdout.strip().splitlines()[-1].split()
    assert loaded == "True"
    assert int(bank_size) > 100 and int(encoded) <= 2, (encoded, bank_size)
