"""`flask import-prices vipreseller|tokovoucher`: their price lists (fakes) become packages at
cost plus markup, in the catalog the Digiflazz import builds."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import make_app

from merchant.core.extensions import db
from merchant.core.models import Package
from tests.fakes.tokovoucher import FakeTokovoucher
from tests.fakes.vipreseller import FakeVipReseller


@pytest.fixture
def vip(httpserver):
    return FakeVipReseller(httpserver)


@pytest.fixture
def tokovoucher(httpserver):
    return FakeTokovoucher(httpserver)


def imported(app, supplier) -> dict[str, tuple]:
    """sku -> (package name, price, supplier cost, active)."""
    with app.app_context():
        rows = db.session.scalars(sa.select(Package).where(Package.supplier == supplier))
        return {p.supplier_sku: (p.name, p.price, p.supplier_cost, p.active) for p in rows}


def test_vipreseller_services_are_imported_at_our_member_tier(tmp_path, vip):
    app = make_app(tmp_path, **vip.settings, VIPRESELLER_PRICE_TIER="premium")
    result = app.test_cli_runner().invoke(args=["import-prices", "vipreseller", "--markup",
                                                "10%"])
    assert result.exit_code == 0, result.output
    packages = imported(app, "vipreseller")
    # 19.500 (premium) + 10 % = 21.450, rounded up to 21.500
    assert packages["MLB86-S1"][1:] == (21_500, 19_500, True)


def test_tokovoucher_products_are_imported_and_inactive_ones_are_not_sold(tmp_path,
                                                                         tokovoucher):
    app = make_app(tmp_path, **tokovoucher.settings())
    result = app.test_cli_runner().invoke(args=["import-prices", "tokovoucher", "--markup",
                                                "500"])
    assert result.exit_code == 0, result.output
    packages = imported(app, "tokovoucher")
    assert packages["ML86"][1:] == (20_000, 19_500, True)
    assert packages.get("FF5", (None, None, None, False))[3] is False
