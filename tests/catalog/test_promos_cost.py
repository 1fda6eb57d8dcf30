"""A promo code never sells below cost unless the owner says so: the panel and the command line
refuse such a code and name the packages, and checkout refuses a code whose discount a later
cost rise took below cost."""
from __future__ import annotations

import re

import sqlalchemy as sa
from conftest import set_package
from test_promos_admin import audit_log, form, promo_row, run, signed_in_owner

from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Product, Promo
from tests.catalog.test_promos import add_promo, amounts, buy_with, count_orders, summary


def tiktok_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Product.id).where(Product.slug == "tiktok-coins"))


def promo_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Promo))


def test_the_panel_refuses_a_code_that_sells_below_cost_until_the_owner_allows_it(tmp_path):
    app, owner = signed_in_owner(tmp_path)
    page = owner.get("/admin/promos/new").text
    assert "Allow below cost" in page
    # 1,400 Coins: Rp 289.000, costing Rp 265.880 (the demo's 92 %).
    million_off = form(page, code="MILLION", kind="flat", value="1000000",
                       product=str(tiktok_id(app)))
    refused = owner.post("/admin/promos/new", data=million_off)
    assert refused.status_code == 422
    assert "This code sells 8 packages below their cost:" in refused.text
    assert "TikTok Coins 1,400 Coins: Rp 289.000, Rp 0 with the code, costs Rp 265.880" \
        in refused.text
    assert "TikTok Coins 30 Coins: Rp 6.500, Rp 0 with the code, costs Rp 5.980" in refused.text
    assert "tick &#34;Allow below cost&#34; to sell at a loss on purpose" in refused.text
    assert promo_count(app) == 0 and audit_log(app) == []

    owner.get("/admin/?lang=id")
    refused = owner.post("/admin/promos/new", data=million_off)
    assert refused.status_code == 422
    assert "Kode ini menjual 8 paket di bawah modalnya:" in refused.text
    assert "TikTok Coins 1,400 Coins: Rp 289.000, Rp 0 dengan kode, modal Rp 265.880" \
        in refused.text
    owner.get("/admin/?lang=en")

    # Within the margins (8 %): saved as usual, nothing to allow.
    small = owner.post("/admin/promos/new", data=form(page, code="SMALL", value="5"))
    assert small.status_code == 303, small.text
    assert [action for action, _ in audit_log(app)] == ["promo.create"]

    allowed = owner.post("/admin/promos/new", data={**million_off, "allow_below_cost": "y"})
    assert allowed.status_code == 303, allowed.text
    promo = promo_row(app, "MILLION")
    assert (promo.amount_off, promo.allow_below_cost) == (1_000_000, True)
    action, summary_line = audit_log(app)[-1]
    assert action == "promo.below_cost"
    assert "sells below cost, allowed: TikTok Coins 30 Coins: Rp 6.500 -> Rp 0 with the code, " \
        "cost Rp 5.980" in summary_line
    edit = owner.get(f"/admin/promos/{promo.id}").text
    box = re.search(r'<input[^>]*name="allow_below_cost"[^>]*>', edit).group()
    assert "checked" in box

    # Editing it without the box ticked is refused again, and changes nothing.
    refused = owner.post(f"/admin/promos/{promo.id}", data=form(
        edit, code="MILLION", kind="flat", value="900000", product=str(tiktok_id(app))))
    assert refused.status_code == 422 and "below their cost" in refused.text
    assert promo_row(app, "MILLION").amount_off == 1_000_000


def test_a_code_for_every_product_names_ten_packages_and_counts_the_rest(tmp_path):
    app, owner = signed_in_owner(tmp_path)
    page = owner.get("/admin/promos/new").text
    refused = owner.post("/admin/promos/new", data=form(page, code="HALF", value="50"))
    assert refused.status_code == 422
    with app.app_context():
        from merchant.core.models import Package
        on_sale = db.session.scalar(sa.select(sa.func.count()).select_from(Package)
                                    .where(Package.active))
    assert f"This code sells {on_sale} packages below their cost:" in refused.text
    assert f"and {on_sale - 10} more." in refused.text


def test_checkout_refuses_a_code_a_cost_rise_took_below_cost(app, client):
    add_promo(app, "SAVE5", percent_bp=500, allow_below_cost=False)
    # 70 Coins: Rp 15.000 - 5 % = Rp 14.250, above its cost Rp 13.800: the code applies.
    assert "Discount (SAVE5): -Rp 750" in amounts(summary(client, app, promo="SAVE5"))

    set_package(app, "tiktok-coins", "70 Coins", supplier_cost=14_500)
    refused = "This code cannot be used for this package."
    assert refused in summary(client, app, promo="SAVE5").text
    assert refused in summary(client, app, promo="SAVE5", htmx=False).text
    before = count_orders(app)
    response = buy_with(client, app, promo="SAVE5")
    assert response.status_code == 422 and refused in response.text
    assert count_orders(app) == before
    with app.app_context():
        assert db.session.scalar(sa.select(Promo.uses).where(Promo.code == "SAVE5")) == 0
    # Another package keeps its margin: the code still takes 5 % off it.
    assert "Discount (SAVE5): -Rp 1.475" in amounts(summary(client, app, promo="SAVE5",
                                                            package="140 Coins"))
    client.get("/?lang=id")
    assert "Kode ini tidak bisa dipakai untuk paket ini." in summary(client, app,
                                                                     promo="SAVE5").text

    # A code the owner allowed below cost keeps its discount: that loss was chosen.
    add_promo(app, "LOSS5", percent_bp=500, allow_below_cost=True)
    client.get("/?lang=en")
    assert "Discount (LOSS5): -Rp 750" in amounts(summary(client, app, promo="LOSS5"))
    assert buy_with(client, app, promo="LOSS5").status_code == 303


def test_the_command_line_refuses_below_cost_without_its_flag(app):
    refused = run(app, "create", "MILLION", "--flat", "1000000", "--product", "tiktok-coins")
    assert refused.exit_code == 1
    assert "This code sells 8 packages below their cost: TikTok Coins 30 Coins: Rp 6.500, " \
        "Rp 0 with the code, costs Rp 5.980" in refused.output
    assert "Traceback" not in refused.output and promo_count(app) == 0

    made = run(app, "create", "MILLION", "--flat", "1000000", "--product", "tiktok-coins",
               "--allow-below-cost")
    assert made.exit_code == 0, made.output
    assert promo_row(app, "MILLION").allow_below_cost
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.target_type == "promo"))
        assert (entry.actor, entry.action) == ("cli", "promo.below_cost")
        assert "TikTok Coins 1,400 Coins: Rp 289.000 -> Rp 0 with the code, cost Rp 265.880" \
            in entry.summary
