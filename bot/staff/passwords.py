"""Password hashing (argon2id) and the password policy for staff accounts.

The cost parameters come from RFC 9106's second recommendation (argon2-cffi's defaults:
t=3, m=64 MiB, p=4). They can be lowered only through the environment (PEIBAN_ARGON2_* or
PEIBAN_PASSWORD_FAST=1), which the test suites do so hundreds of logins stay fast;
`needs_rehash` then upgrades stored hashes the next time their owner logs in, so raising
the parameters later needs no migration.
"""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 would accept more, but a megabyte "password" is a DoS lever
_COMMON = {
    "password", "password1", "password123", "passw0rd", "12345678", "123456789",
    "1234567890", "qwertyuiop", "qwerty123", "iloveyou", "admin123", "administrator",
    "peiban123", "woaini1314", "a123456789", "88888888", "11111111", "00000000",
    "1qaz2wsx", "abc123456", "welcome123",
}

_lock = threading.Lock()
_hasher: PasswordHasher | None = None


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def hasher() -> PasswordHasher:
    global _hasher
    with _lock:
        if _hasher is None:
            # PEIBAN_PASSWORD_FAST=1 (end-to-end tests): the cheapest sane parameters.
            fast = os.environ.get("PEIBAN_PASSWORD_FAST", "") not in ("", "0")
            _hasher = PasswordHasher(
                time_cost=_int_env("PEIBAN_ARGON2_TIME_COST", 1 if fast else 3),
                memory_cost=_int_env("PEIBAN_ARGON2_MEMORY_KIB", 8192 if fast else 65536),
                parallelism=_int_env("PEIBAN_ARGON2_PARALLELISM", 1 if fast else 4),
                type=Type.ID,
            )
        return _hasher


def reset_hasher() -> None:
    """Re-read the cost parameters (tests change them to prove rehashing works)."""
    global _hasher
    with _lock:
        _hasher = None


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; never raises on a malformed or empty hash."""
    if not stored_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher().check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


_dummy_hash: str | None = None


def burn_time(password: str) -> None:
    """Verify against a throwaway hash so an unknown username costs as much as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("peiban-dummy-password-for-timing")
    verify_password(_dummy_hash, password)


def password_problem(password: str, username: str = "") -> str | None:
    """Return a message key describing why the password is too weak, or None if it is fine."""
    if not password or not password.strip():
        return "password_empty"
    if len(password) < MIN_LENGTH:
        return "password_short"
    if len(password) > MAX_LENGTH:
        return "password_long"
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) < 5:
        return "password_common"
    if username and len(username) >= 3 and username.lower() in lowered:
        return "password_has_username"
    return None


PROBLEM_TEXT = {
    "password_empty": "密码不能为空 / password must not be empty",
    "password_short": f"密码至少 {MIN_LENGTH} 个字符 / at least {MIN_LENGTH} characters",
    "password_long": f"密码最多 {MAX_LENGTH} 个字符 / at most {MAX_LENGTH} characters",
    "password_common": "密码太常见或太简单 / password is too common or too simple",
    "password_has_username": "密码不能包含用户名 / password must not contain the username",
}
