"""`make bench`: outbox-to-Telegram latency, measured against the fake Bot API on loopback.

A real worker process (`python -m bot alerts worker`, default 200 ms poll) on a fresh SQLite
database; alerts are committed at random moments (so they land at every phase of the poll)
and the latency is from the commit to the fake receiving sendMessage.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import ROOT

ALERTS = 40


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _prepare(url: str) -> int:
    from bot.db.migrate import upgrade
    from bot.db.models import Person, Worker, WorkerAssignment
    from bot.db.session import session_scope

    upgrade(url)
    with session_scope(url) as s:
        worker = Worker(username="bench", password_hash="x", telegram_chat_id="4242")
        child = Person(sender_id="bench:child", role="child", pseudonym="小测", age_band="8-10")
        s.add_all([worker, child])
        s.flush()
        s.add(WorkerAssignment(child_id=child.id, worker_id=worker.id))
        return child.id


def _enqueue(url: str, child_id: int, n: int) -> float:
    """Open a case and its alert in one transaction; return the monotonic time of the commit."""
    from bot.alerts.outbox import enqueue_case_alert
    from bot.db.models import Case
    from bot.db.session import session_scope

    with session_scope(url) as s:
        case = Case(
            kind="risk",
            sender_id="bench:child",
            child_id=child_id,
            person_id=child_id,
            category="suicide",
            severity="imminent",
            mandatory_report=True,
            summary=f"bench {n}",
            source_key=f"bench:{n}",
        )
        s.add(case)
        enqueue_case_alert(s, case)
    return time.monotonic()


def _set_env(env: dict[str, str]) -> dict[str, str | None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    _reset()
    return saved


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _reset()


def _reset() -> None:
    from bot.config import settings
    from bot.db import crypto
    from bot.db.session import dispose_all

    dispose_all()
    settings.cache_clear()
    crypto.reset_cipher()


async def _measure(tmp: Path, alerts: int) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.fakes.telegram_api import FakeTelegram

    url = f"sqlite:///{tmp / 'bench.db'}"
    async with FakeTelegram() as fake:
        env = {
            "DATABASE_URL": url,
            "PEIBAN_DATA_KEY": Fernet.generate_key().decode(),
            "TELEGRAM_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
        }
        saved = _set_env(env)
        log = (tmp / "worker.log").open("wb")
        proc = None
        try:
            child_id = _prepare(url)
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "alerts", "worker"],
                cwd=ROOT,
                env=dict(os.environ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            await _until_started(tmp / "worker.log")
            latencies = [await _one(fake, url, child_id, n) for n in range(alerts)]
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)
            log.close()
            _restore(saved)
    return {
        "alerts": alerts,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "what": "commit of case+outbox -> fake Telegram receives sendMessage; "
        "worker subprocess, SQLite, 200 ms poll",
    }


async def _until_started(log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while b"alert worker started" not in log.read_bytes():
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start: {log.read_text()[-2000:]}")
        await asyncio.sleep(0.05)


async def _one(fake: Any, url: str, child_id: int, n: int) -> float:
    await asyncio.sleep(random.uniform(0.05, 0.3))  # land at a random phase of the poll
    committed = await asyncio.to_thread(_enqueue, url, child_id, n)
    call = await fake.wait_for("sendMessage", count=n + 1, timeout=10)
    return call.time - committed


def run(alerts: int = ALERTS) -> dict[str, Any]:
    """Latency p50/p95 (ms) from the outbox commit to the fake Bot API."""
    with tempfile.TemporaryDirectory(prefix="peiban-bench-") as tmp:
        return asyncio.run(_measure(Path(tmp), alerts))


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False))
