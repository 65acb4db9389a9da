"""Detector latency benchmark: `bot.safety.bench.run(n)` (used by `make bench`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .eval import percentile

_SAMPLES = [
    "我不想活了", "今天作业好多，累死了", "那个叔叔老让我去他家看手机还摸我",
    "I miss my mom", "wo bu xiang huo le", "奶奶躺地上叫不醒",
    "我想去广州找我妈明天就走", "孩子不爱吃饭怎么办",
]


def _texts() -> list[str]:
    dev = Path(__file__).resolve().parents[2] / "tests" / "safety" / "devset.jsonl"
    try:
        rows = [json.loads(x) for x in dev.read_text(encoding="utf-8").splitlines() if x.strip()]
        return [r["text"] for r in rows] or _SAMPLES
    except (OSError, ValueError):
        return _SAMPLES


def run(n: int = 1000) -> dict:
    """Time `detect` on n messages (after loading); milliseconds."""
    from . import detect, warmup

    t0 = time.perf_counter()
    warmup()
    load_s = time.perf_counter() - t0
    texts = _texts()
    times = []
    for i in range(max(1, n)):
        t = time.perf_counter()
        detect(texts[i % len(texts)], None)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "n": len(times), "load_s": round(load_s, 3),
        "p50_ms": round(percentile(times, 50), 3), "p95_ms": round(percentile(times, 95), 3),
        "p99_ms": round(percentile(times, 99), 3), "mean_ms": round(sum(times) / len(times), 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
