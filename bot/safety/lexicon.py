"""Lexicon and pattern layer: rules from data/lexicon.yaml over normalised text.

Each rule is a set of regexes (with {SLOT} placeholders) for one category.
Exclusions (hyperbole masks, story/game/lesson framing, negation) only touch
rules that are not `strong`: a method, an act under way, or an abuse/sexual
signal is never silenced by them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from ._data import load_yaml
from .normalize import Normalized
from .prefilter import Alternation, LiteralGate, LiteralIndex
from .types import CATEGORIES, SEVERITIES, Signal

_SLOT = re.compile(r"\{([A-Z_]+)\}")
_CLAUSE_END = re.compile(r"[,，。！？!?;；\n]")
_SENTENCE_END = re.compile(r"[。！？!?\n]|\.(?=\s|$)")
# an English sentence ends a clause too, for the writer's voice
_SENTENCE_OR_CLAUSE = re.compile(f"{_CLAUSE_END.pattern}|{_SENTENCE_END.pattern}")
# the writer as the subject (我, not 我们 or 我妈; "I") ...
_WRITER = re.compile(r"(?<![帮给])(?:我|俺)"
                     r"(?![们爸妈奶爷姥外叔伯姑舅婶姨哥姐弟妹家同老班孙儿女朋表堂闺])|(?<![他她])自己|(?<![a-z])(?:i|im|myself)(?![a-z])")
# ... unless quoting someone (女主说 我不想活了, "she said i want to die")
_SAID = re.compile(r"(?<!小)说|道|喊|问|教|考|告诉"
                   r"|(?<![a-z])(?:said|says|told \w+|asked|yelled|wrote|taught)(?![a-z])")
_ADDRESSED = re.compile(r"你|(?<![a-z])you(?![a-z])")
# a clause that opens on its verb carries on the subject of the clause before it
# (下午打了会游戏 我躲进被窝 咬手咬到出血): the writer's, when that one was
_SUBJECTLESS = re.compile(r"(?:然后|接着|又|就|还|偷偷|悄悄|再|便|一个人)?"
                          r"(?:用|拿|把|往|对着|躲|割|划|刻|吞|烫|掐|咬)(?!.*[他她你])")
_SAID_END = re.compile(r"(?:(?<!小)说|道|喊|问|讲|写)(?:着|了|过|到)?$"
                       r"|(?<![a-z])(?:said|says|told \w+|asked|yelled|wrote)(?: that)?$")
FRAMED_FACTOR = 0.3  # a framed (story/game/lesson) non-strong signal keeps 30 %


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    severity: str
    score: float
    strong: bool
    negatable: bool
    source: str
    regex: Alternation
    now_severity: str | None
    now_re: Alternation | None
    unless: Alternation | None
    also: Alternation | None
    void_inside: Alternation | None = None  # a match containing this is not a hit
    void_before: Alternation | None = None  # nor one whose clause ends in this before it


def _expand(pattern: str, slots: dict[str, str], depth: int = 0) -> str:
    if depth > 6:
        raise ValueError(f"slot recursion too deep in {pattern!r}")

    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in slots:
            raise KeyError(f"unknown slot {{{name}}}")
        return f"(?:{_expand(slots[name], slots, depth + 1)})"

    return _SLOT.sub(sub, pattern)


def _compile_list(zh: list[str], en: list[str], slots: dict[str, str]) -> Alternation | None:
    parts = [_expand(p, slots) for p in zh]
    # English words must not match inside other words
    parts += [rf"(?<![a-z])(?:{_expand(p, slots)})(?![a-z])" for p in en]
    return Alternation(parts) if parts else None


def _opt(value: object, slots: dict[str, str]) -> Alternation | None:
    if not value:
        return None
    items = value if isinstance(value, list) else [value]
    return Alternation(_expand(str(v), slots) for v in items)


@dataclass(frozen=True)
class _Scene:
    """One reading being scanned: its text, frame cues and the writer's phrase breaks."""
    text: str
    cues: dict[str, list[int]]
    breaks: tuple[int, ...]
    present: set[str] | None  # the literals in it (None: run every pattern)


