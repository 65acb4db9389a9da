"""Settings read from the environment, in one place.

Every process (Rasa server components, action server, alert worker, console) reads its
configuration through :func:`settings` so the defaults are the same everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PEIBAN_VAR_DIR", ROOT / "var"))
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'peiban.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    data_key_file: Path
    telegram_token: str | None
    telegram_secret_token: str | None
    telegram_api_base_url: str | None
    telegram_public_url: str | None
    escalation_webhook_url: str | None
    escalation_webhook_secret: str | None
    redis_url: str | None
    rabbitmq_url: str | None
    rasa_url: str
    action_server_url: str
    console_url: str
    host: str
    console_port: int
    session_secret_file: Path
    encoder_threads: int  # BLAS threads per sentence-encoder call (risk detector)


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _env_int(name: str, default: int) -> int:
    """An optional tuning knob: a value that is not a number keeps the default."""
    try:
        return int(_env(name) or default)
    except ValueError:
        return default


@lru_cache(maxsize=1)
def settings() -> Settings:
    var_dir = VAR_DIR
    host = _env("PEIBAN_HOST") or "127.0.0.1"
    console_port = int(_env("PEIBAN_CONSOLE_PORT") or 8080)
    return Settings(
        database_url=_env("DATABASE_URL") or DEFAULT_DATABASE_URL,
        var_dir=var_dir,
        data_key_file=Path(_env("PEIBAN_DATA_KEY_FILE") or var_dir / "data.key"),
        telegram_token=_env("TELEGRAM_TOKEN"),
        telegram_secret_token=_env("TELEGRAM_SECRET_TOKEN"),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL"),
        telegram_public_url=_env("TELEGRAM_PUBLIC_URL"),
        escalation_webhook_url=_env("ESCALATION_WEBHOOK_URL"),
        escalation_webhook_secret=_env("ESCALATION_WEBHOOK_SECRET"),
        redis_url=_env("REDIS_URL"),
        rabbitmq_url=_env("RABBITMQ_URL"),
        rasa_url=_env("PEIBAN_RASA_URL") or "http://127.0.0.1:5005",
        action_server_url=_env("PEIBAN_ACTION_URL") or "http://127.0.0.1:5055/webhook",
        console_url=_env("PEIBAN_CONSOLE_URL") or f"http://{host}:{console_port}",
        host=host,
        console_port=console_port,
        session_secret_file=Path(_env("PEIBAN_SESSION_KEY_FILE") or var_dir / "session.key"),
        encoder_threads=_env_int("PEIBAN_ENCODER_THREADS", 2),
    )
