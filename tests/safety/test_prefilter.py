"""The literal prefilter only ever skips rules that could not have matched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.safety import lexicon as lexicon_mod
from bot.safety.eval import load
from bot.safety.normalize import normalize
from bot.safety.prefilter import Alternation, LiteralIndex, required_literals

HERE = Path(__file__).parent


@pytest.mark.parametrize("pattern,text", [
    (r"想(?:死|跳楼)", "我好想跳楼"),
    (r"(?:我|俺)(?:就)?不想活了?", "俺不想活"),
    (r"[^。]{0,8}农药", "奶奶把农药放在"),
    (r"(?<![a-z])kill (?:my|him)self(?![a-z])", "i will kill myself"),
    (r"(?:a|b)?c{2,}", "xccx"),
    (r"\bpics?\b.{0,9}robux", "pic for robux"),
])
def test_every_match_contains_a_required_literal(pattern: str, text: str) -> None:
    rx = re.compile(pattern)
    lits = required_literals(rx)
    m = rx.search(text)
    assert m is not None
    assert lits is None or any(s in m.group(0) for s in lits), (lits, m.group(0))


def test_a_pattern_that_can_match_anything_has_no_literals() -> None:
    assert required_literals(re.compile(r"(?:想)?.{0,3}")) is None
    assert required_literals(re.compile(r"死|.+")) is None


def test_the_index_finds_overlapping_and_nested_literals() -> None:
    idx = LiteralIndex(["想", "想死", "死了", "kill", "ill"])
    assert idx.present("我想死了") == {"想", "想死", "死了"}
    assert idx.present("i will kill") == {"kill", "ill"}
    assert idx.present("") == set()


def _texts() -> list[str]:
    rows = [row["text"] for row in load([str(HERE / "devset.jsonl")])[::4]]
    probes = [p for p in (HERE / "probes.txt").read_text(encoding="utf-8").splitlines() if p]
    return rows + probes + ["", "a" * 5000, "我" * 3000, "\x00\ufffd"]


def test_scans_with_and_without_the_prefilter_agree() -> None:
    lex = lexicon_mod.Lexicon(lexicon_mod.load_yaml("lexicon.yaml"))

    def scan(norm, prefilter: bool):
        sigs, negated = lex.scan_detail(norm, prefilter=prefilter)
        return sorted((s.category, s.severity, s.score, s.evidence) for s in sigs), negated

    differ = []
    for text in _texts():
        norm = normalize(text)
        if scan(norm, prefilter=True) != scan(norm, prefilter=False):
            differ.append(text)
    assert not differ, differ[:5]


ALTERNATIVES = [r"(?<![a-z])kill(?![a-z])", r"想死", r"想(?:死|跳楼)", r"[^。]{0,4}农药",
                r"(?<=我)不想活", r"死了?", r"(?<![a-z])(?:i|im) (?:want to|wanna) die(?![a-z])"]


@pytest.mark.parametrize("text", [
    "我想死 想跳楼 奶奶把农药放在柜子里",
    "i wanna die. kill kill skill",
    "我不想活了 死了算了 想死",
    "农药农药农药",
    "nothing here at all",
    "",
])
def test_an_alternation_matches_as_the_joined_regex_whatever_the_parts_run(text: str) -> None:
    alt = Alternation(ALTERNATIVES)
    whole = [(m.start(), m.end()) for m in alt.whole.finditer(text)]
    present = LiteralIndex(alt.part_literals).present(text)
    assert [(m.start(), m.end()) for m in alt.finditer(text, present)] == whole
    assert bool(alt.search(text, present)) == bool(whole)
    blank = lambda m: "□" * len(m.group(0))  # noqa: E731
    assert alt.sub(blank, text, present) == alt.whole.sub(blank, text)


def test_an_alternation_runs_only_the_parts_whose_literals_are_present() -> None:
    alt = Alternation([r"想死", r"跳楼", r"(?<![a-z])kill(?![a-z])"])
    assert alt.literals == {"想死", "跳楼", "kill"}
    list(alt.finditer("我想死", {"想死"}))
    assert [rx is not None for rx in alt._compiled] == [True, False, False]


def test_an_alternation_that_can_match_empty_runs_whole() -> None:
    alt = Alternation([r"想死", r"x*"])
    assert [m.span() for m in alt.finditer("a想死", {"想死"})] == [
        m.span() for m in alt.whole.finditer("a想死")]


def test_a_pattern_that_reads_the_blanked_hyperbole_still_runs() -> None:
    data = lexicon_mod.load_yaml("lexicon.yaml")
    data["rules"] = [*data["rules"], {"id": "blank_probe", "cat": "suicide", "score": 0.9,
                                      "strong": False, "zh": ["□□□{G}{0,4}(?:去|走)"]}]
    lex = lexicon_mod.Lexicon(data)
    norm = normalize("累死了 今晚就去")
    assert lex.masked(norm.base).startswith("□□□")
    evidence = [s.evidence for s in lex.scan_detail(norm)[0]]
    assert any("blank_probe" in e for e in evidence), evidence
    assert lex.scan_detail(norm) == lex.scan_detail(norm, prefilter=False)
