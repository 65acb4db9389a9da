"""`bot.console.bench.run()` works (a small run; `make bench` does the 10,000-case one)."""

from __future__ import annotations

from bot.console import bench


def test_bench_small_run(env: str) -> None:
    result = bench.run(cases=300, requests=10)
    assert result["cases"] == 300
    for role in ("admin", "supervisor", "social_worker"):
        for page in ("queue", "case", "queue_random_page", "events_poll"):
            assert result[role][page]["p95_ms"] > 0
    assert result["admin"]["visible_cases"] == 300
    assert 0 < result["social_worker"]["visible_cases"] < 300
    assert isinstance(result["pass"], bool)
