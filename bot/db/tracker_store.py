"""Rasa's SQL tracker store on our database, plus the durable half of the safety path.

The user's message and — when it is a risk disclosure — its case and alert outbox rows
are committed in one transaction, so a disclosure is never stored without its alert.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import make_url

from bot.config import settings
from bot.core import speedups
from bot.db.session import _configure_sqlite, _ensure_sqlite_dir, normalise_url
from bot.escalation import Profile, record_messages

logger = logging.getLogger(__name__)
speedups.install()  # hot paths in long conversations: see bot/core/speedups.py


def sql_store_kwargs(url: str) -> dict[str, Any]:
    """Split a database URL into SQLTrackerStore's keyword arguments."""
    parsed = make_url(normalise_url(url))
    if parsed.drivername.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        return {"dialect": "sqlite", "db": parsed.database or "rasa.db"}
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }


class PeibanTrackerStore(SQLTrackerStore):
    """SQL tracker store that also records risk cases in the same transaction."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        event_broker: Optional[EventBroker] = None,
        url: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("host", None)
        database_url = url or settings().database_url
        super().__init__(
            domain=domain, event_broker=event_broker, **sql_store_kwargs(database_url), **kwargs
        )
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine)
            self.engine.dispose()  # reconnect with WAL and busy_timeout applied

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            for event in new_events:
                session.add(self._row(tracker.sender_id, event))
            session.flush()
            self._record_risk(session, tracker, new_events)
            session.commit()

    def _row(self, sender_id: str, event: Any) -> Any:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    @staticmethod
    def _record_risk(session: Any, tracker: DialogueStateTracker, new_events: list) -> None:
        profile = Profile(
            role=tracker.get_slot("role"),
            language=tracker.get_slot("language"),
            age_band=tracker.get_slot("age_band"),
        )
        savepoint = session.begin_nested()
        try:
            record_messages(session, tracker.sender_id, list(tracker.events), new_events, profile)
            savepoint.commit()
        except Exception:
            # The events still commit; the alert worker's sweep over them retries the case.
            savepoint.rollback()
            logger.exception(
                "recording risk for %s failed; the sweep will retry", tracker.sender_id
            )
