"""Text normalisation: one canonical form the lexicon and encoder can rely on.

Children type traditional characters, full-width letters, emoji, pinyin,
homophones and slang, and split words to dodge filters ("自 杀", "自.杀").
`normalize` returns the canonical text plus a phonetic variant in which
pinyin (and homophone typos of risk words) are turned back into characters.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ._data import load_yaml

MAX_CHARS = 20000   # head + tail kept from very long input
_PHONETIC_MAX = 2000  # phonetic pass is ~4 us/char; long pastes get it on the head

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_CJK_ALL = re.compile(f"[{_CJK}]+")
_ZERO_WIDTH = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                         "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]")
# Filler dropped between two Chinese characters: spaces and dodge punctuation.
_CJK_GAP = re.compile(f"(?<=[{_CJK}])[\\s*._\\-~·/\\\\|`'\"^+=#@]+(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\r\f\v]+")
# A space the writer put between two Chinese phrases (娃说不想活了 弟弟在玩游戏) ends a
# phrase as a comma would; the canonical text drops it, so where it was is kept aside
_BREAK = "\ue000"
_LATIN_WORD = re.compile(r"[a-z0-9@$]+")
_LEET = str.maketrans({"1": "i", "3": "e", "0": "o", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s"})
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u3002": "。", "\uff61": "。"})


@dataclass(frozen=True)
class Normalized:
    text: str                 # canonical text (simplified, half-width, lower, slang mapped)
    variants: tuple[str, ...]  # extra readings (pinyin / homophones -> characters)
    flags: frozenset[str]     # what was changed: traditional, emoji, slang, pinyin, ...

    # an English report about someone else read in the first person ("she wants to kill
    # herself" -> "i want to kill myself"), so the rules written for children speaking
    # also hear a grandparent reporting; the lexicon scans it, the model layers do not
    reported: str | None = None
    # positions in `text` where the writer had a space between two Chinese characters
    breaks: tuple[int, ...] = ()

    @property
    def readings(self) -> tuple[tuple[str, str], ...]:
        """(tag, text) for every reading the lexicon scans: the text itself (tag ''),
        the phonetic variants and the reported reading."""
        out = [("", self.text), *(("phonetic", v) for v in self.variants)]
        if self.reported:
            out.append(("reported", self.reported))
        return tuple(out)

    @property
    def all_texts(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.readings)

    @property
    def base(self) -> str:
        """What the model layers read: the pinyin/homophone reading when there is one."""
        return self.variants[0] if self.variants else self.text


class _Resources:
    """Lazily built tables; built once per process under a lock."""

    def __init__(self) -> None:
        data = load_yaml("normalize.yaml")
        from opencc import OpenCC

        self.t2s = OpenCC("t2s")
        self.t2s.convert("測試")  # its dictionaries load lazily, not thread-safely: load now
        self.emoji = {k: f" {v} " for k, v in (data.get("emoji") or {}).items()}
        self.emoji_re = re.compile("|".join(
            re.escape(k) for k in sorted(self.emoji, key=len, reverse=True)))
        self.slang = [(re.compile(p), r) for p, r in (data.get("slang") or [])]
        self.english = [(re.compile(p), r) for p, r in (data.get("english") or [])]
        self.syllables = frozenset(data["pinyin_syllables"].split())
        self.max_syl = max(map(len, self.syllables))
        self.pinyin_dict, self.phonetic_keys, self.max_key = _pinyin_tables(data)
        # the key lengths under each first syllable, longest first (_curated_at tries
        # only those instead of every length up to max_key)
        lengths: dict[str, set[int]] = {}
        for key in self.pinyin_dict:
            lengths.setdefault(key[0], set()).add(len(key))
        self.lengths_by_first = {k: sorted(v, reverse=True) for k, v in lengths.items()}
        self.pinyin_general = _general_pinyin(data.get("pinyin_general") or {})
        self.max_general = max(map(len, self.pinyin_general), default=0)
        self.phonetic_not = frozenset(data.get("phonetic_not") or [])


def _pinyin_tables(data: dict) -> tuple[dict[tuple[str, ...], str], set, int]:
    """Map toneless syllable tuples to words; risk words listed first win."""
    from pypinyin import lazy_pinyin

    table: dict[tuple[str, ...], str] = {}
    for word in data.get("pinyin_vocab") or []:
        key = tuple(lazy_pinyin(word))
        table.setdefault(key, word)
    for key_text, word in (data.get("pinyin_extra") or {}).items():
        table.setdefault(tuple(key_text.split()), word)
    # keys safe to apply to *Chinese* text (homophone typos such as 割碗, 叫不行)
    phonetic = {tuple(lazy_pinyin(w)) for w in data.get("phonetic_words") or []}
    return table, phonetic, max(map(len, table))


def _general_pinyin(conf: dict) -> dict[tuple[str, ...], str]:
    """The likeliest everyday word for each toneless reading, from jieba's own frequency
    dictionary (its most frequent words and every single character), so a whole sentence
    typed in pinyin (wo xiang qu zhao ye ye, ta zai tian shang) reads as Chinese, not
    only its risk words. Used for latin spans only, after the curated vocabulary."""
    if not conf:
        return {}
    import jieba
    from pypinyin import lazy_pinyin

    path = Path(jieba.__file__).with_name("dict.txt")
    max_len, top = int(conf.get("max_len", 4)), int(conf.get("words", 30000))
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            word, freq = line.split(" ", 2)[:2]
            if len(word) <= max_len and _CJK_ALL.fullmatch(word):
                rows.append((int(freq), word))
    rows.sort(reverse=True)
    chosen = rows[:top] + [r for r in rows[top:] if len(r[1]) == 1]
    table: dict[tuple[str, ...], str] = {}
    for _, word in chosen:
        key = tuple(r.replace("ü", "v") for r in lazy_pinyin(word))
        table.setdefault(key, word)
    return table


_RES: _Resources | None = None
_LOCK = threading.Lock()


def resources() -> _Resources:
    global _RES
    if _RES is None:
        with _LOCK:
            if _RES is None:
                _RES = _Resources()
    return _RES


def _clean(text: object) -> str:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    # lone surrogates (from JSON) would break encoders and json.dumps
    text = text.encode("utf-8", "replace").decode("utf-8", "replace")
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 4000] + "\n" + text[-4000:]
    return text


def _strip_controls(text: str) -> str:
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\n\t":
            out.append(" " if ch == "\t" else "\n")
        elif cat in ("Cc", "Cs", "Co", "Cn"):
            out.append(" ")
        elif cat != "Cf":
            out.append(ch)
    return "".join(out)


def _strip_latin_accents(text: str) -> str:
    """wǒ bù xiǎng -> wo bu xiang (only for Latin letters)."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":
            base = unicodedata.normalize("NFKD", ch)
            ch = "".join(c for c in base if not unicodedata.combining(c))
            ch = ch.replace("ü", "v")
        out.append(ch)
    return "".join(out)


