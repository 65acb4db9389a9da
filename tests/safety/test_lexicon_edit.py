"""The scripted lexicon editor keeps the file valid and edits only the named rule."""

import yaml

from tests.safety import lexicon_edit as le

SAMPLE = """rules:
  - id: one
    cat: suicide
    score: 0.5
    zh:
      - 'a'
  # a comment that belongs to rule two
  - id: two
    cat: danger
    score: 0.6
"""


def test_add_appends_to_the_named_rule_and_creates_a_missing_list():
    text = le.add(SAMPLE, "one", "zh", "b{G}c")
    text = le.add(text, "two", "en", "it's")
    rules = {r["id"]: r for r in yaml.safe_load(text)["rules"]}
    assert rules["one"]["zh"] == ["a", "b{G}c"]
    assert rules["two"]["en"] == ["it's"] and "zh" not in rules["two"]
    assert "# a comment that belongs to rule two\n  - id: two" in text


def test_set_field_replaces_or_inserts_after_the_score():
    text = le.set_field(SAMPLE, "two", "unless", "['x']")
    text = le.set_field(text, "two", "unless", "['y']")
    assert yaml.safe_load(text)["rules"][1]["unless"] == ["y"]
    assert text.count("unless:") == 1


def test_extend_field_appends_an_item_and_creates_a_missing_field():
    text = le.extend_field(SAMPLE, "two", "unless", "x")
    text = le.extend_field(text, "two", "unless", "it's {G}y")
    assert yaml.safe_load(text)["rules"][1]["unless"] == ["x", "it's {G}y"]
    assert text.count("unless:") == 1


def test_new_rule_goes_after_the_named_rule():
    text = le.new_rule(SAMPLE, "one", "  - id: three\n    cat: abuse\n    zh: ['z']\n")
    assert [r["id"] for r in yaml.safe_load(text)["rules"]] == ["one", "three", "two"]
