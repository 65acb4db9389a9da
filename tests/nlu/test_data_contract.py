"""NLU data contract (no training).

- every contract intent (issue 2, item 6) and every ``ask_caregiving/<topic>`` exists in
  data/nlu with at least 20 Chinese and 10 English examples (our own intents too);
- Chinese = contains a CJK character; pinyin-only text counts as neither language;
- no exact or near duplicates (normalised equality, character 3-gram Jaccard ≥ 0.9)
  between training data and the held-out sets, nor inside the training data;
- the held-out sets cover every intent/topic (>= 8 zh, >= 4 en);
- only ``invite_code`` is annotated, and only in ``use_code``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from tests import similarity

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "data" / "nlu"
HELDOUT_DIR = ROOT / "tests" / "nlu"
# every held-out set by name; the contract tests and tests/nlu/eval_heldout.py read this one
# table. heldout_*: tuned against; blind_*: written after tuning, never tuned on; blind2-4:
# written by someone who never saw data/nlu (v2, v3 in session 4, v4 in session 5)
HELDOUT_SETS = {
    "zh": HELDOUT_DIR / "heldout_zh.yml",
    "en": HELDOUT_DIR / "heldout_en.yml",
    "followups": HELDOUT_DIR / "followups.yml",
    **{f"{v}_{lang}": HELDOUT_DIR / f"{v}_{lang}.yml"
       for v in ("blind", "blind2", "blind3", "blind4") for lang in ("zh", "en")},
}

CONTRACT_INTENTS = (
    "greet goodbye thank affirm deny bot_challenge ask_help out_of_scope feel_happy "
    "feel_sad feel_lonely feel_angry feel_worried feel_bored miss_parents school_stress "
    "friend_trouble low_confidence chores_burden request_exercise"
).split()
CAREGIVING_TOPICS = (
    "screen_time homework emotions missing_parents eating sleep water_safety "
    "stranger_safety discipline illness warning_signs bullying puberty "
    "guardian_self_care school_contact services"
).split()
# Ours (docs/design.md) that the companion and guardian code rely on.
OUR_INTENTS = (
    "stop resume dont_understand mood_checkin my_progress report_concern "
    "ask_social_worker tell_more follow_up_question use_code risk_disclosure"
).split()
REQUIRED = CONTRACT_INTENTS + [f"ask_caregiving/{t}" for t in CAREGIVING_TOPICS] + OUR_INTENTS

MIN_TRAIN_ZH, MIN_TRAIN_EN = 20, 10
MIN_HELDOUT_ZH, MIN_HELDOUT_EN = 8, 4
NEAR_DUP_JACCARD = 0.9
ALLOWED_ENTITIES = {"use_code": {"invite_code"}}

# --------------------------------------------------------------------------- parsing

_ANNOT = re.compile(r"\[([^\]]+)\](?:\(([^)]+)\)|\{[^}]*\})")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def _entities(raw: str) -> list[str]:
    out = []
    for m in _ANNOT.finditer(raw):
        if m.group(2):
            out.append(m.group(2).split(":")[0].split("=")[0].strip())
        else:
            ent = re.search(r'"entity"\s*:\s*"([^"]+)"', m.group(0))
            out.append(ent.group(1) if ent else "?")
    return out


def plain(raw: str) -> str:
    return _ANNOT.sub(lambda m: m.group(1), raw).strip()


def load_nlu(path: Path) -> list[tuple[str, str, str]]:
    """[(intent, plain text, raw example)] of one Rasa 3.x NLU YAML file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    assert str(doc.get("version")) == "3.1", f'{path}: version must be "3.1"'
    rows = []
    for block in doc.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            assert line.startswith("- "), f"{path}: bad example line {line!r}"
            raw = line[2:].strip()
            rows.append((block["intent"], plain(raw), raw))
    return rows


def training_rows() -> list[tuple[str, str, str]]:
    files = sorted(TRAIN_DIR.glob("*.yml"))
    assert files, "no data/nlu/*.yml"
    return [r for f in files for r in load_nlu(f)]


# --------------------------------------------------------------------------- language