def _deleet(text: str) -> str:
    def fix(m: re.Match) -> str:
        w = m.group(0)
        # leet only when a digit sits between letters (k1ll, mys3lf), not "abc123"
        if re.search(r"[a-z][0-9@$]+[a-z]", w):
            return w.translate(_LEET)
        return w
    return _LATIN_WORD.sub(fix, text)


def canonical(text: object, flags: set[str] | None = None) -> str:
    """The canonical text alone (no phonetic variant)."""
    return _canonical(text, flags)[0]


def _canonical(text: object, flags: set[str] | None = None) -> tuple[str, tuple[int, ...]]:
    """The canonical text and where the writer's spaces between Chinese phrases were."""
    res = resources()
    flags = flags if flags is not None else set()
    t = _clean(text)
    t = _ZERO_WIDTH.sub("", t.translate(_CURLY))
    if res.emoji_re.pattern and res.emoji_re.search(t):
        t = res.emoji_re.sub(lambda m: res.emoji[m.group(0)], t)
        flags.add("emoji")
    t = unicodedata.normalize("NFKC", t)
    t = _strip_controls(t)
    if _CJK_RE.search(t):
        s = res.t2s.convert(t)
        if s != t:
            flags.add("traditional")
        t = s
    t = _strip_latin_accents(t).lower()
    t = _deleet(t)
    spaced = any(m.group().isspace() for m in _CJK_GAP.finditer(t))
    marked = _CJK_GAP.sub(lambda m: _BREAK if m.group().isspace() else "", t) if spaced else ""
    t = _rewrite(_CJK_GAP.sub("", t), res, flags)
    return t, (_break_positions(_rewrite(marked, res, set()), t) if spaced else ())


def _rewrite(t: str, res: "_Resources", flags: set[str]) -> str:
    t = _SPACES.sub(" ", t).strip()
    for rx, rep in res.english:
        t = rx.sub(rep, t)
    before = t
    for rx, rep in res.slang:
        t = rx.sub(rep, t)
    if t != before:
        flags.add("slang")
    return t


def _break_positions(marked: str, text: str) -> tuple[int, ...]:
    """Positions in `text` of the break marks in `marked`; none when the rewrites read
    the marked text differently (a slang phrase across the space), so nothing is guessed."""
    if marked.replace(_BREAK, "") != text:
        return ()
    out, removed = [], 0
    for i, ch in enumerate(marked):
        if ch == _BREAK:
            out.append(i - removed)
            removed += 1
    return tuple(out)


