"""Our own exercise buttons never look like a disclosure: a child who taps "Skip rope"
must not be taken into a crisis conversation (seen when the classifier was retrained)."""

from __future__ import annotations

import pytest

from bot.companion.content import all_button_titles
from bot.safety.detector import analyse


def test_content_has_button_titles() -> None:
    assert len(all_button_titles()) > 50


@pytest.mark.parametrize("title", all_button_titles())
def test_a_button_title_does_not_escalate(title: str) -> None:
    assert not analyse(title, "child").escalate, analyse(title, "child").evidence
