"""A price import that merges into the catalog: a product of the same brand and denomination
as a package another supplier sells becomes one more offer of it, shown in the preview first."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import create_admin, make_app, package_id, sign_in

from merchant.core.extensions import db
from merchant.core.models import Package, SupplierPriceCache
from merchant.supply import offers
from merchant.supply.offers import Offer
from tests.fakes.digiflazz import FakeDigiflazz


@pytest.fixture
def fake(vendor_server):
    yield FakeDigiflazz(vendor_server)
    vendor_server.check_handler_errors()


def test_a_merged_import_adds_offers_to_the_packages_other_suppliers_sell(tmp_path, fake):
    app = make_app(tmp_path, IMPORT_JOBS_INLINE=True, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    ml86 = package_id(app, "mobile-legends", "86 Diamonds")     # the demo's, on the sandbox

    started = owner.post("/admin/catalog/import", data={
        "supplier": "digiflazz", "markup": "8%", "round_to": "100", "merge": "y"})
    assert started.status_code == 303
    job = started.headers["Location"]
    preview = owner.get(job).text
    assert "Offers added to packages you already sell" in preview
    merged = re.search(r'<table class="data" id="merged-offers">.*?</table>', preview, re.S)[0]
    assert "Mobile Legends 86 Diamonds" in merged and "ML86" in merged
    assert "Rp 20.000" in merged
    with app.app_context():                                   # nothing changed yet
        assert offers.offers_of(db.session.get(Package, ml86))[1:] == []

    assert owner.post(job + "/apply").status_code == 303
    with app.app_context():
        package = db.session.get(Package, ml86)
        found = offers.offers_of(package)
        assert found[0].supplier == "sandbox"
        assert found[1:] == [Offer("digiflazz", "ML86", 20_000)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Package).where(
            Package.supplier == "digiflazz", Package.supplier_sku == "ML86")) == 0

    # Imported again: the offer is not added twice, and its cost follows the list.
    fake.change_product("ML86", price=20_400)
    with app.app_context():                                   # past the 5 minutes' cache
        db.session.execute(sa.delete(SupplierPriceCache))
        db.session.commit()
    job = owner.post("/admin/catalog/import", data={
        "supplier": "digiflazz", "markup": "8%", "round_to": "100", "merge": "y"})
    assert "Offers added to packages you already sell" not in owner.get(
        job.headers["Location"]).text
    assert owner.post(job.headers["Location"] + "/apply").status_code == 303
    with app.app_context():
        assert offers.offers_of(db.session.get(Package, ml86))[1:] == [
            Offer("digiflazz", "ML86", 20_400)]
