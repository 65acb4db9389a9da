"""`python -m bot run`: start and supervise every Peiban process on embedded defaults.

Starts the action server (:5055), the Rasa server (:5005, REST + our Telegram channel), our
aiohttp app (:8080: health, chat page, console) and the alert worker; adds Telegram long
polling when a token is set and no public URL is. A process that dies is restarted with
backoff; Ctrl-C stops them all (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import ROOT, settings

GRACE_SECONDS = 15
BIN = Path(sys.executable).parent


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PEIBAN_ACTION_URL", "http://127.0.0.1:5055/webhook")
    env.setdefault("SANIC_HOST", settings().host)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def services(model_dir: str, rasa_port: int, action_port: int) -> list[Service]:
    host = settings().host
    rasa = str(BIN / "rasa")
    python = sys.executable
    found = [
        Service(
            "actions",
            [rasa, "run", "actions", "--actions", "actions", "--port", str(action_port)],
            f"http://127.0.0.1:{action_port}/health",
        ),
        Service(
            "rasa",
            [
                rasa,
                "run",
                "--model",
                model_dir,
                "--interface",
                host,
                "--port",
                str(rasa_port),
                "--credentials",
                "credentials.yml",
                "--endpoints",
                "endpoints.yml",
                "--cors",
                "*",
            ],
            f"http://127.0.0.1:{rasa_port}/",
        ),
        Service(
            "console",
            [python, "-m", "bot", "console"],
            f"http://127.0.0.1:{settings().console_port}/health",
        ),
        Service("alerts", [python, "-m", "bot", "alerts", "worker"]),
    ]
    if settings().telegram_token and not settings().telegram_public_url:
        found.append(Service("telegram-poll", [python, "-m", "bot", "telegram", "poll"]))
    return found


def start(service: Service, env: dict[str, str], log_dir: Path) -> None:
    log = (log_dir / f"{service.name}.log").open("ab")
    service.process = subprocess.Popen(
        service.command,
        cwd=ROOT,
        env={**env, **service.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us only; we stop children in order
    )
    print(f"  started {service.name:<14} pid {service.process.pid}  (log: {log.name})", flush=True)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except Exception:
        return False


def wait_healthy(items: list[Service], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pending = [s for s in items if s.health_url]
    while pending and time.monotonic() < deadline:
        pending = [s for s in pending if not healthy(s.health_url or "")]
        if any(s.process and s.process.poll() is not None for s in items):
            return False
        time.sleep(0.5)
    return not pending


def stop_all(items: list[Service]) -> None:
    for service in items:
        if service.process and service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for service in items:
        if not service.process:
            continue
        try:
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()
        print(f"  stopped {service.name}", flush=True)


def supervise(items: list[Service], env: dict[str, str], log_dir: Path) -> None:
    while True:
        now = time.monotonic()
        for service in items:
            if service.process and service.process.poll() is not None and now >= service.next_start:
                code = service.process.returncode
                service.restarts += 1
                delay = min(30.0, 2.0 ** min(service.restarts, 5))
                print(f"  {service.name} exited ({code}); restarting in {delay:.0f}s", flush=True)
                service.next_start = now + delay
                service.process = None
            elif service.process is None and now >= service.next_start:
                start(service, env, log_dir)
        time.sleep(0.5)


def banner(rasa_port: int) -> str:
    console = settings().console_url
    return "\n".join(
        [
            "",
            "Peiban is running:",
            f"  chat page (children, guardians)  {console}/chat",
            f"  social-worker console            {console}/",
            f"  health                           {console}/health",
            f"  REST channel                     http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            "  action server                    http://127.0.0.1:5055/health",
            f"  logs                             {settings().var_dir / 'logs'}",
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot run")
    parser.add_argument("--model", default=str(ROOT / "models"))
    parser.add_argument("--rasa-port", type=int, default=5005)
    parser.add_argument("--action-port", type=int, default=5055)
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for health")
    args = parser.parse_args(argv)
    log_dir = settings().var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = base_env()
    items = services(args.model, args.rasa_port, args.action_port)
    print("Starting Peiban…", flush=True)
    for service in items:
        start(service, env, log_dir)
    # Ctrl-C, and SIGTERM from a service manager, both mean "stop everything cleanly" — even
    # when we were started in the background, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if not wait_healthy(items, args.timeout):
            print(f"Some process did not come up; see the logs in {log_dir}", flush=True)
        else:
            print(banner(args.rasa_port), flush=True)
        supervise(items, env, log_dir)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        stop_all(items)
    return 0
