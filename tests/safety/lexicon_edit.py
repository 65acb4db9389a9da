"""Scripted edits of bot/safety/data/lexicon.yaml that keep its layout and comments.

A round of rule changes is easiest to review as a short script of calls:

    from tests.safety.lexicon_edit import add, extend_field, load, new_rule, save, set_field
    s = load()
    s = add(s, "grave_signs", "zh", r'给自己画(?:了)?(?:个)?(?:坟|墓碑)')
    s = set_field(s, "gas", "unless", "['报警器']")
    s = extend_field(s, "fire", "unless", r'捐(?:了|款)')   # one more item in the list
    save(s)   # refuses to write YAML that does not parse

Rules are found by id; a new pattern goes after the last one of its language list (the
list is created when the rule has none). Patterns are checked to compile first.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

PATH = Path(__file__).resolve().parents[2] / "bot" / "safety" / "data" / "lexicon.yaml"
_SLOTS = re.compile(r"\{[A-Z_]+\}")


def load() -> str:
    return PATH.read_text(encoding="utf-8")


def save(text: str) -> None:
    yaml.safe_load(text)
    PATH.write_text(text, encoding="utf-8")


def _quoted(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


def rule_span(text: str, rule_id: str) -> tuple[int, int]:
    """Start and end of a rule's block; comment lines after it belong to the next rule."""
    m = re.search(rf"^  - id: {re.escape(rule_id)}\n", text, re.M)
    if not m:
        raise KeyError(rule_id)
    nxt = re.search(r"^  (?:- id:|# -{10})", text[m.end():], re.M)
    end = m.end() + nxt.start() if nxt else len(text)
    lines = text[m.start():end].splitlines(keepends=True)
    while lines and lines[-1].lstrip().startswith("#"):
        lines.pop()
    return m.start(), m.start() + len("".join(lines))


def _edit_rule(text: str, rule_id: str, edit) -> str:
    a, b = rule_span(text, rule_id)
    return text[:a] + edit(text[a:b]) + text[b:]


def add(text: str, rule_id: str, lang: str, pattern: str) -> str:
    re.compile(_SLOTS.sub(".", pattern))
    line = f"      - {_quoted(pattern)}\n"

    def edit(body: str) -> str:
        m = re.search(rf"^    {lang}:\n((?:      - .*\n)+)", body, re.M)
        if m:
            return body[:m.end()] + line + body[m.end():]
        return body.rstrip("\n") + f"\n    {lang}:\n" + line

    return _edit_rule(text, rule_id, edit)


def new_rule(text: str, after: str, block: str) -> str:
    _, b = rule_span(text, after)
    return text[:b] + block.rstrip("\n") + "\n" + text[b:]


def set_field(text: str, rule_id: str, field: str, value: str) -> str:
    """Set a scalar or inline-list field (unless, void_before, …) of one rule."""
    line = f"    {field}: {value}\n"

    def edit(body: str) -> str:
        m = re.search(rf"^    {field}: .*\n", body, re.M)
        if m:
            return body[:m.start()] + line + body[m.end():]
        i = body.index("\n", body.index("score:")) + 1
        return body[:i] + line + body[i:]

    return _edit_rule(text, rule_id, edit)


def extend_field(text: str, rule_id: str, field: str, item: str) -> str:
    """Append one pattern to an inline-list field (unless, void_before, …) of one rule,
    creating the field when the rule has none."""
    re.compile(_SLOTS.sub(".", item))
    a, b = rule_span(text, rule_id)
    m = re.search(rf"^    {field}: (.*)\n", text[a:b], re.M)
    items = list(yaml.safe_load(m.group(1))) if m else []
    return set_field(text, rule_id, field, "[" + ", ".join(map(_quoted, items + [item])) + "]")
