"""Alembic environment: the URL is set by store.db.migrate, or read from settings for the CLI."""

from alembic import context
from sqlalchemy import engine_from_config, pool

from onedoor.store.tables import Base

config = context.config
if not config.get_main_option("sqlalchemy.url"):
    from onedoor.settings import Settings

    config.set_main_option("sqlalchemy.url", Settings().register_url.replace("%", "%%"))

connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
with connectable.connect() as connection:
    # render_as_batch lets the same migrations alter tables on SQLite.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
