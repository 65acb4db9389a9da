"""Walk exercises the way a child would, for the tests: tap buttons, type short answers."""

from __future__ import annotations

from typing import Any, Iterator, Optional

from bot.companion import engine
from bot.companion.engine import Message, Turn, UserInput

SAMPLE = {"zh": "小明和我在院子里一起玩", "en": "my friend and I played outside"}
MAX_TURNS = 60


def reply_for(ex: dict[str, Any], turn: Turn, lang: str, pick: int = 0) -> str:
    """What a cooperative child sends next: the `pick`-th button, or a short answer."""
    kind = engine.current_kind(ex, turn.state)
    if kind == "rating":
        return '/rate{"rating":"%d"}' % (3 + pick % 3)
    buttons = turn.messages[-1].buttons if turn.messages else []
    if kind in ("choice", "count") and buttons:
        return buttons[pick % len(buttons)]["payload"]
    return SAMPLE[lang]


def walk(ex: dict[str, Any], lang: str, picks: Optional[list[int]] = None,
         answers: Optional[dict[str, Any]] = None) -> tuple[list[Message], Turn]:
    """Run `ex` to its end; `picks` chooses buttons at successive choice steps."""
    picks = list(picks or [])
    turn = engine.start(ex, lang, answers)
    messages = list(turn.messages)
    for _ in range(MAX_TURNS):
        if turn.status != engine.ACTIVE or turn.switch_to:
            return messages, turn
        kind = engine.current_kind(ex, turn.state)
        pick = picks.pop(0) if kind == "choice" and picks else 0
        turn = engine.handle(ex, turn.state, UserInput(reply_for(ex, turn, lang, pick)), lang)
        messages += turn.messages
    raise AssertionError(f"{ex['id']} did not end within {MAX_TURNS} turns")


def all_paths(ex: dict[str, Any], lang: str, answers: Optional[dict[str, Any]] = None
              ) -> Iterator[tuple[list[Message], Turn, list[str]]]:
    """Every path through the script: each button of each choice step, depth first."""
    start = engine.start(ex, lang, answers)
    stack = [(start, list(start.messages), [])]
    while stack:
        turn, messages, visited = stack.pop()
        if turn.status != engine.ACTIVE or turn.switch_to:
            yield messages, turn, visited
            continue
        if len(visited) > MAX_TURNS:
            raise AssertionError(f"{ex['id']}: path too long: {visited}")
        kind = engine.current_kind(ex, turn.state)
        buttons = turn.messages[-1].buttons if turn.messages else []
        width = len(buttons) if kind == "choice" and buttons else 1
        for pick in range(width):
            text = reply_for(ex, turn, lang, pick)
            following = engine.handle(ex, turn.state, UserInput(text), lang)
            stack.append((following, messages + following.messages,
                          visited + [str(turn.state["step"])]))
