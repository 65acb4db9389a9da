"""Per-user flood protection and ordering for the Telegram channel.

- :class:`FloodGate` — a token bucket per conversation id. A child holding a key down gets a
  few messages through, one gentle "slow down" reply, and the rest are dropped, so one user
  can never occupy the server.
- :class:`KeyedLocks` — one FIFO lock per conversation: a user's updates are handled one at a
  time and in arrival order (Rasa's tracker is per conversation anyway), while different users
  run concurrently.
- :class:`RecentSet` — a bounded "seen before" set (update ids, declined chats).
- :func:`is_risky` — would the risk detector escalate this text? Limits never drop such a
  message.

All are in-memory and per process: the Rasa server is one process and the limits protect it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit for the first time in this burst: tell the user once
    DROP = "drop"  # over the limit and already told


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGate:
    """Token buckets keyed by conversation id (``burst`` tokens, ``rate`` refilled per second)."""

    def __init__(
        self,
        burst: int = 8,
        rate: float = 1.0,
        *,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.rate = rate
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, key: str) -> Verdict:
        now = self._clock()
        bucket = self._bucket(key, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False  # a new burst may be warned about again
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.burst), updated=now)
            # Evicting the least recently seen key only forgets a (nearly) full bucket.
            while len(self._buckets) >= self.max_keys:
                self._buckets.popitem(last=False)
        self._buckets[key] = bucket
        return bucket


class KeyedLocks:
    """An asyncio lock per key, created on demand and dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:  # asyncio.Lock wakes waiters first-in first-out
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class RecentSet:
    """Remembers the last ``size`` keys added (for de-duplication)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def add(self, key: Hashable) -> bool:
        """Add ``key``; return False if it was already there."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def discard(self, key: Hashable) -> None:
        self._keys.pop(key, None)


# One thread, so checking a flood's messages can use at most one core's worth of detector
# calls: other users keep the event loop and Rasa's default thread pool. Repeated texts (a key
# held down) are checked once.
_SAFETY_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flood-safety")
_RISK_CACHE: OrderedDict[str, bool] = OrderedDict()
_RISK_CACHE_SIZE = 2048


async def is_risky(text: str) -> bool:
    """True when ``bot.safety.detect`` escalates ``text`` (False if it is unavailable)."""
    risky = _RISK_CACHE.get(text)
    if risky is None:
        loop = asyncio.get_running_loop()
        risky = await loop.run_in_executor(_SAFETY_POOL, _escalates, text)
        _RISK_CACHE[text] = risky
        if len(_RISK_CACHE) > _RISK_CACHE_SIZE:
            _RISK_CACHE.popitem(last=False)
    return risky


def _escalates(text: str) -> bool:
    from bot.safety import detect  # loads the detector on first use

    try:
        return bool(detect(text, None).escalate)
    except Exception:
        logger.exception("risk check of a flooded message failed")
        return False
