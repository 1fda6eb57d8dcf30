"""Updating a shop that has data: every past revision, filled as that release filled it, is
upgraded to the newest one on the database the suite runs on (SQLite, or PostgreSQL with
MERCHANT_TEST_DATABASE_URL), the way `make run` does it; every row survives, the shop works.
An upgrade that fails half-way leaves the revision before it and the next start finishes it."""
from __future__ import annotations

import os
import shutil
import sqlite3
import textwrap

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from conftest import (
    ROOT,
    bare_app,
    buy,
    empty_database,
    get_order,
    order_ref,
    sandbox_pay,
    work,
)
from upgrade_data import FILLED_IN, LAYERS, data_at

from merchant.core.extensions import db, migrate
from merchant.ops import upgrades

REVISIONS = [revision for revision, _ in LAYERS]
HEAD = REVISIONS[-1]


def _config():
    return migrate.get_config()


def old_shop(app, revision: str) -> dict:
    """A database at `revision` holding that release's data; returns the data."""
    data = data_at(revision)
    with app.app_context():
        empty_database()
        command.upgrade(_config(), revision)
        tables = _reflect()
        with db.engine.begin() as connection:
            for table in tables.sorted_tables:
                if table.name in data:
                    connection.execute(table.delete())
                    connection.execute(table.insert(), data[table.name])
            if connection.dialect.name == "postgresql":         # ids go on after the rows'
                for name in data:
                    if "id" not in tables.tables[name].columns:
                        continue
                    connection.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"))
    return data


def _reflect() -> sa.MetaData:
    tables = sa.MetaData()
    tables.reflect(bind=db.engine)
    return tables


def run(app, *args):
    """A command as `make run` and the systemd unit run it; returns (exit code, output)."""
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def revision_now(app) -> tuple[str, ...]:
    with app.app_context():
        return upgrades.current_revisions()


def test_every_migration_has_its_upgrade_data(app):
    """A new migration must say what a shop that ran it holds (tests/upgrade_data.py)."""
    with app.app_context():
        scripts = ScriptDirectory.from_config(_config())
        chain = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert chain == REVISIONS


@pytest.mark.parametrize("revision", REVISIONS)
def test_a_shop_at_each_past_revision_upgrades_with_all_its_data(tmp_path, revision):
    app = bare_app(tmp_path)
    data = old_shop(app, revision)

    code, output = run(app, "seed-demo", "--if-empty")          # what `make run` runs first

    assert code == 0, output
    assert "Demo catalog created" not in output                  # the shop's own catalog stays
    if revision == HEAD:                                         # nothing to do, nothing to copy
        assert "Backup" not in output and not (tmp_path / "backups").exists()
    else:
        backup_folder = next((tmp_path / "backups").iterdir())
        assert f"Backup written to {backup_folder}" in output
        assert f"Upgraded the database to {HEAD}" in output
    assert revision_now(app) == (HEAD,)
    with app.app_context():
        tables = _reflect()
        with db.engine.connect() as connection:
            assert not [name for name in tables.tables if name.startswith("_alembic_tmp")]
            _assert_all_kept(connection, tables, data)
            _assert_filled_in(connection, tables, revision, data)
        if revision != HEAD and db.engine.dialect.name == "sqlite":
            _assert_backup_holds(backup_folder / "merchant.db", data)
        elif revision != HEAD:
            assert (backup_folder / "merchant.pgdump").stat().st_size > 0

    client = app.test_client()
    for order in data["orders"]:                                 # old orders' pages render
        page = client.get(f"/o/{order['ref']}?t={order['view_token']}", follow_redirects=True)
        assert page.status_code == 200 and order["package_name"] in page.text
    _assert_a_new_purchase_is_delivered(app, "after_update")


def _stored(connection, table: sa.Table, row: dict):
    """The row of `table` with the primary key of `row`, as the database has it now."""
    key = sa.and_(*(column == row[column.name] for column in table.primary_key.columns))
    return connection.execute(sa.select(table).where(key)).mappings().one()


