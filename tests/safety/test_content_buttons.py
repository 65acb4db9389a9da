"""Our own exercise buttons never look like a disclosure: a child who taps "Skip rope"
must not be taken into a crisis conversation (seen when the classifier was retrained)."""

from __future__ import annotations

from typing import Iterator

import pytest
import yaml

from bot.companion.content import CONTENT_DIR
from bot.safety.detector import analyse


def _titles(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "title" and isinstance(value, dict):
                yield from (t for t in value.values() if isinstance(t, str))
            else:
                yield from _titles(value)
    elif isinstance(node, list):
        for item in node:
            yield from _titles(item)


def _all_titles() -> list[str]:
    out: set[str] = set()
    for path in sorted(CONTENT_DIR.rglob("*.yml")):
        out.update(_titles(yaml.safe_load(path.read_text(encoding="utf-8"))))
    return sorted(out)


def test_content_has_button_titles() -> None:
    assert len(_all_titles()) > 50


@pytest.mark.parametrize("title", _all_titles())
def test_a_button_title_does_not_escalate(title: str) -> None:
    assert not analyse(title, "child").escalate, analyse(title, "child").evidence
