"""The console in a real headless Chromium (Debian's), driven by Playwright.

A worker logs in, a case written to the database appears in the queue without a reload,
they open it, acknowledge and resolve it; a second worker cannot see it; a <script> in the
child's message stays text. With a trained model, the same starting from a disclosure sent
to Rasa's REST channel (the full safety chain).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db.models import Case
from bot.db.session import session_scope
from tests.console.conftest import FAST_ARGON2, PASSWORD, World, make_case

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
XSS_MESSAGE = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">救救我'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"console exited:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(log.read_text(errors="replace"))


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def console(world: World, tmp_path: Path, data_key: str) -> Iterator[str]:
    """`python -m bot console` as a real process on a free port, on the test database."""
    port = free_port()
    log = tmp_path / "console.log"
    env = {**os.environ, **FAST_ARGON2, "DATABASE_URL": world.url, "PEIBAN_DATA_KEY": data_key,
           "PEIBAN_VAR_DIR": str(tmp_path), "PEIBAN_SESSION_KEY_FILE": str(tmp_path / "s.key"),
           "PEIBAN_CONSOLE_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "console", "--port", str(port), "--no-migrate"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def open_page(browser, problems: list[str], **options):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", **options)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    return page


def log_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/cases")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/cases")


def test_new_case_live_open_acknowledge_resolve(browser, console: str, world: World) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page = open_page(browser, problems)
    log_in(page, console, "alice")
    page.evaluate("window.__peibanMarker = 42")  # survives only if the page is not reloaded

    case_id = make_case(world.url, world.child_a, worker_id=world.alice, severity="imminent",
                        message=XSS_MESSAGE)
    row = page.wait_for_selector(f'tr[data-case-id="{case_id}"]', timeout=15_000)
    assert page.evaluate("window.__peibanMarker") == 42
    assert page.is_visible("#live")
    assert page.title().startswith("(1)")
    # The imminent case is first in the queue.
    assert page.get_attribute("#queue-rows tr:first-child", "data-case-id") == str(case_id)

    row.query_selector("a.case-link").click()
    page.wait_for_url(f"{console}/cases/{case_id}")
    assert "<script>window.__xss = 1</script>" in page.inner_text("#trigger-message")
    assert page.evaluate("window.__xss") is None  # the child's script never ran
    assert page.query_selector("#trigger-message script") is None

    page.click("#ack-button")
    page.wait_for_selector("#case-status:has-text('处理中')")
    page.select_option("#resolve-form select[name=outcome]", "referred_police")
    page.check("#resolve-form input[name=police_reported]")
    page.fill("#resolve-form textarea[name=text]", "已报警，孩子已安全，由奶奶陪同")
    page.click("#resolve-form button[type=submit]")
    page.wait_for_selector("#case-status:has-text('已结案')")

    with session_scope(world.url) as db:
        case = db.get(Case, case_id)
        assert case.status == "resolved" and case.outcome == "referred_police"
        assert case.acknowledged_by == world.alice
    assert page.evaluate("window.__xss") is None
    assert not [p for p in problems if "Content Security Policy" in p or "pageerror" in p], problems


def test_second_worker_cannot_see_the_case(browser, console: str, world: World) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(world.url, world.child_a, worker_id=world.alice, message="别人看不到")
    problems: list[str] = []
    page = open_page(browser, problems)
    log_in(page, console, "bob")
    assert page.query_selector(f'tr[data-case-id="{case_id}"]') is None
    assert page.query_selector(f'tr[data-case-id="{world.case_b}"]') is not None
    response = page.goto(f"{console}/cases/{case_id}")
    assert response.status == 404
    assert "别人看不到" not in page.content()
    # And it does not appear later through the live updates either.
    page.goto(f"{console}/cases")
    page.wait_for_timeout(4_000)
    assert page.query_selector(f'tr[data-case-id="{case_id}"]') is None


def test_phone_layout_and_language_switch(browser, console: str, world: World) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page = open_page(browser, problems, viewport={"width": 375, "height": 740},
                     device_scale_factor=2, is_mobile=True, has_touch=True)
    log_in(page, console, "alice")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, "the queue must not scroll sideways on a phone"
    page.click("a.lang")
    page.wait_for_selector("h1:has-text('Risk cases')")
    page.goto(f"{console}/children/{world.child_a}")
    assert page.query_selector("h1") is not None
    assert not [p for p in problems if "Content Security Policy" in p], problems


# --- the full chain: a disclosure over Rasa's REST channel ------------------------------------


@pytest.mark.e2e
def test_rest_disclosure_appears_in_console(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.stack import MODEL, Stack

    if not MODEL.exists():
        pytest.skip(f"no trained model at {MODEL}: run `make train`")
    stack = Stack(tmp_path)
    stack.migrate()
    sender = "console-e2e-child-1"
    assert stack.cli("admin", "add-worker", "wang", "--telegram-chat-id", "777000",
                     stdin=PASSWORD + "\n").returncode == 0
    assert stack.cli("admin", "assign", sender, "wang").returncode == 0
    try:
        # No action server: the safety chain must not need it (and this test is the console's).
        for name in ("telegram", "rasa", "alerts", "console"):
            stack.start(name)
        base = f"http://127.0.0.1:{stack.ports['console']}"
        problems: list[str] = []
        page = open_page(browser, problems)
        log_in(page, base, "wang")
        page.evaluate("window.__peibanMarker = 7")
        status, _ = stack.say(sender, "我把药都攒好了，今晚就吃掉，不想活了")
        assert status == 200
        row = page.wait_for_selector("#queue-rows tr.row", timeout=20_000)
        assert page.evaluate("window.__peibanMarker") == 7
        row.query_selector("a.case-link").click()
        page.wait_for_selector("#trigger-message")
        assert "攒好了" in page.inner_text("#trigger-message")
        page.click("#ack-button")
        page.wait_for_selector("#case-status:has-text('处理中')")
        page.select_option("#resolve-form select[name=outcome]", "referred_police")
        page.fill("#resolve-form textarea[name=text]", "已联系，安全")
        page.click("#resolve-form button[type=submit]")
        page.wait_for_selector("#case-status:has-text('已结案')")
        # A second worker sees nothing of it.
        assert stack.cli("admin", "add-worker", "li", "--telegram-chat-id", "777001",
                         stdin=PASSWORD + "\n").returncode == 0
        other = open_page(browser, problems)
        log_in(other, base, "li")
        assert other.query_selector("#queue-rows tr.row") is None
    finally:
        stack.stop_all()
