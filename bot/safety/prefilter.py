"""Required literals of a regex: a cheap test that rules a pattern out before it runs.

`required_literals(rx)` returns a set of strings such that every match of `rx` contains
at least one of them, or None when no such set is known. A long message is scanned by
a hundred rules full of gaps ({G}{0,12}); most cannot match because their fixed words
are absent, and `LiteralIndex` finds which of all rules' literals occur in one pass.

The analysis walks the parsed pattern (sre_parse): literal runs and small finite
alternations (想(?:死|跳楼)) give exact strings; a repeat that may be empty, a wildcard
or a class gives nothing; a branch needs every alternative to give something. It only
ever over-approximates (a test checks that filtered and unfiltered scans agree on
every message we have), so a skipped rule is one that could not have matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

import ahocorasick

try:  # Python 3.11 moved the parser
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_constants as c
    import sre_parse

MAX_EXACT = 64  # cap on the product of alternatives kept as exact strings

Literals = frozenset[str]


def _score(lits: Literals) -> tuple[int, int]:
    """Longer shortest string first, then fewer strings."""
    return (min(len(s) for s in lits), -len(lits))


def _best(cands: Iterable[Literals | None]) -> Literals | None:
    good = [x for x in cands if x and "" not in x]
    return max(good, key=_score) if good else None


def _concat(left: set[str], right: set[str]) -> set[str] | None:
    """Every left string followed by every right one, unless that is too many."""
    if len(left) * len(right) > MAX_EXACT:
        return None
    return {a + b for a in left for b in right}


def _group_items(av: tuple) -> list | None:
    """A group's items; None when it turns on IGNORECASE (its literals are not exact)."""
    _group, add_flags, _del, sub = av
    return None if add_flags & re.IGNORECASE else list(sub)


def _union(alternatives: Iterable, of, cap: int | None = None) -> set[str] | None:
    """The union of `of(alternative)` over a branch; None when any is unknown."""
    out: set[str] = set()
    for alt in alternatives:
        part = of(list(alt))
        if part is None:
            return None
        out |= part
        if cap is not None and len(out) > cap:
            return None
    return out


def _exact_seq(items: list) -> set[str] | None:
    out: set[str] | None = {""}
    for item in items:
        e = _exact(item)
        out = None if e is None else _concat(out, e)
        if out is None:
            return None
    return out


def _exact(item: tuple) -> set[str] | None:
    """Every string the item can match, when that is a small finite set."""
    op, av = item
    if op is c.LITERAL:
        return {chr(av)}
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return {""}  # zero width
    if op is c.IN:
        if any(o is not c.LITERAL for o, _ in av) or len(av) > 16:
            return None
        return {chr(v) for _, v in av}
    if op is c.SUBPATTERN:
        items = _group_items(av)
        return None if items is None else _exact_seq(items)
    if op is c.BRANCH:
        return _union(av[1], _exact_seq, MAX_EXACT)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        lo, hi, sub = av
        if (lo, hi) == (1, 1):
            return _exact_seq(list(sub))
        if (lo, hi) == (0, 1):
            e = _exact_seq(list(sub))
            return None if e is None else e | {""}
    return None


def _required(item: tuple) -> Literals | None:
    """Strings one of which every match of the item contains."""
    op, av = item
    if op is c.SUBPATTERN:
        items = _group_items(av)
        return None if items is None else _required_seq(items)
    if op is c.BRANCH:
        out = _union(av[1], _required_seq)
        return None if out is None else frozenset(out)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        lo, _hi, sub = av
        return _required_seq(list(sub)) if lo >= 1 else None
    e = _exact(item)
    return _best([frozenset(e)]) if e is not None else None


def _required_seq(items: list) -> Literals | None:
    """The best of: each run of exact items joined up, and each other item's own."""
    cands: list[Literals | None] = []
    run = {""}
    for item in items:
        e = _exact(item)
        joined = None if e is None else _concat(run, e)
        if joined is not None:
            run = joined
            continue
        cands.append(frozenset(run))
        run = set(e) if e is not None else {""}
        if e is None:
            cands.append(_required(item))
    cands.append(frozenset(run))
    return _best(cands)


def required_literals(rx: re.Pattern) -> Literals | None:
    if rx.flags & re.IGNORECASE:
        return None
    return _required_seq(list(sre_parse.parse(rx.pattern, rx.flags)))


