"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import empty_database, make_app
from flask_migrate import downgrade, upgrade

from merchant.core.extensions import db


def on_this_database(connection):
    """Leave out what the models make only on another database (info["only_on"])."""
    def include(obj, name, type_, reflected, compare_to):
        return obj.info.get("only_on", connection.dialect.name) == connection.dialect.name
    return include


def test_upgrading_an_empty_database_gives_the_models_schema(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": on_this_database(connection)})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        downgrade(revision="base")
        db.create_all()


def test_seed_demo_on_a_fresh_database(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "Demo catalog created" in result.output
    again = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    refused = app.test_cli_runner().invoke(args=["seed-demo"])
    assert refused.exit_code != 0 and "already has products" in refused.output
    with app.app_context():
        downgrade(revision="base")
        db.create_all()
