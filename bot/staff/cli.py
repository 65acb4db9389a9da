"""`python -m bot admin …` — manage staff accounts and links from a shell.

Contract (used by other issues' tests, keep it): `add-worker USERNAME --telegram-chat-id ID
[--role social_worker|supervisor|admin] [--supervisor USERNAME] [--on-call]` and
`assign SENDER_ID USERNAME`. Passwords come from stdin when it is piped (one line) or from
two getpass prompts; they are never accepted as arguments, which would leak into shell
history and `ps`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.db.models import WORKER_ROLES
from bot.db.session import session_scope
from bot.staff import accounts, linking
from bot.staff.accounts import AccountError

ACTOR = "cli"


class PasswordInputError(Exception):
    pass


def read_password(prompt: str = "密码 / password: ") -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass(prompt)
    second = getpass.getpass("再输一次 / again: ")
    if first != second:
        raise PasswordInputError("两次输入不一致 / the two passwords differ")
    return first


def _add_worker(session: Session, args: argparse.Namespace) -> str:
    worker = accounts.create_worker(
        session, args.username, read_password(), role=args.role,
        telegram_chat_id=args.telegram_chat_id, supervisor=args.supervisor,
        on_call=args.on_call, display_name=args.display_name, actor=ACTOR,
    )
    return f"created worker {worker.username} (id {worker.id}, {worker.role})"


def _assign(session: Session, args: argparse.Namespace) -> str:
    assignment = accounts.assign(session, args.sender_id, args.username, actor=ACTOR)
    return f"assigned sender {args.sender_id} (person {assignment.child_id}) to {args.username}"


def _list_workers(session: Session, args: argparse.Namespace) -> str:
    rows = accounts.list_workers(session)
    if args.json:
        return "\n".join(json.dumps(row.__dict__, ensure_ascii=False) for row in rows)
    header = (f"{'id':>4}  {'username':<20} {'role':<14} {'supervisor':<16} "
              "tg  on-call active locked children")
    lines = [header]
    for r in rows:
        lines.append(
            f"{r.id:>4}  {r.username:<20} {r.role:<14} {(r.supervisor or '-'):<16} "
            f"{'yes' if r.telegram_linked else 'no ':<3} {'yes' if r.on_call else 'no ':<7} "
            f"{'yes' if r.active else 'no ':<6} {'yes' if r.locked else 'no ':<6} {r.children}"
        )
    return "\n".join(lines)


def _disable(session: Session, args: argparse.Namespace) -> str:
    accounts.set_active(session, args.username, False, actor=ACTOR)
    return f"disabled {args.username}"


def _enable(session: Session, args: argparse.Namespace) -> str:
    accounts.set_active(session, args.username, True, actor=ACTOR)
    return f"enabled {args.username}"


def _reset_password(session: Session, args: argparse.Namespace) -> str:
    password = read_password("新密码 / new password: ")
    accounts.reset_password(session, args.username, password, actor=ACTOR)
    return f"password reset for {args.username}"


def _unlock(session: Session, args: argparse.Namespace) -> str:
    accounts.unlock(session, args.username, actor=ACTOR)
    return f"unlocked {args.username}"


def _link_guardian(session: Session, args: argparse.Namespace) -> str:
    link = accounts.link_guardian(
        session, args.guardian_sender, args.child_sender, relation=args.relation, actor=ACTOR
    )
    return f"linked guardian person {link.guardian_id} to child person {link.child_id}"


def _set_contact(session: Session, args: argparse.Namespace) -> str:
    accounts.set_contact(session, args.username, args.text, actor=ACTOR)
    return f"contact set for {args.username}"


def _set_supervisor(session: Session, args: argparse.Namespace) -> str:
    accounts.set_supervisor(session, args.username, args.supervisor or None, actor=ACTOR)
    return f"supervisor of {args.username}: {args.supervisor or '-'}"


def _set_on_call(session: Session, args: argparse.Namespace) -> str:
    accounts.set_on_call(session, args.username, args.state == "on", actor=ACTOR)
    return f"{args.username} on call: {args.state}"


def _telegram_code(session: Session, args: argparse.Namespace) -> str:
    worker = accounts.get_worker(session, args.username)
    code = linking.create_telegram_link_code(session, worker.id)
    minutes = int(linking.TELEGRAM_TTL.total_seconds() // 60)
    return f"send to the bot within {minutes} minutes:  /link {code}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot admin", description="manage Peiban staff")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("add-worker", help="create a worker (password from stdin or prompt)")
    p.add_argument("username")
    p.add_argument("--telegram-chat-id", default=None)
    p.add_argument("--role", choices=WORKER_ROLES, default="social_worker")
    p.add_argument("--supervisor", default=None, help="username of the supervisor")
    p.add_argument("--on-call", action="store_true", help="receives alerts for unassigned children")
    p.add_argument("--display-name", default=None)
    p.set_defaults(func=_add_worker)

    p = sub.add_parser("assign", help="make USERNAME the worker for a conversation's sender id")
    p.add_argument("sender_id")
    p.add_argument("username")
    p.set_defaults(func=_assign)

    p = sub.add_parser("list-workers", help="list workers")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_list_workers)

    for name, func, help_ in (
        ("disable", _disable, "disable an account (ends its sessions)"),
        ("enable", _enable, "enable an account again"),
        ("reset-password", _reset_password, "set a new password (stdin or prompt)"),
        ("unlock", _unlock, "lift a login lockout"),
        ("telegram-code", _telegram_code, "print a one-time /link code for the worker"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("username")
        p.set_defaults(func=func)

    p = sub.add_parser("link-guardian", help="record that a guardian looks after a child")
    p.add_argument("guardian_sender")
    p.add_argument("child_sender")
    p.add_argument("--relation", default=None, help="e.g. grandmother")
    p.set_defaults(func=_link_guardian)

    p = sub.add_parser("set-contact", help="contact text guardians may see")
    p.add_argument("username")
    p.add_argument("text")
    p.set_defaults(func=_set_contact)

    p = sub.add_parser("set-supervisor", help="set (or clear with '') the worker's supervisor")
    p.add_argument("username")
    p.add_argument("supervisor")
    p.set_defaults(func=_set_supervisor)

    p = sub.add_parser("set-on-call", help="turn on-call on or off")
    p.add_argument("username")
    p.add_argument("state", choices=("on", "off"))
    p.set_defaults(func=_set_on_call)
    return parser


def _ensure_schema() -> None:
    """Migrate first, so a fresh install can create its first admin in one command."""
    from bot.db.migrate import upgrade

    upgrade()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[Session, argparse.Namespace], str] = args.func
    _ensure_schema()
    try:
        with session_scope() as session:
            message = func(session, args)
    except (AccountError, PasswordInputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
