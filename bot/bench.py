"""`make bench`: latency, throughput, memory, training time, detector and alert costs.

Starts a real Rasa server and action server on free loopback ports with a throw-away
SQLite database, drives the REST channel at concurrency 1 and 20, then runs the
components' own benchmarks. Results go to a JSON file and are printed as a table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.config import ROOT

MESSAGES = [
    "你好",
    "我今天有点难过",
    "作业太多了，好烦",
    "我想妈妈了",
    "没人跟我玩",
    "教我一个放松的方法",
    "孩子老玩手机怎么办",
    "hello",
    "I feel lonely",
    "I'm bored",
    "what can you do?",
    "谢谢你",
    "我生气了",
    "明天考试好紧张",
    "孙子不爱吃饭咋办",
    "夏天孩子去河边玩水危险吗",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 50) * 1000, 1),
        "p95_ms": round(percentile(samples, 95) * 1000, 1),
        "p99_ms": round(percentile(samples, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(samples) * 1000, 1) if samples else float("nan"),
    }


async def _one(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
    return time.perf_counter() - started


async def drive(url: str, concurrency: int, total: int,
                conversation_turns: int = 0) -> dict[str, Any]:
    """`total` messages from `concurrency` simultaneous users, each user in order; a user
    starts a new conversation every `conversation_turns` messages (0: never)."""
    latencies: list[float] = []
    per_user = max(1, total // concurrency)

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        base = f"bench-{concurrency}-{index}-{time.time_ns()}"
        for turn in range(per_user):
            sender = f"{base}-{turn // conversation_turns}" if conversation_turns else base
            latencies.append(
                await _one(session, url, sender, MESSAGES[(index + turn) % len(MESSAGES)])
            )

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await _one(session, url, "bench-warmup", "你好")
        started = time.perf_counter()
        await asyncio.gather(*(user(i, session) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "conversation_turns": conversation_turns or per_user,
        "messages": len(latencies),
        "throughput_msg_s": round(len(latencies) / elapsed, 1),
        **summary_ms(latencies),
    }


def rss_mb(pid: int) -> float:
    total = 0
    for candidate in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def training_time(model: str) -> dict[str, Any]:
    record = ROOT / "var" / "train-time.json"
    if record.exists():
        return json.loads(record.read_text())
    return {"train_seconds": None, "note": "run `make train` after a data change to record it"}


def component_benchmarks() -> dict[str, Any]:
    """Each area's own `bench.run()`, when it exists."""
    results: dict[str, Any] = {}
    for name in ("bot.safety.bench", "bot.alerts.bench", "bot.console.bench"):
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            results[name] = {"skipped": str(error)}
            continue
        try:
            results[name] = module.run()
        except Exception as error:  # a broken sub-benchmark must not hide the others
            results[name] = {"error": repr(error)}
    return results


def run_servers(model: str, workdir: Path) -> Any:
    from tests.e2e.stack import MODEL, Stack

    stack = Stack(workdir)
    stack.procs["rasa"].command[stack.procs["rasa"].command.index(str(MODEL))] = model
    stack.migrate()
    for name in ("actions", "rasa"):
        stack.start(name)
    return stack


def print_table(results: dict[str, Any]) -> None:
    print("\nREST channel (reply latency, throughput)")
    print(
        f"  {'concurrency':>11} {'turns':>6} {'msgs':>6} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'p99 ms':>8}"
    )
    for row in results["rest"]:
        print(
            f"  {row['concurrency']:>11} {row['conversation_turns']:>6} {row['messages']:>6} "
            f"{row['throughput_msg_s']:>7} "
            f"{row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8}"
        )
    print(
        f"\nRasa server memory (RSS): {results['memory']['rasa_rss_mb']} MB; "
        f"action server: {results['memory']['actions_rss_mb']} MB"
    )
    print(f"Training time: {results['training']}")
    for name, value in results["components"].items():
        print(f"{name}: {json.dumps(value, ensure_ascii=False)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench")
    parser.add_argument("--model", default=str(ROOT / "models" / "peiban.tar.gz"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="peiban-bench-") as tmp:
        stack = run_servers(args.model, Path(tmp))
        try:
            url = f"http://127.0.0.1:{stack.ports['rasa']}/webhooks/rest/webhook"
            # one long conversation, then 20-turn conversations, then 20 users at once
            rest = [asyncio.run(drive(url, c, args.messages, turns))
                    for c, turns in ((1, 0), (1, 20), (20, 0))]
            memory = {
                "rasa_rss_mb": rss_mb(stack.procs["rasa"].process.pid),
                "actions_rss_mb": rss_mb(stack.procs["actions"].process.pid),
            }
        finally:
            stack.stop_all()
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count()},
        "rest": rest,
        "memory": memory,
        "training": training_time(args.model),
        "components": component_benchmarks(),
        "baseline": {"rasa_init_starter": {"p50_ms_sequential": 129, "throughput_c20": 18}},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print_table(results)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
