"""Alert timings in one place. Env overrides exist so tests can shrink minutes to milliseconds."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import random
from collections.abc import Mapping
from functools import lru_cache

log = logging.getLogger(__name__)

# Issue 3: re-notify when not acknowledged within the severity's time.
DEFAULT_ACK_DEADLINES = {
    "imminent": dt.timedelta(minutes=5),
    "high": dt.timedelta(minutes=30),
    "medium": dt.timedelta(hours=24),
}
UNKNOWN_SEVERITY = "high"  # a case without a known severity is treated as high, never as medium
# bot.safety.categories (owned by the safety engineer) is the source of truth when present:
# a function severity -> seconds, else a mapping; our table above is the fallback.
SAFETY_DEADLINE_FUNCTIONS = ("renotify_seconds", "ack_deadline_seconds")
SAFETY_DEADLINE_NAMES = ("RENOTIFY_SECONDS", "ACK_DEADLINES")

MAX_LEVEL = 3  # 0 alert, 1 re-notify, 2 supervisor, 3 supervisors + admins, then stop


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def _as_timedelta(value: object) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(seconds=float(value))  # type: ignore[arg-type]


@lru_cache(maxsize=1)  # one import attempt per process, even when it fails
def _categories() -> object | None:
    try:
        return importlib.import_module("bot.safety.categories")
    except Exception:  # noqa: BLE001 - a broken sibling package must never stop alerting
        return None


def _safety_deadline(severity: str) -> dt.timedelta | None:
    categories = _categories()
    for name in SAFETY_DEADLINE_FUNCTIONS:
        function = getattr(categories, name, None)
        if callable(function):
            try:
                return _as_timedelta(function(severity))
            except Exception:  # noqa: BLE001 - unknown severity or bad value: use our table
                return None
    table = _safety_deadlines()
    return table.get(severity) if table else None


def _safety_deadlines() -> dict[str, dt.timedelta] | None:
    categories = _categories()
    for name in SAFETY_DEADLINE_NAMES:
        value = getattr(categories, name, None)
        if isinstance(value, Mapping):
            try:
                return {str(k): _as_timedelta(v) for k, v in value.items()}
            except (TypeError, ValueError):
                log.warning("bot.safety.categories.%s is not severity -> seconds", name)
    return None


def ack_deadline(severity: str | None) -> dt.timedelta:
    """Time a worker has to acknowledge, scaled by PEIBAN_RENOTIFY_SCALE (tests: 0.001)."""
    severity = severity if severity in DEFAULT_ACK_DEADLINES else UNKNOWN_SEVERITY
    base = _safety_deadline(severity) or DEFAULT_ACK_DEADLINES[severity]
    return base * _float_env("PEIBAN_RENOTIFY_SCALE", 1.0)


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
