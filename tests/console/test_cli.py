"""The admin CLI contract, run as users run it: `.venv/bin/python -m bot admin …`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import AuditLog, GuardianLink, Person, Worker, WorkerAssignment
from bot.db.session import session_scope
from bot.staff import passwords
from tests.console.conftest import FAST_ARGON2, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
if not Path(PYTHON).exists():
    PYTHON = sys.executable


@pytest.fixture
def admin_cli(env: str, tmp_path: Path, data_key: str):  # type: ignore[no-untyped-def]
    base = {
        **os.environ, "DATABASE_URL": env, "PEIBAN_DATA_KEY": data_key,
        "PEIBAN_VAR_DIR": str(tmp_path), **FAST_ARGON2,
    }

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "-m", "bot", "admin", *args], input=stdin, capture_output=True,
            text=True, cwd=ROOT, env=base, timeout=120,
        )

    return run


def test_add_worker_contract(admin_cli, env: str) -> None:  # type: ignore[no-untyped-def]
    done = admin_cli("add-worker", "boss", "--telegram-chat-id", "900", "--role", "supervisor",
                     stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    done = admin_cli("add-worker", "alice", "--telegram-chat-id", "901", "--supervisor", "boss",
                     "--on-call", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    with session_scope(env) as db:
        alice = db.execute(select(Worker).where(Worker.username == "alice")).scalar_one()
        boss = db.execute(select(Worker).where(Worker.username == "boss")).scalar_one()
        assert (alice.role, alice.telegram_chat_id, alice.on_call) == ("social_worker", "901", True)
        assert alice.supervisor_id == boss.id and boss.role == "supervisor"
        assert passwords.verify_password(alice.password_hash, PASSWORD)
        actions = db.execute(select(AuditLog.action, AuditLog.actor)).all()
        assert ("create_worker", "cli") in actions


@pytest.mark.parametrize("stdin", ["", "\n", "short\n", "password123\n"])
def test_add_worker_refuses_weak_or_empty_password(admin_cli, env: str, stdin: str) -> None:  # type: ignore[no-untyped-def]
    done = admin_cli("add-worker", "carol", "--telegram-chat-id", "1", stdin=stdin)
    assert done.returncode == 1
    assert "error" in done.stderr
    with session_scope(env) as db:
        assert db.execute(select(Worker)).first() is None


def test_assign_creates_person_and_assignment(admin_cli, env: str) -> None:  # type: ignore[no-untyped-def]
    assert admin_cli("add-worker", "alice", "--telegram-chat-id", "5",
                     stdin=PASSWORD + "\n").returncode == 0
    done = admin_cli("assign", "123456789", "alice")
    assert done.returncode == 0, done.stderr
    with session_scope(env) as db:
        person = db.execute(select(Person).where(Person.sender_id == "123456789")).scalar_one()
        assert person.role == "unknown"
        assignment = db.execute(select(WorkerAssignment)).scalar_one()
        assert assignment.child_id == person.id
    assert admin_cli("assign", "123456789", "nobody").returncode == 1


def test_list_disable_reset_link_contact(admin_cli, env: str) -> None:  # type: ignore[no-untyped-def]
    assert admin_cli("add-worker", "alice", "--telegram-chat-id", "5",
                     stdin=PASSWORD + "\n").returncode == 0
    listing = admin_cli("list-workers", "--json")
    assert json.loads(listing.stdout.splitlines()[0])["username"] == "alice"
    assert "alice" in admin_cli("list-workers").stdout
    assert admin_cli("disable", "alice").returncode == 0
    assert admin_cli("reset-password", "alice", stdin="weak\n").returncode == 1
    assert admin_cli("reset-password", "alice", stdin="lantern-orchard-77\n").returncode == 0
    assert admin_cli("link-guardian", "grandma-7", "child-7").returncode == 0
    assert admin_cli("set-contact", "alice", "王老师 138-0000-0000").returncode == 0
    code = admin_cli("telegram-code", "alice")
    assert code.returncode == 0 and "/link " in code.stdout
    with session_scope(env) as db:
        alice = db.execute(select(Worker).where(Worker.username == "alice")).scalar_one()
        assert not alice.active and alice.shared_contact == "王老师 138-0000-0000"
        assert passwords.verify_password(alice.password_hash, "lantern-orchard-77")
        assert db.execute(select(GuardianLink)).scalar_one()
        actions = set(db.execute(select(AuditLog.action)).scalars())
    assert {"disable_worker", "reset_password", "link_guardian", "set_contact"} <= actions


def test_usage_errors(admin_cli) -> None:  # type: ignore[no-untyped-def]
    assert admin_cli().returncode == 2
    assert admin_cli("add-worker", "x", "--role", "king", stdin=PASSWORD).returncode == 2
