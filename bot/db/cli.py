"""`python -m bot db upgrade|downgrade|current`."""

from __future__ import annotations

import argparse

from alembic import command

from bot.db.migrate import alembic_config, downgrade, upgrade


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot db")
    parser.add_argument("action", choices=["upgrade", "downgrade", "current"])
    parser.add_argument("revision", nargs="?")
    args = parser.parse_args(argv)
    if args.action == "upgrade":
        upgrade(revision=args.revision or "head")
    elif args.action == "downgrade":
        downgrade(revision=args.revision or "-1")
    else:
        command.current(alembic_config())
    return 0
