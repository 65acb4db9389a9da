"""The cross-validation tool's pure parts (the full run trains five classifiers)."""

from collections import Counter

from bot.safety import tune
from bot.safety.classifier import Example


def test_grid_is_every_combination() -> None:
    grid = tune.parse_grid(["T_RISK_HIGH=0.5,0.6", "T_RISK_HINT=0.3"])
    assert grid == [(("T_RISK_HIGH", 0.5), ("T_RISK_HINT", 0.3)),
                    (("T_RISK_HIGH", 0.6), ("T_RISK_HINT", 0.3))]
    assert tune._label(grid[0]) == "high=0.5 hint=0.3"


def test_folds_cover_dev_and_nlu_rows_stratified_and_keep_the_bank_training() -> None:
    ex = ([Example(f"d{i}", "suicide", "dev") for i in range(10)]
          + [Example(f"n{i}", "negative", "feelings.yml") for i in range(10)]
          + [Example(f"b{i}", "suicide", "bank") for i in range(3)])
    fold = tune._folds(ex, 5)
    assert all(f == -1 for f, e in zip(fold, ex, strict=True) if e.source == "bank")
    per_fold = Counter((f, e.label) for f, e in zip(fold, ex, strict=True) if f >= 0)
    assert all(per_fold[(f, lab)] == 2 for f in range(5) for lab in ("suicide", "negative"))
