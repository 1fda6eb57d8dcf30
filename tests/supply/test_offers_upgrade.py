"""The supply migration keeps every shop's configuration: each package's supplier becomes its
first offer and its fallback the second, with their SKUs and costs."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from conftest import bare_app, empty_database
from upgrade_data import data_at

from merchant.core.extensions import db, migrate

BEFORE, SUPPLY = "a1c5d7e9f203", "b2d4f6a8c013"


def test_every_package_keeps_its_supplier_and_fallback_as_offers(tmp_path):
    app = bare_app(tmp_path)
    data = data_at(BEFORE)
    with app.app_context():
        empty_database()
        command.upgrade(migrate.get_config(), BEFORE)
        tables = sa.MetaData()
        tables.reflect(bind=db.engine)
        with db.engine.begin() as connection:
            for table in tables.sorted_tables:
                if table.name in data:
                    connection.execute(table.delete())
                    connection.execute(table.insert(), data[table.name])
        command.upgrade(migrate.get_config(), SUPPLY)
        with db.engine.connect() as connection:
            offers = connection.execute(sa.text(
                "SELECT package_id, position, supplier, sku, cost FROM package_offers "
                "ORDER BY package_id, position")).all()
    expected = []
    for package in data["packages"]:
        expected.append((package["id"], 0, package["supplier"], package["supplier_sku"],
                         package["supplier_cost"]))
        if package["fallback_supplier"]:
            expected.append((package["id"], 1, package["fallback_supplier"],
                             package["fallback_sku"], package["fallback_cost"]))
    assert [tuple(row) for row in offers] == expected
    assert (3, 1, "manual", "TT140", 28_500) in expected       # the one fallback there is