def _assert_row_kept(connection, table: sa.Table, row: dict) -> None:
    found = _stored(connection, table, row)
    assert {name: found[name] for name in row} == row, table.name


def _assert_all_kept(connection, tables: sa.MetaData, data: dict) -> None:
    for name, rows in data.items():
        for row in rows:
            _assert_row_kept(connection, tables.tables[name], row)


def _assert_a_new_purchase_is_delivered(app, username: str) -> None:
    client = app.test_client()
    ref = order_ref(buy(client, app, username=username))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == "delivered"


def _assert_filled_in(connection, tables, revision: str, data: dict) -> None:
    """Rows written before a migration got the values it gives them."""
    later = REVISIONS[REVISIONS.index(revision) + 1:]
    for migration in later:
        for name, values in FILLED_IN.get(migration, {}).items():
            table = tables.tables[name]
            for row in data.get(name, []):
                found = _stored(connection, table, row)
                assert {column: found[column] for column in values} == values, name


def _assert_backup_holds(path, data: dict) -> None:
    with sqlite3.connect(path) as backup:
        for name, rows in data.items():
            assert backup.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == len(rows)


BROKEN_MIGRATION = '''
"""a migration that stops half-way while {marker} exists

Revision ID: 9b0e0e0e0e01
Revises: {head}
"""
import os

from alembic import op
import sqlalchemy as sa

revision = "9b0e0e0e0e01"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    # On SQLite this copies orders and drops the old table, which other tables point at.
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("gift_note", sa.Text(), nullable=True))
        batch_op.alter_column("locale", server_default="id")
    op.execute("UPDATE orders SET gift_note = 'for you'")
    if os.path.exists({marker!r}):
        raise RuntimeError("the disk is full")


def downgrade():
    pass
'''

ORPHAN_MIGRATION = '''
"""a migration that leaves an order event without its order

Revision ID: 9b0e0e0e0e02
Revises: {head}
"""
from alembic import op

revision = "9b0e0e0e0e02"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shop_settings") as batch_op:
        batch_op.alter_column("default_locale", server_default="id")
    op.execute("INSERT INTO order_events (id, order_id, at, source, detail) "
               "VALUES (9999, 424242, '2026-12-01 00:00:00', 'worker', 'orphan')")


def downgrade():
    pass
'''


@pytest.fixture
def migrations_with(tmp_path, monkeypatch):
    """The shop's migrations plus one written by the test, as the next release would ship
    (after the app is made: making one points Flask-Migrate at the shop's own folder)."""
    folder = tmp_path / "migrations"

    def add(source: str, **values) -> None:
        shutil.copytree(os.path.join(ROOT, "migrations"), folder)
        (folder / "versions" / "next_release.py").write_text(
            textwrap.dedent(source.format(head=HEAD, **values)))
        monkeypatch.setattr(migrate, "directory", str(folder))
    return add


def test_an_upgrade_that_stops_half_way_leaves_the_previous_revision_and_the_next_start_finishes(
        tmp_path, migrations_with):
    marker = tmp_path / "disk-full"
    marker.touch()
    app = bare_app(tmp_path)
    data = old_shop(app, HEAD)
    migrations_with(BROKEN_MIGRATION, marker=str(marker))

    code, output = run(app, "seed-demo", "--if-empty")

    assert code != 0
    backup_folder = next((tmp_path / "backups").iterdir())
    assert "The upgrade to revision 9b0e0e0e0e01 stopped: the disk is full" in output
    assert f"The database is still at {HEAD}" in output
    assert f"The backup taken before the upgrade is {backup_folder}" in output
    assert "To go back to it: stop the shop" in output
    assert revision_now(app) == (HEAD,)
    with app.app_context():
        tables = _reflect()
        assert "gift_note" not in tables.tables["orders"].columns       # nothing half-done
        assert not [name for name in tables.tables if name.startswith("_alembic_tmp")]

    marker.unlink()                                     # the cause is fixed; start again
    code, output = run(app, "seed-demo", "--if-empty")

    assert code == 0, output
    assert revision_now(app) == ("9b0e0e0e0e01",)
    with app.app_context(), db.engine.connect() as connection:
        tables = _reflect()
        for row in data["orders"]:
            _assert_row_kept(connection, tables.tables["orders"], row)
        notes = connection.execute(sa.select(tables.tables["orders"].c.gift_note)).scalars()
        assert set(notes) == {"for you"}


