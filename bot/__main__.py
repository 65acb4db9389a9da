"""`python -m bot <command> …` — one entry point; each command lives with its concern."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "admin": ("bot.staff.cli", "manage social workers, links and invite codes"),
    "alerts": ("bot.alerts.cli", "run the alert worker, inspect the outbox"),
    "telegram": ("bot.channels.telegram_cli", "set-webhook, delete-webhook, poll"),
    "privacy": ("bot.privacy", "purge, rotate-key, verify-audit"),
    "db": ("bot.db.cli", "upgrade, downgrade, current"),
    "run": ("bot.run", "start and supervise every process"),
    "console": ("bot.console.app", "serve the console and chat page on :8080"),
}


def usage() -> str:
    lines = ["usage: python -m bot <command> [args…]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(usage(), file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