class LiteralIndex:
    """Which of many literals occur in a text, in one pass over it: an Aho-Corasick
    automaton (pyahocorasick, C) over all the rules' literals. Testing each literal
    by substring search, even bucketed by character pairs, was 8,000 searches and
    ~1.6 ms per reading of a long message; the automaton is ~10 µs."""

    def __init__(self, literals: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for lit in set(literals):
            if lit:
                self._automaton.add_word(lit, lit)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def present(self, text: str) -> set[str]:
        if self._empty or not text:
            return set()
        return {lit for _end, lit in self._automaton.iter(text)}


class LiteralGate:
    """Which of several items (a lexicon's rules, one rule's patterns) can match a text:
    those one of whose required literals is present in it, and those with none known."""

    def __init__(self, literal_sets: Sequence[Literals | None]) -> None:
        self.size = len(literal_sets)
        self._by_literal: dict[str, list[int]] = {}
        for i, lits in enumerate(literal_sets):
            for lit in lits or ():
                self._by_literal.setdefault(lit, []).append(i)
        self._always = {i for i, lits in enumerate(literal_sets) if lits is None}

    def open(self, present: set[str]) -> list[int]:
        """The indices of the items that can match, in order."""
        which = set(self._always)
        for lit in present:
            which.update(self._by_literal.get(lit, ()))
        return sorted(which)


class Alternation:
    """Patterns joined by `|`, matched exactly as the joined regex matches, but by running
    only the parts one of whose required literals is in the text (`present`, from
    `LiteralIndex.present`). Python's `re` tries every alternative at every position: a
    rule of a hundred patterns took ~0.3 ms over a long message, where the two or three
    parts that can match there take a few µs. Without `present` the whole regex runs.
    A part is compiled the first time it can match (most never do in one process)."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns = list(patterns)
        self.whole = re.compile("|".join(f"(?:{p})" for p in self._patterns))
        parsed = [sre_parse.parse(p) for p in self._patterns]
        self._literals = [_required_seq(list(p)) for p in parsed]
        self._compiled: list[re.Pattern | None] = [None] * len(parsed)
        self._gate = LiteralGate(self._literals)
        # every match contains one of these (None: unknown)
        self.literals: Literals | None = (
            None if any(lits is None for lits in self._literals)
            else frozenset().union(*self._literals))
        # finditer's rules for empty matches are not emulated: such a regex runs whole
        self._split = len(parsed) > 1 and all(p.getwidth()[0] > 0 for p in parsed)

    @property
    def part_literals(self) -> Iterator[str]:
        for lits in self._literals:
            yield from lits or ()

    def _part(self, i: int) -> re.Pattern:
        rx = self._compiled[i]
        if rx is None:
            rx = self._compiled[i] = re.compile(self._patterns[i])
        return rx

    def finditer(self, text: str, present: set[str] | None = None) -> Iterator[re.Match]:
        if present is None or not self._split:
            return self.whole.finditer(text)
        which = self._gate.open(present)
        if len(which) == self._gate.size:
            return self.whole.finditer(text)
        return _leftmost_first([self._part(i) for i in which], text)

    def search(self, text: str, present: set[str] | None = None) -> re.Match | None:
        if present is None or not self._split:
            return self.whole.search(text)
        return next(self.finditer(text, present), None)

    def fullmatch(self, text: str) -> re.Match | None:
        return self.whole.fullmatch(text)

    def sub(self, repl: Callable[[re.Match], str], text: str,
            present: set[str] | None = None) -> str:
        if present is None or not self._split:
            return self.whole.sub(repl, text)
        out, last = [], 0
        for m in self.finditer(text, present):
            out += [text[last:m.start()], repl(m)]
            last = m.end()
        return "".join(out) + text[last:] if out else text


def _leftmost_first(parts: list[re.Pattern], text: str) -> Iterator[re.Match]:
    """finditer of the alternation of `parts` (none of which matches empty): at the
    leftmost position where any part matches, the first such part in order wins, and
    the next search starts where its match ends. A part's next match is kept until the
    search passes its start (the match at a position does not depend on where the
    search began)."""
    pos = 0
    ahead: list[re.Match | None | bool] = [None] * len(parts)  # None: not searched yet
    while True:
        best: re.Match | None = None
        for i, rx in enumerate(parts):
            m = ahead[i]
            if m is None or (m is not False and m.start() < pos):
                m = ahead[i] = rx.search(text, pos) or False
            if m and (best is None or m.start() < best.start()):
                best = m
        if best is None:
            return
        yield best
        pos = best.end()
