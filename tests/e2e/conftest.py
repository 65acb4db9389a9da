"""One real Peiban stack per test session (Rasa, actions, alert worker, console, fake Telegram)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import MODEL, Stack

WORKER_CHAT_ID = "777000"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train` (make test does it first)")
    running = Stack(tmp_path_factory.mktemp("stack"))
    running.migrate()
    added = running.cli(
        "admin",
        "add-worker",
        "wang",
        "--telegram-chat-id",
        WORKER_CHAT_ID,
        stdin="correct-horse-battery-9\n",
    )
    assert added.returncode == 0, added.stderr
    try:
        for name in ("telegram", "actions", "rasa", "alerts", "console"):
            running.start(name)
        yield running
    finally:
        running.stop_all()
