"""Alembic environment: the URL comes from the caller (db/migrate.py), never from a file."""

from alembic import context
from sqlalchemy import text

from tuneforge.db.models import Base
from tuneforge.db.session import get_engine

url = context.config.attributes["database_url"]

with get_engine(url).connect() as connection:
    if connection.dialect.name == "postgresql":
        # Several workers may start at once: one migrates, the others wait and then find nothing to do.
        connection.execute(text("SELECT pg_advisory_lock(7263541)"))
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_unlock(7263541)"))
        connection.commit()
