"""Normalisation: traditional, width, controls, spacing, emoji, pinyin, slang."""

import pytest

from bot.safety.normalize import canonical, normalize


@pytest.mark.parametrize("raw,expected", [
    ("我真的不想活了，活著好累", "活着"),         # traditional -> simplified
    ("我準備好繩子了", "准备好绳子"),
    ("ＡＢＣ１２３", "abc123"),                   # full-width -> half-width, lower
    ("自\u200b杀", "自杀"),                        # zero-width inside a word
    ("自\x00杀\x07", "自杀"),                      # control characters
    ("我 不 想 活 了", "我不想活了"),             # spacing inside Chinese
    ("自.杀", "自杀"),                             # dodge punctuation
    ("我想💊💊然后睡过去", "药药"),                # risky emoji -> words
    ("我用🔪划了手", "刀"),
    ("我想紫砂", "我想自杀"),                      # homophone slang
    ("想鼠", "想死"),
    ("割碗", "割腕"),
    ("爷爷叫不行", "叫不醒"),
    ("kms", "kill myself"),
    ("i want to unalive myself", "kill myself"),
    ("thinking about sewer slide", "suicide"),
    ("k1ll mys3lf", "kill myself"),
    ("I'm fine", "i am fine"),
])
def test_canonical(raw, expected):
    assert expected in canonical(raw)


def test_teapot_is_not_suicide():
    assert "自杀" not in canonical("紫砂壶很贵")


@pytest.mark.parametrize("raw,expected", [
    ("wo bu xiang huo le", "我不想活了"),
    ("wǒ bù xiǎng huó le", "我不想活了"),
    ("ｗｏ ｂｕ ｘｉａｎｇ ｈｕｏ ｌｅ", "我不想活了"),
    ("wobuxianghuole", "我不想活了"),
    ("xiang si", "想死"),
    ("zi sha", "自杀"),
    ("nong yao", "农药"),
    ("nai nai jiao bu xing", "奶奶叫不醒"),
    ("li jia chu zou", "离家出走"),
    ("ta mo wo xia mian", "他摸我下面"),
    ("我不想或了", "不想活"),
])
def test_pinyin_and_homophones(raw, expected):
    assert any(expected in t for t in normalize(raw).all_texts)


def test_everyday_words_do_not_become_risk_words():
    # 相似 and 想死 share a sound; only pinyin input may map to 想死
    assert not any("想死" in t for t in normalize("这两个图形很相似").all_texts)
    assert not any("喝药" in t for t in normalize("我和要好的同学玩").all_texts)


@pytest.mark.parametrize("junk", ["", " ", "\x00\x01", "😀😀", "\ud800", "a" * 100_000,
                                  bytes(range(256)).decode("latin-1")])
def test_never_raises(junk):
    normalize(junk)


@pytest.mark.parametrize("raw, breaks", [
    ("娃说不想活了 说我们都不要他", (6,)),      # a writer's space between two phrases
    ("我 想 死", (1, 2)),
    ("想*死", ()),                              # dodge punctuation is no phrase break
    ("hello world", ()),
    ("孙子跑出去一夜了  还没回来 wo bu xiang", (8,)),
])
def test_phrase_breaks(raw, breaks):
    norm = normalize(raw)
    assert norm.breaks == breaks
    assert all(0 < b < len(norm.text) for b in norm.breaks)