def _clause_start(text: str, pos: int, breaks: tuple[int, ...],
                  end_rx: re.Pattern = _CLAUSE_END) -> int:
    """Where the clause (or, with `end_rx`, the sentence) open at `pos` began."""
    return max([m.end() for m in end_rx.finditer(text, 0, pos)]
               + [b for b in breaks if b <= pos], default=0)


def _next_end(rx: re.Pattern, text: str, pos: int, breaks: tuple[int, ...]) -> int:
    """Where the clause or sentence that is open at `pos` ends."""
    m = rx.search(text, pos)
    return min([m.start() if m else len(text)] + [b for b in breaks if b >= pos])


class Lexicon:
    def __init__(self, data: dict) -> None:
        self.slots: dict[str, str] = {k: str(v) for k, v in data["slots"].items()}
        s = self.slots
        self.mask = _opt(data.get("hyperbole_zh"), s)
        self.mask_en = _opt([rf"(?<![a-z])(?:{p})(?![a-z])"
                             for p in data.get("hyperbole_en") or []], s)
        self.frames = {k: _compile_list(v.get("zh", []), v.get("en", []), s)
                       for k, v in data["framing"].items()}
        # a frame with `cats` only excuses those categories (a caregiving question
        # about drowning is not a drowning; it says nothing about a child's suicide)
        self.frame_cats = {k: frozenset(v["cats"]) for k, v in data["framing"].items()
                           if v.get("cats")}
        # a frame marked `strong` also damps strong rules: it is written so narrowly
        # (a general question about other people's children) that nothing real hides in it
        self.frame_strong = frozenset(k for k, v in data["framing"].items() if v.get("strong"))
        # a scene (story, lesson, game, dream) reaches the sentence its cue is in and those
        # after it, not one before it (娃说不想活了 弟弟在玩游戏); a frame with `reach:
        # message` (a caregiving question, often asked at the end) covers the whole message
        self.frame_whole = frozenset(k for k, v in data["framing"].items()
                                     if v.get("reach") == "message")
        # a scene told in the first person (a dream): the writer's 我 does not step out of it
        self.frame_narrated = frozenset(k for k, v in data["framing"].items()
                                        if v.get("narrated"))
        # whole-message exercise controls (停, 不想做了, "I want to quit this")
        self.controls = _opt([rf"(?:{p})" for p in data.get("controls") or []], s)
        first_person = data.get("frame_first_person") or {}
        message_cues = list(first_person.get("message") or [])
        self.frame_self = _opt(list(first_person.get("clause") or []) + message_cues, s)
        self.frame_self_message = _opt(message_cues, s)
        self.frame_void = _opt(data.get("frame_void"), s)
        self.neg_zh = re.compile(_expand(data["negation"]["zh"], s) + "$")
        self.neg_en = re.compile(_expand(data["negation"]["en"], s) + "$")
        self.now = _opt(data["now"], s)
        self.imminent = _opt(data.get("imminent"), s)
        self.semantic_damp = {c: _opt(v, s) for c, v in (data.get("semantic_damp") or {}).items()}
        self.rules = [self._rule(r) for r in data["rules"]]
        self.literal_index = LiteralIndex(self._literals())
        self._rule_gate = LiteralGate([r.regex.literals for r in self.rules])

    def _literals(self) -> Iterator[str]:
        """Every literal the scan's prefilters test (a rule's are its patterns')."""
        scanned = [self.mask, self.mask_en, self.frame_void, *self.frames.values()]
        for r in self.rules:
            scanned += [r.regex, r.unless, r.also, r.void_inside, r.void_before]
        for alt in scanned:
            if alt is not None:
                yield from alt.part_literals

    def present(self, text: str) -> set[str]:
        """The prefilters' literals that occur in the text (one pass over it)."""
        return self.literal_index.present(text)

    def _rule(self, r: dict) -> Rule:
        s = self.slots
        cat, sev = r["cat"], r.get("sev", "high")
        assert cat in CATEGORIES and sev in SEVERITIES, r["id"]
        zh, en = list(r.get("zh") or []), list(r.get("en") or [])  # an empty key is no list
        regex = _compile_list(zh, en, s)
        assert regex is not None, r["id"]
        return Rule(
            id=f"{cat}.{r['id']}", category=cat, severity=sev,
            score=float(r.get("score", 0.8)), strong=bool(r.get("strong", False)),
            negatable=bool(r.get("negatable", False)),
            source=r.get("src") or ("pattern" if any("{" in p for p in zh + en) else "lexicon"),
            regex=regex, now_severity=r.get("now"),
            now_re=_opt(r.get("now_re"), s), unless=_opt(r.get("unless"), s),
            also=_opt(r.get("also"), s), void_inside=_opt(r.get("void_inside"), s),
            void_before=_opt(r.get("void_before"), s),
        )

    # -- exclusions ---------------------------------------------------------
    def masked(self, text: str, present: set[str] | None = None) -> str:
        """Hyperbole and idioms (累死了, 想死你了, killing me) blanked out. `present`:
        the text's literals, when known (blanking only removes literals)."""
        for rx in (self.mask, self.mask_en):
            if rx is not None:
                text = rx.sub(lambda m: "□" * len(m.group(0)), text, present)
        return text

    def frames_in(self, text: str) -> dict[str, str]:
        """{category: frame} for every category some frame in the text excuses."""
        return self.frames_reaching(self.frame_cues(text), len(text))

    def frames_reaching(self, cues: dict[str, list[int]], stop: int) -> dict[str, str]:
        """{category: frame} for the frames that reach text ending before `stop`: a
        whole-message frame, or a scene whose cue starts before it."""
        out: dict[str, str] = {}
        for name, _ in self._reaching(cues, stop):
            for c in self.frame_cats.get(name, CATEGORIES):
                out.setdefault(c, name)
        return out

    def _reaching(self, cues: dict[str, list[int]], stop: int) -> Iterator[tuple[str, int]]:
        """(frame, where its first cue starts) for each frame that reaches text ending
        before `stop`, in the order frames excuse."""
        for name, starts in cues.items():
            if name in self.frame_whole or starts[0] < stop:
                yield name, starts[0]

    def is_control(self, text: str) -> bool:
        """The whole message is an exercise control (stop / continue / quit)."""
        if self.controls is None:
            return False
        core = re.sub(r"[\s,，.。!！?？~…、]+", " ", text).strip()
        return bool(core) and bool(self.controls.fullmatch(core))

    def damped(self, category: str, text: str) -> bool:
        """A cue that makes an encoder match for this category implausible (不小心)."""
        rx = self.semantic_damp.get(category)
        return bool(rx is not None and rx.search(text))

    def negated(self, text: str, start: int, breaks: tuple[int, ...] = ()) -> bool:
        """A negation in the clause before `start`; the writer's space between Chinese
        phrases ends a clause too (都不想了 绳子我倒是想到了别的用处 is no denial)."""
        head = text[:start]
        cut = _clause_start(head, start, breaks)
        clause = head[cut:].rstrip()
        if not clause:
            return False
        return bool(self.neg_zh.search(clause) or self.neg_en.search(clause + " "))

    def first_person_clause(self, text: str, start: int, end: int,
                            breaks: tuple[int, ...] = ()) -> bool:
        """The matched clause is about the writer, so a frame does not excuse it."""
        if self.frame_self is None:
            return False
        left = _clause_start(text, start, breaks)
        clause = text[left:_next_end(_CLAUSE_END, text, end, breaks)]
        return bool(self.frame_self.search(clause))

    def frame_cues(self, text: str, present: set[str] | None = None) -> dict[str, list[int]]:
        """{frame: where its cues start}, the frame that damps most first; none when a
        frame void (a challenge, a video call, 说真的) is in the text."""
        if self.frame_void is not None and self.frame_void.search(text, present):
            return {}
        cues = {n: [m.start() for m in rx.finditer(text, present)]
                for n, rx in self.frames.items() if rx is not None}
        return {n: cues[n] for n in sorted(cues, key=lambda n: n not in self.frame_strong)
                if cues[n]}

    def frame_at(self, category: str, cues: dict[str, list[int]], text: str, start: int,
                 end: int, breaks: tuple[int, ...] = (), voiced: bool = True) -> str | None:
        """The frame that excuses a match for `category` at start:end: a whole-message
        frame, or a scene whose cue is in the match's sentence or an earlier one (a game
        mentioned in a later sentence, 娃说不想活了。弟弟在玩游戏, is another scene). A
        scene from an earlier sentence does not reach a clause where the writer speaks of
        themselves (弟弟在看奥特曼 我在厕所把刀片拿出来了), unless the scene is told in
        the first person (a dream). `voiced=False`: the text's 我 is not the writer's (the
        reported reading turned 他说 into 我说)."""
        stop = _next_end(_SENTENCE_END, text, end, breaks)
        opened = _clause_start(text, start, breaks, _SENTENCE_END)
        writers: bool | None = None  # the writer's clause, found once when needed
        for name, first in self._reaching(cues, stop):
            if category not in self.frame_cats.get(name, CATEGORIES):
                continue
            if (name in self.frame_whole or first >= opened or name in self.frame_narrated
                    or not voiced):
                return name
            if writers is None:
                writers = self.writer_clause(text, start, end, breaks)
            if not writers:
                return name
        return None

    def writer_clause(self, text: str, start: int, end: int,
                      breaks: tuple[int, ...] = ()) -> bool:
        """The clause of start:end has the writer speaking of themselves, not quoting
        someone: 我跟奶奶说 我不想活了 is the writer's, 女主说 我不想活了 is not."""
        left = _clause_start(text, start, breaks, _SENTENCE_OR_CLAUSE)
        head = text[left:start]
        clause = text[left:_next_end(_SENTENCE_OR_CLAUSE, text, end, breaks)]
        said = max((m.end() for m in _SAID.finditer(head)), default=-1)
        if said >= 0:
            speaker, quoted = head[:said], clause[said:]
        else:
            before = text[:left].rstrip(" ,，:：")
            if not _SAID_END.search(before):
                return bool(_WRITER.search(clause)) or self._continues_writer(before, clause,
                                                                              breaks)
            speaker = before[_clause_start(before, max(0, len(before) - 1), breaks):]
            quoted = clause
        # the writer quoting themselves speaks for themselves, unless telling someone
        # what to do (我跟孙子说 要是有人说你奶奶出事了 让你跟他走)
        return bool(_WRITER.search(speaker)) and not _ADDRESSED.search(quoted)

    @staticmethod
    def _continues_writer(before: str, clause: str, breaks: tuple[int, ...]) -> bool:
        """A subject-less clause right after the writer's own one is the writer's too."""
        if not before or not _SUBJECTLESS.match(clause):
            return False
        prev = before[_clause_start(before, len(before) - 1, breaks, _SENTENCE_OR_CLAUSE):]
        return bool(_WRITER.search(prev)) and not _SAID.search(prev)

    def imminent_cue(self, text: str) -> str | None:
        """What in the text says the disclosure is under way or set for tonight."""
        m = self.imminent.search(text) if self.imminent is not None else None
        return m.group(0) if m else None

    def first_person_message(self, text: str) -> bool:
        """The writer's own risky wish or plan is in the message: the encoder and the
        classifier, which read the whole message, are not excused by a frame in it."""
        return bool(self.frame_self_message is not None and self.frame_self_message.search(text))

    # -- matching -----------------------------------------------------------
    def scan(self, norm: Normalized) -> list[Signal]:
        return self.scan_detail(norm)[0]

    def scan_detail(self, norm: Normalized, *,
                    prefilter: bool = True) -> tuple[list[Signal], set[str]]:
        """Signals, plus the categories whose only matches were negated.
        `prefilter=False` runs every rule (to check that the prefilter changes nothing)."""
        best: dict[str, Signal] = {}
        negated: set[str] = set()
        for reading, text in norm.readings:
            present = self.present(text) if prefilter else None
            masked = self.masked(text, present)
            if present is not None and masked != text:  # a pattern may read the blanks (很□□)
                present |= self.present(masked)
            scene = _Scene(text, self.frame_cues(text, present),
                           norm.breaks if not reading else (), present)
            now = bool(self.now.search(text)) if self.now else False
            for rule in (self.rules if present is None else self._candidates(present)):
                sig = self._apply(rule, masked, scene, now, reading, negated)
                if sig and (rule.id not in best or sig.score > best[rule.id].score):
                    best[rule.id] = sig
        return list(best.values()), negated - {s.category for s in best.values()}

    def _candidates(self, present: set[str]) -> list[Rule]:
        """The rules whose required words occur in the text (a long message is
        scanned by a handful of rules instead of a hundred)."""
        return [self.rules[i] for i in self._rule_gate.open(present)]

    def _apply(self, rule: Rule, masked: str, scene: _Scene, now: bool, reading: str,
               negated: set[str]) -> Signal | None:
        text, present = scene.text, scene.present
        if rule.unless is not None and rule.unless.search(text, present):
            return None
        if rule.also is not None and not rule.also.search(text, present):
            return None
        target = text if rule.strong else masked
        best: Signal | None = None
        for m in rule.regex.finditer(target, present):
            if rule.negatable and self.negated(target, m.start(), scene.breaks):
                negated.add(rule.category)
                continue
            if rule.void_inside is not None and rule.void_inside.search(m.group(), present):
                continue
            if (rule.void_before is not None
                    and rule.void_before.search(target[:m.start()], present)):
                continue
            sig = self._signal(rule, scene, m, now, reading)
            if best is None or sig.score > best.score:
                best = sig
            if sig.score >= rule.score:
                break  # not framed: a later match cannot say more
        return best

    def _signal(self, rule: Rule, scene: _Scene, m: re.Match, now: bool,
                reading: str) -> Signal:
        """`reading`: '' for the text itself, else which reading matched (phonetic,
        reported)."""
        text = scene.text
        frame = (self.frame_at(rule.category, scene.cues, text, m.start(), m.end(),
                                scene.breaks, voiced=reading != "reported")
                 if scene.cues else None)
        score, severity, tags = rule.score, rule.severity, []
        if rule.now_severity:
            hit_now = rule.now_re.search(text) if rule.now_re is not None else now
            if hit_now:
                severity = rule.now_severity
                tags.append("now")
        excusable = not rule.strong or frame in self.frame_strong
        if frame and excusable and not self.first_person_clause(text, m.start(), m.end(),
                                                                scene.breaks):
            score *= FRAMED_FACTOR
            tags.append(f"framed:{frame}")
        if reading:
            tags.append(reading)
        snippet = m.group(0).strip()[:24]
        tag = f" [{','.join(tags)}]" if tags else ""
        return Signal(category=rule.category, severity=severity, score=score,
                      evidence=f"{rule.source}[{rule.id}]:{snippet}{tag}", source=rule.source)


_LEX: Lexicon | None = None
_LOCK = threading.Lock()


def lexicon() -> Lexicon:
    global _LEX
    if _LEX is None:
        with _LOCK:
            if _LEX is None:
                _LEX = Lexicon(load_yaml("lexicon.yaml"))
    return _LEX


def scan(norm: Normalized) -> list[Signal]:
    return lexicon().scan(norm)
