"""`python -m bot alerts worker | status | retry ID`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from sqlalchemy import func, select, update

from bot.db.models import Outbox, utcnow
from bot.db.session import session_scope


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot alerts")
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="deliver alerts until SIGTERM/SIGINT")
    worker.add_argument("--once", action="store_true", help="one pass, then exit (cron, tests)")
    status = sub.add_parser("status", help="print the outbox")
    status.add_argument("--limit", type=int, default=30)
    status.add_argument("--all", action="store_true", help="include sent and cancelled rows")
    retry = sub.add_parser("retry", help="send a failed row again now")
    retry.add_argument("id", type=int)
    return parser


async def _run_worker(once: bool) -> int:
    from .worker import AlertWorker  # imports telegram: only the worker needs it

    worker = AlertWorker()
    if once:
        await worker.run_once()
        await worker.close()
        return 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # finish in-flight sends, then exit
    await worker.run(stop)
    return 0


def _status(limit: int, everything: bool) -> int:
    with session_scope() as session:
        counts = dict(
            session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
        )
        query = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
        if not everything:
            query = query.where(Outbox.status.in_(("pending", "sending", "failed")))
        rows = list(session.execute(query).scalars())
    print("outbox:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty")
    print(
        f"{'id':>5} {'case':>5} {'kind':<9} {'channel':<8} {'status':<9} {'tries':>5} "
        f"{'next attempt (UTC)':<19} {'recipient':<14} last error"
    )
    for row in rows:
        when = row.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S") if row.next_attempt_at else "-"
        recipient = "webhook" if row.channel == "webhook" else (row.recipient or "(unlinked)")
        print(
            f"{row.id:>5} {row.case_id or '-':>5} {row.kind:<9} {row.channel:<8} "
            f"{row.status:<9} {row.attempts:>5} {when:<19} {recipient:<14} "
            f"{(row.last_error or '')[:60]}"
        )
    return 0


def _retry(row_id: int) -> int:
    with session_scope() as session:
        changed = session.execute(
            update(Outbox)
            .where(Outbox.id == row_id, Outbox.status.in_(("failed", "cancelled")))
            .values(status="pending", next_attempt_at=utcnow(), last_error=None)
        ).rowcount
    print("queued" if changed else f"outbox {row_id} is not failed or cancelled")
    return 0 if changed else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the bot token
    if args.command == "worker":
        return asyncio.run(_run_worker(args.once))
    if args.command == "status":
        return _status(args.limit, args.all)
    return _retry(args.id)