def test_a_migration_that_breaks_a_foreign_key_is_rolled_back(tmp_path, migrations_with):
    app = bare_app(tmp_path)
    old_shop(app, HEAD)
    migrations_with(ORPHAN_MIGRATION)

    code, output = run(app, "upgrade")

    assert code != 0
    assert "The upgrade to revision 9b0e0e0e0e02 stopped" in output
    assert revision_now(app) == (HEAD,)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM order_events WHERE id = 9999").scalar() == 0


def test_a_current_database_is_left_alone_without_a_backup(tmp_path):
    app = bare_app(tmp_path)
    old_shop(app, HEAD)

    code, output = run(app, "seed-demo", "--if-empty")

    assert code == 0, output
    assert "Backup" not in output and "Upgraded" not in output
    assert not (tmp_path / "backups").exists()


def test_a_new_database_is_made_without_a_backup(tmp_path):
    app = bare_app(tmp_path)
    with app.app_context():
        empty_database()

    code, output = run(app, "seed-demo", "--if-empty")

    assert code == 0, output
    assert "Demo catalog created" in output and "Backup" not in output
    assert revision_now(app) == (HEAD,)


@pytest.mark.skipif(not os.environ.get("MERCHANT_TEST_DATABASE_URL"),
                    reason="pg_dump backs up PostgreSQL only; SQLite needs no tool")
def test_without_pg_dump_the_upgrade_asks_for_no_backup_and_changes_nothing(
        tmp_path, monkeypatch):
    app = bare_app(tmp_path)
    old_shop(app, REVISIONS[-2])
    monkeypatch.setenv("PATH", str(tmp_path))           # no pg_dump on this machine

    code, output = run(app, "seed-demo", "--if-empty")

    assert code != 0
    assert "pg_dump was not found" in output
    assert "flask --app merchant upgrade --no-backup" in output
    assert revision_now(app) == (REVISIONS[-2],)

    code, output = run(app, "upgrade", "--no-backup")
    assert code == 0, output
    assert revision_now(app) == (HEAD,)


def test_version_is_printed_and_shown_in_the_panel(app, owner):
    from merchant.version import __version__
    code, output = run(app, "version")
    assert code == 0 and output.strip() == f"merchant {__version__}"
    assert f"merchant {__version__}" in owner.get("/admin/").text


def test_a_sqlite_shop_an_earlier_release_left_half_upgraded_is_repaired(tmp_path):
    """The reported case: releases before 0.16.0 stopped in the languages migration on SQLite
    (FOREIGN KEY constraint failed) after adding default_locale and copying shop_settings, with
    alembic_version still at c7d1e5a9b3f2; every retry then failed on the duplicate column.
    Only SQLite could be left so, whatever database the suite runs on."""
    app = bare_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'old.db'}")
    data = old_shop(app, "c7d1e5a9b3f2")
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE shop_settings ADD COLUMN default_locale "
                                   "VARCHAR(8) DEFAULT '' NOT NULL")
        connection.exec_driver_sql("CREATE TABLE _alembic_tmp_shop_settings AS "
                                   "SELECT * FROM shop_settings")

    code, output = run(app, "seed-demo", "--if-empty")

    assert code == 0, output
    assert revision_now(app) == (HEAD,)
    with app.app_context(), db.engine.connect() as connection:
        tables = _reflect()
        assert "_alembic_tmp_shop_settings" not in tables.tables
        _assert_all_kept(connection, tables, data)
    _assert_a_new_purchase_is_delivered(app, "after_repair")