def _segment(word: str, syllables: frozenset[str], max_len: int) -> list[str] | None:
    """Split a latin word into pinyin syllables (fewest pieces), or None."""
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(min(n, i + max_len), i, -1):
            piece = word[i:j]
            if piece in syllables:
                cand = best[i] + [piece]
                if best[j] is None or len(cand) < len(best[j]):
                    best[j] = cand
    return best[n]


_TOKEN_RE = re.compile(f"[{_CJK}]|[a-z]+|[^a-z{_CJK}]+")


class _Tok(NamedTuple):
    surface: str
    syllable: str      # pinyin reading, '' when none
    latin: bool
    word_start: bool   # first syllable of a latin word (a space goes before it)


def _tokens(text: str, res: _Resources) -> list[_Tok]:
    """One unit per CJK character, pinyin syllable of a latin word, or other run."""
    from pypinyin import lazy_pinyin

    out: list[_Tok] = []
    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0)
        if _CJK_RE.fullmatch(tok):
            out.append(_Tok(tok, "", False, False))
        elif tok.isascii() and tok.isalpha():
            segs = _segment(tok, res.syllables, res.max_syl)
            if segs:
                out.extend(_Tok(s, s, True, j == 0) for j, s in enumerate(segs))
            else:
                out.append(_Tok(tok, "", True, True))
        elif not tok.isspace():  # spaces only separate syllables
            out.append(_Tok(tok, "", False, False))
    cjk_idx = [i for i, t in enumerate(out) if _CJK_RE.fullmatch(t.surface)]
    if cjk_idx:
        # phrase-aware reading of the Chinese characters (polyphones: 了 le, 行 xing)
        chars = "".join(out[i].surface for i in cjk_idx)
        readings = lazy_pinyin(chars, errors=lambda x: [""] * len(x))
        if len(readings) != len(cjk_idx):  # never expected; read char by char
            readings = [(lazy_pinyin(c) or [""])[0] for c in chars]
        for i, r in zip(cjk_idx, readings, strict=True):
            out[i] = out[i]._replace(syllable=r.replace("ü", "v"))
    return out


def _shares_char(surface: str, word: str) -> bool:
    return any(c in word for c in surface if _CJK_RE.fullmatch(c))


# a word read at a token: (tokens it spans, the word, whether the text changed)
_Hit = tuple[int, str, bool]


def _general_hit(toks: list[_Tok], i: int, res: _Resources) -> _Hit | None:
    """The longest everyday word spelled by the latin syllables at i."""
    for k in range(min(res.max_general, len(toks) - i), 0, -1):
        span = toks[i:i + k]
        if not all(s.latin and s.syllable for s in span):
            continue
        word = res.pinyin_general.get(tuple(s.syllable for s in span))
        if word is not None:
            return k, word, True
    return None


def _curated_at(toks: list[_Tok], i: int, res: _Resources,
                single_ok: bool = True) -> _Hit | None:
    """The longest curated (risk) word spelled at i, in pinyin or as a homophone typo."""
    syls: list[str] = []
    for t in toks[i:i + res.max_key]:
        if not t.syllable:
            break
        syls.append(t.syllable)
    for k in res.lengths_by_first.get(syls[0], ()) if syls else ():
        if k > len(syls):
            continue
        key = tuple(syls[:k])
        word = res.pinyin_dict.get(key)
        if word is None:
            continue
        span = toks[i:i + k]
        has_latin = any(s.latin for s in span)
        if has_latin and k == 1 and not single_ok:
            continue
        surface = "".join(s.surface for s in span)
        if surface == word:
            return k, word, False
        # a homophone typo in characters keeps one of the word's characters
        # (割碗, 叫不行, 条楼); 表哥玩 shares none with 割腕 and is not one
        if has_latin or (key in res.phonetic_keys and _shares_char(surface, word)
                         and surface not in res.phonetic_not):
            return k, word, True
    return None


def _prefer_everyday(toks: list[_Tok], i: int, res: _Resources,
                     hit: _Hit | None) -> _Hit | None:
    """In a message typed in pinyin, a lone curated syllable grows into the longer everyday
    word that starts with it (zhe ci is 这次, not 这此) unless that word would cut into a
    curated word of two or more syllables (wo xiao shi stays 我消失, not 我校是). Another
    word it does not start (le suo 勒索 for 了 所) could invent a risk and is not taken."""
    everyday = _general_hit(toks, i, res)
    if hit is None or everyday is None:
        return hit or everyday
    if hit[0] > 1 or everyday[0] <= 1 or not everyday[1].startswith(hit[1]):
        return hit
    for j in range(i + 1, i + everyday[0]):
        inner = _curated_at(toks, j, res)
        if inner and inner[0] > 1:
            return hit
    return everyday