_INITIALS = [
    "",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "zh",
    "ch",
    "sh",
    "r",
    "z",
    "c",
    "s",
    "y",
    "w",
]
_FINALS = {
    "": "a o e ai ei ao ou an en ang eng er",
    "y": "a o e ao ou an in ang ing ong u ue uan un i",
    "w": "a o ai ei an en ang eng u",
    "b": "a o ai ei ao an en ang eng i ie iao ian in ing u",
    "p": "a o ai ei ao ou an en ang eng i ie iao ian in ing u",
    "m": "a o e ai ei ao ou an en ang eng i ie iao iu ian in ing u",
    "f": "a o ei ou an en ang eng u",
    "d": "a e ai ei ao ou an en ang eng ong i ia ie iao iu ian ing u uo ui uan un",
    "t": "a e ai ao ou an ang eng ong i ie iao ian ing u uo ui uan un",
    "n": "a e ai ei ao ou an en ang eng ong i ie iao iu ian in iang ing u uo uan v ve",
    "l": "a o e ai ei ao ou an ang eng ong i ia ie iao iu ian in iang ing u uo uan un v ve",
    "g": "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "k": "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "h": "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "j": "i ia ie iao iu ian in iang ing iong u ue uan un",
    "q": "i ia ie iao iu ian in iang ing iong u ue uan un",
    "x": "i ia ie iao iu ian in iang ing iong u ue uan un",
    "zh": "a e i ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "ch": "a e i ai ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "sh": "a e i ai ei ao ou an en ang eng u ua uo uai ui uan un uang",
    "r": "e i ao ou an en ang eng ong u ua uo ui uan un",
    "z": "a e i ai ei ao ou an en ang eng ong u uo ui uan un",
    "c": "a e i ai ao ou an en ang eng ong u uo ui uan un",
    "s": "a e i ai ao ou an en ang eng ong u uo ui uan un",
}
_SYLLABLES = sorted({i + f for i in _INITIALS for f in _FINALS[i].split()}, key=len, reverse=True)
_PINYIN_WORD = re.compile(r"(?:%s)+" % "|".join(_SYLLABLES))


def is_pinyin(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower())
    return bool(words) and all(_PINYIN_WORD.fullmatch(w) for w in words)


def language(text: str) -> str | None:
    """'zh' when any CJK character, 'en' for Latin text that is not all pinyin, else None."""
    if _CJK.search(text):
        return "zh"
    if re.search(r"[A-Za-z]", text) and not is_pinyin(text):
        return "en"
    return None


# --------------------------------------------------------------------------- similarity


def near_duplicates(left, right, same_set: bool = False):
    """Row pairs (l, r) whose texts are near duplicates (tests/similarity.py)."""
    pairs = similarity.near_duplicates([r[1] for r in left], [r[1] for r in right],
                                       NEAR_DUP_JACCARD, same_set)
    return [(left[i], right[j]) for i, j in pairs]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def train():
    return training_rows()


@pytest.fixture(scope="module")
def heldout():
    return {name: load_nlu(path) for name, path in HELDOUT_SETS.items()}


def _counts(rows):
    c: dict[str, Counter] = defaultdict(Counter)
    for intent, text, _ in rows:
        c[intent][language(text)] += 1
    return c


# --------------------------------------------------------------------------- tests


def test_language_classifier():
    assert language("我想妈妈") == "zh"
    assert language("我好難過") == "zh"
    assert language("I miss my mom") == "en"
    assert language("wo hao xiang mama") is None
    assert language("woxiang baba") is None
    assert language("ok") == "en" and language("hi") == "en"
    assert language("886") is None


@pytest.mark.parametrize("intent", REQUIRED)
def test_training_counts_per_language(train, intent):
    c = _counts(train)
    assert intent in c, f"{intent} has no training examples"
    assert c[intent]["zh"] >= MIN_TRAIN_ZH, f"{intent}: {c[intent]['zh']} zh < {MIN_TRAIN_ZH}"
    assert c[intent]["en"] >= MIN_TRAIN_EN, f"{intent}: {c[intent]['en']} en < {MIN_TRAIN_EN}"


def test_only_retrieval_intent_is_ask_caregiving(train):
    intents = {i for i, _, _ in train}
    for i in intents:
        if "/" in i:
            base, topic = i.split("/", 1)
            assert base == "ask_caregiving" and topic in CAREGIVING_TOPICS, i
    assert "ask_caregiving" not in intents, "use ask_caregiving/<topic>, not the bare intent"


def test_no_duplicates_inside_training(train):
    dups = near_duplicates(train, train, same_set=True)
    assert not dups, "near-duplicate training examples:\n" + "\n".join(
        f"  {a[0]}: {a[1]!r}  ~  {b[0]}: {b[1]!r}" for a, b in dups[:30]
    )


