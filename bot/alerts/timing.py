"""Alert timings in one place. Env overrides exist so tests can shrink minutes to milliseconds."""

from __future__ import annotations

import datetime as dt
import os
import random

from bot.safety.categories import renotify_seconds

MAX_LEVEL = 3  # 0 alert, 1 re-notify, 2 supervisor, 3 supervisors + admins, then stop


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def ack_deadline(severity: str | None) -> dt.timedelta:
    """Time a worker has to acknowledge, scaled by PEIBAN_RENOTIFY_SCALE (tests: 0.001)."""
    scale = _float_env("PEIBAN_RENOTIFY_SCALE", 1.0)
    return dt.timedelta(seconds=renotify_seconds(severity) * scale)


def poll_interval() -> float:
    return _float_env("PEIBAN_ALERT_POLL_SECONDS", 0.2)


def renotify_scan_interval() -> float:
    return _float_env("PEIBAN_RENOTIFY_SCAN_SECONDS", 1.0)


def sweep_interval() -> float:
    return _float_env("PEIBAN_SWEEP_SECONDS", 5.0)


def claim_lease() -> dt.timedelta:
    """How long a claimed row is ours: longer than a send (10 s) plus its bookkeeping, so only a
    dead worker loses it; also the longest a dead worker's rows wait for its successor."""
    return dt.timedelta(seconds=_float_env("PEIBAN_OUTBOX_LEASE_SECONDS", 20.0))


def send_timeout() -> float:
    return _float_env("PEIBAN_SEND_TIMEOUT_SECONDS", 10.0)


def unrouted_recheck() -> dt.timedelta:
    """How often a row waiting for someone to link Telegram looks again."""
    return dt.timedelta(seconds=_float_env("PEIBAN_UNROUTED_RECHECK_SECONDS", 5.0))


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with full-range jitter in [50 %, 100 %], capped; honours retry_after."""
    base = _float_env("PEIBAN_RETRY_BASE_SECONDS", 1.0)
    cap = _float_env("PEIBAN_RETRY_CAP_SECONDS", 300.0)
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    delay *= random.uniform(0.5, 1.0)  # jitter: spread retries of many rows after an outage
    if retry_after is not None:
        delay = max(delay, retry_after)
    return dt.timedelta(seconds=delay)