def phonetic_variant(text: str) -> str | None:
    """Replace pinyin / homophone spellings of known words by characters.

    Latin pinyin may map to any vocabulary word; an all-Chinese span only to the
    curated `phonetic_words` (so 相似 never becomes 想死).
    """
    res = resources()
    if not text:
        return None
    toks = _tokens(text[:_PHONETIC_MAX], res)
    # everyday words only for a message typed in pinyin: every latin word must be
    # syllables ("hello how are you" is English, not 啊热有)
    # (a lone letter is an abbreviation, not English: p wo de zhaopian is P我的照片)
    latin = [s for s in toks if s.latin and (s.syllable or len(s.surface) > 1)]
    general = len(latin) >= 2 and all(s.syllable for s in latin)
    # an English sentence is no pinyin: "he" is not 喝 there. One latin syllable reads as
    # a word only in a message typed in pinyin or in Chinese text (我好想si) — Chinese
    # the writer typed, not an emoji's name (fire 🔥 does not make "a whole chili" 啊吃里)
    cjk = sum(1 for s in toks if not s.latin and s.syllable)
    single_ok = general or cjk >= sum(1 for s in latin if s.word_start)
    out: list[str] = []
    changed = False
    i = 0
    prev_latin = False
    while i < len(toks):
        hit = _curated_at(toks, i, res, single_ok)
        if general:
            hit = _prefer_everyday(toks, i, res, hit)
        if hit:
            k, word, changed_here = hit
            out.append(word)
            changed = changed or changed_here
            i += k
            prev_latin = False
            continue
        tok = toks[i]
        if tok.latin and prev_latin and tok.word_start:
            out.append(" ")
        out.append(tok.surface)
        prev_latin = tok.latin
        i += 1
    if not changed:
        return None
    joined = "".join(out)
    joined = _CJK_GAP.sub("", joined)
    if len(text) > _PHONETIC_MAX:
        joined += text[_PHONETIC_MAX:]
    return _SPACES.sub(" ", joined).strip()


_TO_FIRST_PERSON = {"himself": "myself", "herself": "myself",
                    "he": "i", "she": "i", "him": "me", "his": "my"}
_AGREE = {"is": "am", "has": "have", "does": "do", "goes": "go"}
# words between "i" and its verb ("she really wants", "he keeps saying")
_CARRY = frozenset("always still really just even never often sometimes also keeps".split())
# "her" before these (or before punctuation) is an object (hit her, told her to); else a
# possessive (her wrists)
_HER_OBJECT = frozenset(
    "and to with in on at for from when if again so because but or too that about "
    "by the a an alone up down out off away back every all last today tonight yesterday "
    "now hard badly really like until till while after before then once twice".split())
_THIRD_PERSON = re.compile(r"\b(?:he|she|him|her|his|himself|herself)\b")
_WORD_OR_OTHER = re.compile(r"[a-z']+|[^a-z']+")


def _first_person_verb(word: str) -> str:
    """Agreement after "i": wants -> want, tries -> try, wishes -> wish."""
    if word in _AGREE:
        return _AGREE[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("shes", "ches", "sses", "xes", "zes", "oes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def reported_reading(text: str) -> str | None:
    """An English third-person report re-read in the first person, or None."""
    if _CJK_RE.search(text) or not _THIRD_PERSON.search(text):
        return None
    parts = _WORD_OR_OTHER.findall(text)
    words = [i for i, p in enumerate(parts) if p[0].isalpha() or p[0] == "'"]
    out = list(parts)
    after_i = False
    for n, i in enumerate(words):
        w = parts[i]
        if w == "her":
            nxt = parts[words[n + 1]] if n + 1 < len(words) else ""
            punctuation_next = i + 1 < len(parts) and bool(parts[i + 1].strip())
            out[i] = "me" if not nxt or nxt in _HER_OBJECT or punctuation_next else "my"
        elif w in _TO_FIRST_PERSON:
            out[i] = _TO_FIRST_PERSON[w]
        elif after_i and (w not in _CARRY or w == "keeps"):
            out[i] = _first_person_verb(w)
        after_i = out[i] == "i" or (after_i and w in _CARRY)
    reading = "".join(out)
    return reading if reading != text else None


def normalize(text: object) -> Normalized:
    flags: set[str] = set()
    t, breaks = _canonical(text, flags)
    variants: list[str] = []
    v = phonetic_variant(t)
    if v and v != t:
        res = resources()
        before = v
        for rx, rep in res.slang:
            v = rx.sub(rep, v)
        variants.append(v)
        flags.add("pinyin" if any(c.isascii() and c.isalpha() for c in t) else "homophone")
        if v != before:
            flags.add("slang")
    return Normalized(text=t, variants=tuple(variants), flags=frozenset(flags),
                      reported=reported_reading(t), breaks=breaks)