@pytest.mark.parametrize("name", list(HELDOUT_SETS))
def test_heldout_not_in_training(train, heldout, name):
    dups = near_duplicates(heldout[name], train)
    assert not dups, f"held-out {name} overlaps training:\n" + "\n".join(
        f"  {a[0]}: {a[1]!r}  ~  {b[0]}: {b[1]!r}" for a, b in dups[:30]
    )


def test_heldout_sets_do_not_overlap_each_other(heldout):
    rows = [r for rows in heldout.values() for r in rows]
    dups = near_duplicates(rows, rows, same_set=True)
    assert not dups, "\n".join(f"  {a[1]!r} ~ {b[1]!r}" for a, b in dups[:30])


@pytest.mark.parametrize("intent", REQUIRED)
def test_heldout_covers_every_intent(heldout, intent):
    zh = _counts(heldout["zh"])[intent]["zh"]
    en = _counts(heldout["en"])[intent]["en"]
    assert zh >= MIN_HELDOUT_ZH, f"{intent}: {zh} held-out zh < {MIN_HELDOUT_ZH}"
    assert en >= MIN_HELDOUT_EN, f"{intent}: {en} held-out en < {MIN_HELDOUT_EN}"


def test_heldout_language_files_hold_their_language(heldout):
    for name in ("zh", "en", "blind_zh", "blind_en"):
        wrong = [t for _, t, _ in heldout[name] if language(t) not in (name[-2:], None)]
        assert not wrong, f"heldout_{name}.yml has other-language lines: {wrong[:10]}"


def test_heldout_intents_are_trained(train, heldout):
    trained = {i for i, _, _ in train}
    for name, rows in heldout.items():
        unknown = {i for i, _, _ in rows} - trained
        assert not unknown, f"{name}: intents not in training data: {unknown}"


def test_followups_are_follow_up_or_tell_more(heldout):
    rows = heldout["followups"]
    assert {i for i, _, _ in rows} <= {"follow_up_question", "tell_more"}
    langs = Counter(language(t) for _, t, _ in rows)
    assert langs["zh"] >= 10 and langs["en"] >= 4


def test_entity_annotations(train, heldout):
    rows = train + [r for rows in heldout.values() for r in rows]
    for intent, _text, raw in rows:
        ents = set(_entities(raw))
        allowed = ALLOWED_ENTITIES.get(intent, set())
        assert ents <= allowed, f"{intent}: unexpected entities {ents - allowed} in {raw!r}"
        if intent == "use_code":
            assert ents == {"invite_code"}, f"use_code example without a code: {raw!r}"


def test_invite_code_regex_matches_codes(train):
    docs = [yaml.safe_load(f.read_text(encoding="utf-8")) for f in sorted(TRAIN_DIR.glob("*.yml"))]
    patterns = [
        line.strip()[2:]
        for d in docs
        for b in (d.get("nlu") or [])
        if b.get("regex") == "invite_code"
        for line in str(b.get("examples") or "").splitlines()
        if line.strip().startswith("- ")
    ]
    assert patterns, "regex invite_code missing"
    rx = [re.compile(p) for p in patterns]
    codes = [
        m.group(1) for _, _, raw in train for m in re.finditer(r"\[([^\]]+)\]\(invite_code\)", raw)
    ]
    for code in codes:
        assert any(r.search(code) for r in rx), code
    for word in ("grandson", "daughter", "homework", "我想妈妈", "what if he refuses?"):
        assert not any(r.search(word) for r in rx), word


def test_domain_intents_have_data(train):
    """When the lead's domain.yml is present, its intents and ours must agree."""
    domain_path = ROOT / "domain.yml"
    if not domain_path.exists():
        pytest.skip("domain.yml not written yet")
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    declared = set()
    for item in domain.get("intents") or []:
        declared.add(next(iter(item)) if isinstance(item, dict) else str(item))
    trained = {i.split("/")[0] for i, _, _ in train}
    missing_in_domain = trained - declared
    assert not missing_in_domain, f"intents with data but not in domain.yml: {missing_in_domain}"
    button_only = {"choose_role", "choose_age", "rate", "nlu_fallback", "session_start"}
    for intent in REQUIRED:
        assert intent.split("/")[0] in declared, f"{intent} missing from domain.yml"
    assert not (set(REQUIRED) & button_only)
