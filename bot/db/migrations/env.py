"""Alembic environment: migrates the database named by DATABASE_URL (or the default)."""

from __future__ import annotations

from alembic import context

from bot.db.models import Base
from bot.db.session import get_engine

config = context.config
target_metadata = Base.metadata
# Rasa owns its tracker tables in the same database; never touch them.
RASA_TABLES = {"events"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name in RASA_TABLES)


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or str(get_engine().url)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or None
    engine = get_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
