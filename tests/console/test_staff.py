"""Unit tests for bot.staff: password hashing and policy, accounts, one-time link codes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.db.models import GuardianLink, InviteCode, Person, Worker, WorkerAssignment
from bot.db.session import session_scope
from bot.staff import accounts, linking, passwords
from bot.staff.accounts import AccountError
from tests.console.conftest import PASSWORD, audit_rows, make_worker


def test_hash_is_argon2id_and_verifies(env: str) -> None:
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "x")
    assert not passwords.verify_password("not-a-hash", PASSWORD)
    assert not passwords.verify_password(None, PASSWORD)


def test_rehash_needed_when_parameters_change(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    old = passwords.hash_password(PASSWORD)
    assert not passwords.needs_rehash(old)
    monkeypatch.setenv("PEIBAN_ARGON2_TIME_COST", "2")
    passwords.reset_hasher()
    assert passwords.needs_rehash(old)
    assert passwords.verify_password(old, PASSWORD)  # old hashes still work meanwhile


@pytest.mark.parametrize("bad, key", [
    ("", "password_empty"), ("   ", "password_empty"), ("short1", "password_short"),
    ("password123", "password_common"), ("aaaaaaaaaaaa", "password_common"),
    ("alice-is-great-2024", "password_has_username"), ("x" * 300, "password_long"),
])
def test_weak_passwords_refused(bad: str, key: str) -> None:
    assert passwords.password_problem(bad, "alice") == key


def test_good_password_accepted() -> None:
    assert passwords.password_problem(PASSWORD, "alice") is None


def test_create_worker_audited_and_unique_case_insensitive(env: str) -> None:
    make_worker(env, "alice")
    with session_scope(env) as db, pytest.raises(AccountError):
        accounts.create_worker(db, "Alice", PASSWORD)
    assert [r.detail["username"] for r in audit_rows(env, "create_worker")] == ["alice"]


def test_create_worker_rejects_bad_input(env: str) -> None:
    with session_scope(env) as db:
        for kwargs in ({"role": "king"}, {"telegram_chat_id": "abc"}, {"supervisor": "nobody"}):
            with pytest.raises(AccountError):
                accounts.create_worker(db, "carol", PASSWORD, **kwargs)
        with pytest.raises(AccountError):
            accounts.create_worker(db, "bad name!", PASSWORD)
        with pytest.raises(AccountError):
            accounts.create_worker(db, "carol", "weak")


def test_assign_creates_person_with_unknown_role(env: str) -> None:
    make_worker(env, "alice")
    make_worker(env, "bob")
    with session_scope(env) as db:
        accounts.assign(db, "rest-abc", "alice")
    with session_scope(env) as db:
        person = db.execute(select(Person).where(Person.sender_id == "rest-abc")).scalar_one()
        assert person.role == "unknown"
        accounts.assign(db, "rest-abc", "bob")  # reassigning replaces, never duplicates
    with session_scope(env) as db:
        rows = db.execute(select(WorkerAssignment)).scalars().all()
        assert len(rows) == 1
        assert db.get(Worker, rows[0].worker_id).username == "bob"
    assert len(audit_rows(env, "assign_child")) == 2


def test_link_guardian(env: str) -> None:
    with session_scope(env) as db:
        accounts.link_guardian(db, "g-1", "c-1", relation="奶奶")
        accounts.link_guardian(db, "g-1", "c-1")  # idempotent
        with pytest.raises(AccountError):
            accounts.link_guardian(db, "same", "same")
    with session_scope(env) as db:
        links = db.execute(select(GuardianLink)).scalars().all()
        assert len(links) == 1 and links[0].relation == "奶奶"
        roles = dict(db.execute(select(Person.sender_id, Person.role)).all())
        assert roles == {"g-1": "guardian", "c-1": "child"}


def test_disable_reset_unlock_contact(env: str) -> None:
    make_worker(env, "alice")
    with session_scope(env) as db:
        accounts.set_active(db, "alice", False)
        worker = accounts.get_worker(db, "alice")
        worker.failed_logins, worker.locked_until = 7, dt.datetime(2999, 1, 1)
        accounts.reset_password(db, "alice", "another-good-phrase-9")
        accounts.set_contact(db, "alice", "王老师 138-0000-0000")
    with session_scope(env) as db:
        worker = accounts.get_worker(db, "alice")
        assert not worker.active and worker.failed_logins == 0 and worker.locked_until is None
        assert passwords.verify_password(worker.password_hash, "another-good-phrase-9")
        assert worker.shared_contact == "王老师 138-0000-0000"
    actions = [r.action for r in audit_rows(env)]
    assert {"disable_worker", "reset_password", "set_contact"} <= set(actions)


def test_telegram_code_is_one_time_hashed_and_links(env: str) -> None:
    alice = make_worker(env, "alice")
    with session_scope(env) as db:
        code = linking.create_telegram_link_code(db, alice)
    with session_scope(env) as db:
        stored = db.execute(select(InviteCode.code_hash)).scalar_one()
        assert code not in stored and len(stored) == 64
        reply = linking.redeem_telegram_code(db, f" {code.lower()[:4]}-{code[4:]} ", 555)
        assert "已绑定" in reply and "Linked" in reply
    with session_scope(env) as db:
        assert db.get(Worker, alice).telegram_chat_id == "555"
        again = linking.redeem_telegram_code(db, code, 556)
        assert "无效" in again and "invalid" in again
    assert audit_rows(env, "telegram_linked")


def test_telegram_code_expires_and_new_code_retires_old(env: str) -> None:
    alice = make_worker(env, "alice")
    with session_scope(env) as db:
        first = linking.create_telegram_link_code(db, alice)
        second = linking.create_telegram_link_code(db, alice)
    with session_scope(env) as db:
        assert "invalid" in linking.redeem_telegram_code(db, first, 1)
        row = db.execute(select(InviteCode).where(
            InviteCode.code_hash == linking.hash_code("worker_telegram", second))).scalar_one()
        row.expires_at = dt.datetime.utcnow() - dt.timedelta(seconds=1)
    with session_scope(env) as db:
        assert "invalid" in linking.redeem_telegram_code(db, second, 1)
        assert "invalid" in linking.redeem_telegram_code(db, "", 1)
        assert "invalid" in linking.redeem_telegram_code(db, "ABCDEFGH", 1)


def test_one_chat_one_worker(env: str) -> None:
    alice, bob = make_worker(env, "alice"), make_worker(env, "bob")
    with session_scope(env) as db:
        linking.redeem_telegram_code(db, linking.create_telegram_link_code(db, alice), 77)
        linking.redeem_telegram_code(db, linking.create_telegram_link_code(db, bob), 77)
    with session_scope(env) as db:
        assert db.get(Worker, alice).telegram_chat_id is None
        assert db.get(Worker, bob).telegram_chat_id == "77"


def test_disabled_worker_cannot_link(env: str) -> None:
    alice = make_worker(env, "alice")
    with session_scope(env) as db:
        code = linking.create_telegram_link_code(db, alice)
        accounts.set_active(db, "alice", False)
    with session_scope(env) as db:
        assert "disabled" in linking.redeem_telegram_code(db, code, 9)
        assert db.get(Worker, alice).telegram_chat_id is None


def test_invite_codes_link_guardian_and_worker(env: str) -> None:
    alice = make_worker(env, "alice")
    with session_scope(env) as db:
        child = accounts.person_for_sender(db, "child-1", role="child")
        grandma = accounts.person_for_sender(db, "grandma-1", role="guardian")
        guardian_code = linking.create_invite_code(db, "guardian_child", child_id=child.id)
        worker_code = linking.create_invite_code(db, "child_worker", worker_id=alice)
        assert linking.redeem_invite_code(db, guardian_code, grandma) == "guardian_child"
        assert linking.redeem_invite_code(db, guardian_code, grandma) is None  # used
        assert linking.redeem_invite_code(db, worker_code, child) == "child_worker"
    with session_scope(env) as db:
        assert db.execute(select(GuardianLink)).scalar_one().child_id == child.id
        assert db.execute(select(WorkerAssignment)).scalar_one().worker_id == alice
