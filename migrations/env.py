import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Logging from alembic.ini, without silencing the app's own loggers.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    return get_engine().url.render_as_string(hide_password=False).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode, each in its own transaction.

    A migration that fails leaves the database at the revision before it, with nothing of the
    failed one applied: the next upgrade starts clean. On SQLite that needs two things the
    driver does not do by itself (see sqlite_migration_engine).
    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()
    on_sqlite = connectable.dialect.name == "sqlite"
    if on_sqlite:
        connectable = sqlite_migration_engine(connectable.url)

    if on_sqlite:
        with connectable.begin() as connection:
            recover_interrupted_batches(connection)

    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            transaction_per_migration=True,
            transactional_ddl=True,
            on_version_apply=[check_foreign_keys] if on_sqlite else [],
            **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()
    if on_sqlite:
        connectable.dispose()


def sqlite_migration_engine(url):
    """An engine for migrating SQLite, as Alembic's batch-mode documentation describes.

    Batch mode copies a table and drops the old one, which fails while other tables' foreign
    keys point at it, so enforcement is off for the migration's connection (PRAGMA
    foreign_keys is ignored inside a transaction: it is set before BEGIN) and
    check_foreign_keys checks the data after each migration instead. Python's sqlite3 does not
    BEGIN before DDL, so the engine emits BEGIN itself: SQLite's DDL is then transactional.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def take_over_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def begin(connection):
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql("BEGIN")

    return engine


def recover_interrupted_batches(connection):
    """Undo what an upgrade of a release before 0.16.0 left half-done on SQLite.

    Those ran without a transaction, and batch mode could stop between copying a table to
    _alembic_tmp_<name> and swapping it in. While <name> still exists the copy is stale and
    dropped; if <name> is gone, the copy is all there is and takes its name back.
    """
    tables = set(sa.inspect(connection).get_table_names())
    for leftover in sorted(name for name in tables if name.startswith("_alembic_tmp_")):
        original = leftover.removeprefix("_alembic_tmp_")
        if original in tables:
            logger.warning("dropping %s, left by an interrupted upgrade", leftover)
            connection.exec_driver_sql(f'DROP TABLE "{leftover}"')
        else:
            logger.warning("renaming %s back to %s, left by an interrupted upgrade",
                           leftover, original)
            connection.exec_driver_sql(f'ALTER TABLE "{leftover}" RENAME TO "{original}"')


def check_foreign_keys(ctx, step, heads, run_args):
    """Before a migration's revision is committed: every foreign key still holds."""
    broken = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        found = ", ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in
                          broken[:5])
        raise RuntimeError(f"migration {step.up_revision_id} left {len(broken)} rows whose "
                           f"foreign key points nowhere ({found}); it was rolled back")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
