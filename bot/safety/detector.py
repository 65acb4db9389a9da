"""`detect`: normalise, run the lexicon and semantic layers, combine signals."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import replace
from typing import Iterable

import numpy as np

from bot.nlu.text import CJK_RE

from . import classifier as _classifier
from . import lexicon as _lexicon
from . import semantic as _semantic
from .normalize import normalize
from .types import CATEGORY_PRIORITY, NONE, SEVERITY_RANK, THRESHOLD, Detection, Signal, most_severe

log = logging.getLogger(__name__)

MAX_EVIDENCE = 6
_MASKED = re.compile("□+")
# a signal this weak does not lift the category's severity
_SEVERITY_FLOOR = 0.3
# the model layers guess; the lexicon's severity and category win when it fired
_IMPRECISE = ("semantic", "classifier")
# Classifier layer (thresholds chosen by cross-validation, python -m bot.safety.tune):
# an encoder match the classifier gives less than GATE for its category is damped to a
# hint. The classifier's own signal is its risk probability (1 - p(negative)), given to
# its most likely category: a message split between two categories (a plan that reads
# as suicide and as self-harm) is still risky. Risk >= T_RISK_HIGH counts like an encoder
# match, >= T_RISK_HINT is a hint that adds up with other hints.
GATE = 0.10
T_RISK_HIGH = 0.50
T_RISK_HINT = 0.30
# the bars ask for every suicide and sexual-abuse disclosure: a lower bar when the
# classifier's category is one of those
T_RISK_HIGH_URGENT = 0.40
URGENT = ("suicide", "sexual_abuse")
CLF_SEGMENTS = True
# In a long message (LONG_CHARS or more of masked text) a sentence read on its own speaks
# for the message only at risk >= T_RISK_SEGMENT: one sentence of a long everyday diary
# ("I thought I was going to die", 梦到爷爷) reads as risk out of its context
LONG_CHARS = 80
T_RISK_SEGMENT = 0.0
# ... and when the long message read whole is quiet (risk < T_WHOLE_QUIET), only at risk
# >= T_RISK_SEGMENT_QUIET: a buried disclosure (对不起，我坚持不下去了 in a school diary) is
# one sentence far riskier than its message; a diary whose one sentence merely leans
# ("the old man next door might die soon") is not
T_WHOLE_QUIET = 0.2
T_RISK_SEGMENT_QUIET = 0.8
# ... and, in a long message of PAIR_MIN_SENTENCES or more, only when it is still risky
# (>= T_RISK_PAIR) read together with the sentence before or after it: "the water would
# be like concrete from that high" after an action movie is not, "I gave him my games, I
# won't need them" after a day of minecraft still is
T_RISK_PAIR = 0.3
PAIR_MIN_SENTENCES = 3
# under a story/game/lesson/guidance frame the classifier speaks only when this sure
T_RISK_FRAMED = 0.80
# an everyday cue (按时吃药, 不小心, 再…就打) anywhere in a message damps the model
# layers, but not a classifier this sure: a farewell note may remind grandma of her pills
T_RISK_UNDAMPED = 0.95
SCORE_CLF_HIGH = 0.6
SCORE_CLF_HINT = 0.3


def noisy_or(scores: Iterable[float]) -> float:
    """Independent pieces of evidence: 1 - prod(1 - s)."""
    p = 1.0
    for s in scores:
        p *= 1.0 - min(max(s, 0.0), 1.0)
    return 1.0 - p


def _category_severity(sigs: list[Signal]) -> str:
    """Most urgent severity among the signals that matter; the precise layers
    decide when they fired (an encoder neighbour's severity is only a guess)."""
    precise = [s for s in sigs if s.source not in _IMPRECISE and s.score >= _SEVERITY_FLOOR]
    pool = precise or [s for s in sigs if s.score >= _SEVERITY_FLOOR] or sigs
    return most_severe(s.severity for s in pool)


def combine(signals: Iterable[Signal], threshold: float = THRESHOLD) -> Detection:
    """One decision from many signals; the most urgent escalating category wins."""
    sigs = tuple(sorted(signals, key=lambda s: -s.score))
    if not sigs:
        return NONE
    by_cat: dict[str, list[Signal]] = defaultdict(list)
    for s in sigs:
        by_cat[s.category].append(s)
    scores = {c: noisy_or(s.score for s in v) for c, v in by_cat.items()}
    hot = [c for c, sc in scores.items() if sc >= threshold - 1e-9]
    if not hot:
        return Detection(False, None, None, [], sigs, max(scores.values()))
    sev = {c: _category_severity(by_cat[c]) for c in hot}
    # a category the precise layers carry beats one only the encoder suggests
    lex = {c: any(s.source not in _IMPRECISE and s.score >= _SEVERITY_FLOOR for s in by_cat[c])
           for c in hot}
    win = max(hot, key=lambda c: (lex[c], SEVERITY_RANK[sev[c]], -CATEGORY_PRIORITY[c],
                                  scores[c]))
    evidence = [s.evidence for s in by_cat[win]]
    for c in sorted(hot, key=lambda c: -scores[c]):
        if c != win:
            evidence.append(by_cat[c][0].evidence)
    return Detection(True, win, sev[win], evidence[:MAX_EVIDENCE], sigs, scores[win])


def _semantic_text(text: str, lex: _lexicon.Lexicon) -> str:
    """Hyperbole removed so 累死了 does not look like death to the encoder."""
    return _MASKED.sub(" ", lex.masked(text, lex.present(text))).strip()


def semantic_input(text: object) -> tuple[str, str]:
    """(masked text the model layers read, its unmasked base reading)."""
    norm = normalize(text)
    lex = _lexicon.lexicon()
    return _semantic_text(norm.base, lex), norm.base


def _damp(s: Signal, why: str) -> Signal:
    return replace(s, score=s.score * _lexicon.FRAMED_FACTOR, evidence=f"{s.evidence} [{why}]")


def _classifier_signals(probs: np.ndarray, risk: float, severity: dict[str, str],
                        segment: int) -> list[Signal]:
    if risk < T_RISK_HINT:
        return []
    ci = 1 + int(np.argmax(probs[1:]))
    cat = _classifier.LABELS[ci]
    high = T_RISK_HIGH_URGENT if cat in URGENT else T_RISK_HIGH
    score = SCORE_CLF_HIGH if risk >= high else SCORE_CLF_HINT
    return [Signal(cat, severity.get(cat, "high"), score,
                   f"classifier:{cat} {float(probs[ci]):.2f} risk {risk:.2f}", "classifier",
                   segment)]


def _classifier_probs(clf: _classifier.Model, segs: list[str],
                      emb: np.ndarray) -> tuple[np.ndarray, int]:
    """The whole message's probabilities, or a sentence's when that one is riskier
    (a disclosure after small talk), and which segment that is."""
    probs = clf.probs(segs[0], emb[0])
    if not CLF_SEGMENTS:
        return probs, 0
    long = len(segs[0]) >= LONG_CHARS
    floor = T_RISK_SEGMENT if long else 0.0
    if long and 1.0 - probs[0] < T_WHOLE_QUIET:
        floor = max(floor, T_RISK_SEGMENT_QUIET)
    sentences = segs[1:]
    read = (clf.probs(s, e) for s, e in zip(sentences, emb[1:], strict=False))
    risky = [(p, i) for i, p in enumerate(read) if p[0] < probs[0] and 1.0 - p[0] >= floor]
    # the whole message at alarm level escalates anyway; a sentence cannot change that
    alarm = min(T_RISK_HIGH, T_RISK_HIGH_URGENT)
    if (risky and long and T_RISK_PAIR > 0 and 1.0 - probs[0] < alarm
            and len(sentences) >= PAIR_MIN_SENTENCES):
        checked = [i for p, i in risky if 1.0 - p[0] >= T_RISK_HINT]
        pair_risk = _pair_risks(clf, sentences, checked)
        risky = [(p, i) for p, i in risky if pair_risk.get(i, 1.0) >= T_RISK_PAIR]
    best = min(risky, key=lambda pi: pi[0][0], default=None)
    return (probs, 0) if best is None else (best[0], best[1] + 1)


def _pair_risks(clf: _classifier.Model, sentences: list[str],
                which: list[int]) -> dict[int, float]:
    """The classifier's risk for each sentence in `which` read with its neighbour before
    or after it (the riskier pair), all pairs encoded in one call."""
    pairs: dict[int, str] = {}  # pair j = sentences j and j + 1
    for i in which:
        for j in (i - 1, i):
            if 0 <= j < len(sentences) - 1:
                sep = "，" if CJK_RE.search(sentences[j + 1]) else ", "
                pairs[j] = sep.join(sentences[j:j + 2])
    if not pairs:
        return {}
    embs = _semantic.model().encode(list(pairs.values()))
    risk = {j: 1.0 - float(clf.probs(text, e)[0])
            for (j, text), e in zip(pairs.items(), embs, strict=True)}
    return {i: max(risk.get(i - 1, 0.0), risk.get(i, 0.0)) for i in which}


class _SegmentFrames:
    """The frames that reach each segment the model layers read. The whole message has
    every frame in it; a sentence only those whose cue is in it or before it, as in the
    lexicon: a game mentioned after 娃说不想活了 is another scene."""

    def __init__(self, lex: _lexicon.Lexicon, raw: str, segs: list[str]):
        self.lex, self.raw, self.segs = lex, raw, segs
        self.cues = {} if lex.first_person_message(raw) else lex.frame_cues(raw, lex.present(raw))
        self.memo: dict[int, dict[str, str]] = {0: lex.frames_reaching(self.cues, len(raw))}

    def of(self, segment: int) -> dict[str, str]:
        if segment not in self.memo:
            # a sentence is found in the unmasked text unless masking changed it; then
            # the whole message's frames
            start = self.raw.find(self.segs[segment]) if self.cues else -1
            self.memo[segment] = (self.memo[0] if start < 0 else self.lex.frames_reaching(
                self.cues, start + len(self.segs[segment])))
        return self.memo[segment]


def _model_signals(sem_text: str, lex: _lexicon.Lexicon, raw: str, negated: set[str],
                   use_classifier: bool = True) -> list[Signal]:
    """Encoder and classifier signals, damped like the lexicon's (frames, negation,
    exercise controls, implausibility cues), and encoder matches the classifier does
    not support damped to hints."""
    segs = _semantic.segments(sem_text)
    if not segs:
        return []
    emb = _semantic.model().encode(segs)
    matches = _semantic.nearest(segs, emb)
    raw_sigs = _semantic.signals(segs, matches=matches)
    clf = _classifier.model() if use_classifier else None
    probs, seg = _classifier_probs(clf, segs, emb) if clf is not None else (None, 0)
    risk = 1.0 - float(probs[0]) if probs is not None else 0.0
    if probs is not None:
        # a neighbour's severity only when it is a real neighbour; else the usual high
        sev = {m.category: m.severity for m in matches if m.similarity >= _semantic.T_HINT}
        raw_sigs += _classifier_signals(probs, risk, sev, seg)
    if "self_harm" in negated:  # "I'm not going to hurt myself" denies suicide too
        negated = negated | {"suicide"}
    frames = _SegmentFrames(lex, raw, segs)
    control = lex.is_control(raw)
    out = []
    for s in raw_sigs:
        frame = frames.of(s.segment).get(s.category) or ("control" if control else None)
        if frame and s.source != "classifier":
            s = _damp(s, f"framed:{frame}")
        elif frame and risk < T_RISK_FRAMED:
            continue  # the classifier learned stories and games; it must be sure there
        # "我没想过自杀" is close to "我想自杀" for an encoder; so is 不小心划了手 to 划手
        if s.category in negated:
            s = _damp(s, "negated")
        elif not (s.source == "classifier" and risk >= T_RISK_UNDAMPED) and lex.damped(
                s.category, raw):
            s = _damp(s, "damped")
        if (s.source == "semantic" and probs is not None
                and probs[_classifier.LABELS.index(s.category)] < GATE):
            s = _damp(s, "unconfirmed")
        out.append(s)
    return out


def analyse(text: object, role: str | None = None, *, semantic: bool = True,
            classifier: bool = True) -> Detection:
    """Full detection; `semantic=False` gives the lexicon-only baseline and
    `classifier=False` the lexicon + encoder detector without the classifier."""
    norm = normalize(text)
    lex = _lexicon.lexicon()
    sigs, negated = lex.scan_detail(norm)
    # The model layers only ever add evidence: when the lexicon alone escalates they
    # cannot change the decision, so the encoder (most of a long message's time) is
    # skipped. On the dev set and every blind (24,342 such disclosures) that changed
    # the category of 8 and the severity of 2.
    result = combine(sigs)
    if semantic and not result.escalate:
        sem_text = _semantic_text(norm.base, lex)
        if len(sem_text) >= 2:
            result = combine(sigs + _model_signals(sem_text, lex, norm.base, negated,
                                                   classifier))
    return _imminent(result, lex, norm.base)


def _imminent(result: Detection, lex: _lexicon.Lexicon, text: str) -> Detection:
    """A disclosure under way or set for tonight is imminent whichever layer carried it:
    the worker's acknowledgement window is then minutes, not half an hour."""
    if not result.escalate or result.severity == "imminent":
        return result
    cue = lex.imminent_cue(text)
    if cue is None:
        return result
    evidence = [*result.evidence[:MAX_EVIDENCE - 1], f"imminent:{cue.strip()[:24]}"]
    return replace(result, severity="imminent", evidence=evidence)


def detect(text: str, role: str | None = None) -> Detection:
    """Risk detection for one message. Pure; never raises."""
    try:
        return analyse(text, role)
    except Exception:  # pragma: no cover - last line of defence
        log.exception("risk detector failed; falling back to the lexicon")
    try:
        return analyse(text, role, semantic=False)
    except Exception as e:  # pragma: no cover
        log.exception("risk detector lexicon fallback failed")
        return Detection(False, None, None, [f"error:{type(e).__name__}"])


def warmup() -> None:
    """Load every table, the encoder and the classifier now (Rasa calls this at startup)."""
    _classifier.model()
    detect("你好")
