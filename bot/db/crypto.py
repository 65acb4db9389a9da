"""Encryption at rest for free text written by or about a child.

Keys live in a key file (one Fernet key per line, newest first) outside the database, so a
copied database alone reveals nothing. MultiFernet decrypts with any listed key, which is
what makes `python -m bot privacy rotate-key` possible without downtime.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.config import settings

_lock = threading.Lock()
_cipher: MultiFernet | None = None


def _key_file() -> Path:
    return settings().data_key_file


def load_keys(path: Path | None = None) -> list[bytes]:
    """Return the keys from the key file, creating the file with a fresh key if absent."""
    path = path or _key_file()
    env_key = os.environ.get("PEIBAN_DATA_KEY")
    if env_key:
        return [k.strip().encode() for k in env_key.split(",") if k.strip()]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
    return [line.strip() for line in path.read_bytes().splitlines() if line.strip()]


def cipher() -> MultiFernet:
    global _cipher
    with _lock:
        if _cipher is None:
            _cipher = MultiFernet([Fernet(key) for key in load_keys()])
        return _cipher


def reset_cipher() -> None:
    """Forget the cached keys (after a rotation or in tests)."""
    global _cipher
    with _lock:
        _cipher = None


def encrypt(text: str) -> str:
    return cipher().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return "[unreadable: encrypted with a retired key]"
