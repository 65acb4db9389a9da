"""The real Peiban processes for end-to-end tests, on free loopback ports.

Each service is a real subprocess (Rasa server, action server, alert worker, console, fake
Telegram Bot API) so tests can kill and restart any one of them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "peiban.tar.gz"
FAKE_TOKEN = "123456789:TEST-fake-token_for-peiban"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(
    method: str,
    url: str,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        payload, status = error.read(), error.code
    try:
        return status, json.loads(payload or b"null")
    except ValueError:
        return status, payload.decode("utf-8", "replace")


@dataclass
class Proc:
    name: str
    command: list[str]
    health: str | None
    process: subprocess.Popen | None = None
    log: Path | None = None


@dataclass
class Stack:
    workdir: Path
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in ("rasa", "actions", "console", "telegram")}
        self.db = self.workdir / "peiban.db"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.db}",
            "PEIBAN_VAR_DIR": str(self.workdir),
            "PEIBAN_ACTION_URL": f"http://127.0.0.1:{self.ports['actions']}/webhook",
            "PEIBAN_CONSOLE_PORT": str(self.ports["console"]),
            "PEIBAN_CONSOLE_URL": f"http://127.0.0.1:{self.ports['console']}",
            "TELEGRAM_TOKEN": FAKE_TOKEN,
            "TELEGRAM_SECRET_TOKEN": "e2e-secret",
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{self.ports['telegram']}/bot",
            "SANIC_HOST": "127.0.0.1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            "PEIBAN_PASSWORD_FAST": "1",
        }
        python, rasa = sys.executable, str(BIN / "rasa")
        p = self.ports
        self.procs = {
            "telegram": Proc(
                "telegram",
                [python, "-m", "tests.fakes.telegram_api", "--port", str(p["telegram"])],
                f"http://127.0.0.1:{p['telegram']}/_fake/calls",
            ),
            "actions": Proc(
                "actions",
                [rasa, "run", "actions", "--actions", "actions", "--port", str(p["actions"])],
                f"http://127.0.0.1:{p['actions']}/health",
            ),
            "rasa": Proc(
                "rasa",
                [
                    rasa,
                    "run",
                    "--model",
                    str(MODEL),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(p["rasa"]),
                    "--credentials",
                    "credentials.yml",
                    "--endpoints",
                    "endpoints.yml",
                ],
                f"http://127.0.0.1:{p['rasa']}/",
            ),
            "alerts": Proc("alerts", [python, "-m", "bot", "alerts", "worker"], None),
            "console": Proc(
                "console",
                [python, "-m", "bot", "console"],
                f"http://127.0.0.1:{p['console']}/health",
            ),
        }

    # --- lifecycle -----------------------------------------------------------------------

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start(self, name: str, wait: bool = True, timeout: float = 240) -> None:
        proc = self.procs[name]
        proc.log = self.workdir / f"{name}.log"
        with proc.log.open("ab") as log:
            proc.process = subprocess.Popen(
                proc.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait and proc.health:
            self.wait_healthy(name, timeout)

    def wait_healthy(self, name: str, timeout: float = 240) -> None:
        proc = self.procs[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.process and proc.process.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{self.tail(name)}")
            try:
                with urllib.request.urlopen(proc.health or "", timeout=2) as response:
                    if response.status < 500:
                        return
            except Exception:
                time.sleep(0.5)
        raise TimeoutError(f"{name} not healthy after {timeout}s:\n{self.tail(name)}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.process and proc.process.poll() is None:
            os.killpg(proc.process.pid, sig)
            proc.process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.kill(name, signal.SIGTERM)

    def tail(self, name: str, lines: int = 40) -> str:
        log = self.procs[name].log
        if not log or not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    # --- helpers -------------------------------------------------------------------------

    def say(self, sender: str, message: Any, timeout: float = 30) -> tuple[int, Any]:
        url = f"http://127.0.0.1:{self.ports['rasa']}/webhooks/rest/webhook"
        return http("POST", url, {"sender": sender, "message": message}, timeout=timeout)

    def texts(self, sender: str, message: str) -> list[str]:
        status, body = self.say(sender, message)
        assert status == 200, (status, body)
        return [m.get("text", "") for m in body]

    def telegram_calls(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.ports['telegram']}/_fake/calls?method={method}"
        return http("GET", url)[1]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def query(self, sql: str, *params: Any) -> list[tuple]:
        import sqlite3

        with sqlite3.connect(self.db) as connection:
            return connection.execute(sql, params).fetchall()
