"""Near-duplicate texts, shared by the data checks and the set builders.

Two texts are near duplicates when their normalised forms (NFKC, lower case, traditional →
simplified, letters and digits only) are equal or their character 3-gram sets overlap with
Jaccard similarity at or above a threshold. The NLU contract uses 0.9 (paraphrases allowed);
the safety sets use 0.5 so no dev line is a light rewrite of an evaluation message.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

try:  # traditional -> simplified so 謝謝 and 谢谢 count as the same text
    import opencc  # type: ignore

    _T2S = opencc.OpenCC("t2s").convert
except Exception:  # pragma: no cover - optional
    _T2S = None


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    if _T2S:
        t = _T2S(t)
    return "".join(ch for ch in t if ch.isalnum())


def grams(norm: str, n: int = 3) -> frozenset[str]:
    if len(norm) < n:
        return frozenset([norm]) if norm else frozenset()
    return frozenset(norm[i : i + n] for i in range(len(norm) - n + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class GramIndex:
    """Texts indexed for near-duplicate lookups by prefix filtering (PPJoin): grams are
    ranked rarest first; two texts at Jaccard ≥ t share their first common gram within
    both of their first |grams| - ⌈t·|grams|⌉ + 1 ranked grams, and the grams after it
    in either bound their overlap. So a lookup compares a handful of texts, not every
    text sharing a common gram such as 我不想."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.norms = [normalise(t) for t in texts]
        self.grams = [grams(n) for n in self.norms]
        self._freq: dict[str, int] = defaultdict(int)
        for g in self.grams:
            for x in g:
                self._freq[x] += 1
        # per threshold: gram -> (text, the gram's rank in that text)
        self._prefixes: dict[float, dict[str, list[tuple[int, int]]]] = {}

    def _prefix(self, g: frozenset[str], threshold: float) -> list[str]:
        ranked = sorted(g, key=lambda x: (self._freq.get(x, 0), x))
        shared = max(1, math.ceil(threshold * len(ranked) - 1e-9))
        return ranked[: len(ranked) - shared + 1]

    def _postings(self, threshold: float) -> dict[str, list[tuple[int, int]]]:
        if threshold not in self._prefixes:
            postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for j, g in enumerate(self.grams):
                for rank, x in enumerate(self._prefix(g, threshold)):
                    postings[x].append((j, rank))
            self._prefixes[threshold] = postings
        return self._prefixes[threshold]

    def _candidates(self, g: frozenset[str], threshold: float) -> list[int]:
        """Texts whose first common gram with g leaves room for Jaccard ≥ threshold."""
        postings, size = self._postings(threshold), len(g)
        seen: set[int] = set()
        out = []
        for rank, x in enumerate(self._prefix(g, threshold)):
            for j, their_rank in postings.get(x, ()):
                if j in seen:
                    continue
                seen.add(j)
                other = len(self.grams[j])
                needed = math.ceil(threshold / (1 + threshold) * (size + other) - 1e-9)
                if 1 + min(size - rank - 1, other - their_rank - 1) >= needed:
                    out.append(j)
        return out

    def near(self, text: str, threshold: float) -> list[int]:
        """Indices of indexed texts equal to `text` once normalised or at Jaccard ≥ threshold."""
        norm = normalise(text)
        g = grams(norm)
        # texts equal once normalised have equal grams (Jaccard 1), so the candidates hold them
        return sorted(j for j in self._candidates(g, threshold)
                      if jaccard(g, self.grams[j]) >= threshold)


def near_duplicates(left: Sequence[str], right: Sequence[str], threshold: float,
                    same_set: bool = False) -> list[tuple[int, int]]:
    """Index pairs (i, j) of near-duplicate texts; with same_set, each pair once and i < j."""
    index = GramIndex(right)
    return [(i, j) for i, text in enumerate(left) for j in index.near(text, threshold)
            if not same_set or j > i]
