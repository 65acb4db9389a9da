"""Near-duplicate texts, shared by the data checks and the set builders.

Two texts are near duplicates when their normalised forms (NFKC, lower case, traditional →
simplified, letters and digits only) are equal or their character 3-gram sets overlap with
Jaccard similarity at or above a threshold. The NLU contract uses 0.9 (paraphrases allowed);
the safety sets use 0.5 so no dev line is a light rewrite of an evaluation message.
"""

from __future__ import annotations

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
    """An inverted 3-gram index over texts, so each lookup compares only texts sharing a gram."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.norms = [normalise(t) for t in texts]
        self.grams = [grams(n) for n in self.norms]
        self._postings: dict[str, list[int]] = defaultdict(list)
        for j, g in enumerate(self.grams):
            for x in g:
                self._postings[x].append(j)

    def near(self, text: str, threshold: float) -> list[int]:
        """Indices of indexed texts equal to `text` once normalised or at Jaccard ≥ threshold."""
        norm = normalise(text)
        g = grams(norm)
        cands = sorted({j for x in g for j in self._postings.get(x, ())})
        return [j for j in cands if norm == self.norms[j] or jaccard(g, self.grams[j]) >= threshold]


def near_duplicates(left: Sequence[str], right: Sequence[str], threshold: float,
                    same_set: bool = False) -> list[tuple[int, int]]:
    """Index pairs (i, j) of near-duplicate texts; with same_set, each pair once and i < j."""
    index = GramIndex(right)
    return [(i, j) for i, text in enumerate(left) for j in index.near(text, threshold)
            if not same_set or j > i]
