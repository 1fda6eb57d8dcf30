"""The panel's catalog: edits seen on the shop, pictures, the below-cost guard, bulk markup,
owner-only routes, and the price import from the panel against the fake Digiflazz."""
from __future__ import annotations

import io
import os
import re
import threading

import pytest
import sqlalchemy as sa
from conftest import buy, create_admin, get_order, make_app, order_ref, package_id, sign_in
from PIL import Image

from merchant.core.extensions import db
from merchant.core.models import AuditEntry, ImportJob, Package, Product
from merchant.supply import offers
from tests.fakes.digiflazz import FakeDigiflazz


def product_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Product.id).where(Product.slug == slug))


def product_form(app, current: str, **changes) -> dict:
    """The product's edit form as the browser would post it, with `changes`."""
    with app.app_context():
        p = db.session.scalar(sa.select(Product).where(Product.slug == current))
        from merchant.catalog import account_presets
        form = {"name": p.name, "slug": p.slug, "publisher": p.publisher,
                "preset": account_presets.matching(p.account_fields), "help_text": p.help_text,
                "verifier": p.verifier, "verifier_code": p.verifier_code,
                "sort_order": str(p.sort_order)}
        if p.active:
            form["active"] = "y"
    form.update(changes)
    return form


# The package form's first two offer rows, by the package columns they mirror.
OFFER_ROWS = {"supplier": "offers-0-supplier", "supplier_sku": "offers-0-sku",
              "supplier_cost": "offers-0-cost", "fallback_supplier": "offers-1-supplier",
              "fallback_sku": "offers-1-sku", "fallback_cost": "offers-1-cost"}


def package_form(app, slug: str, name: str, **changes) -> dict:
    """The package's edit form as the panel fills it in, with `changes` (a change to
    supplier or fallback_* goes to the first or second offer row)."""
    return package_form_of(app, package_id(app, slug, name), **changes)


def package_form_of(app, pid: int, **changes) -> dict:
    with app.app_context():
        p = db.session.get(Package, pid)
        form = {key: "" if getattr(p, key) is None else str(getattr(p, key)) for key in (
            "name", "quantity", "bonus", "price", "badge", "sort_order")}
        for number, offer in enumerate(offers.offers_of(p)):
            form.update({f"offers-{number}-supplier": offer.supplier,
                         f"offers-{number}-sku": offer.sku,
                         f"offers-{number}-cost": "" if offer.cost is None else str(offer.cost)})
        if p.active:
            form["active"] = "y"
    form.update({OFFER_ROWS.get(key, key): value for key, value in changes.items()})
    return form


def price_of(app, slug: str, name: str) -> int:
    with app.app_context():
        return db.session.get(Package, package_id(app, slug, name)).price


def audit_actions(app) -> list[tuple[str, str]]:
    """The catalog's audit entries (not sign-ins), oldest first."""
    with app.app_context():
        return [(e.action, e.summary) for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.target_type != "admin")
            .order_by(AuditEntry.id))]


def picture(fmt="PNG", size=(400, 300)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    out.seek(0)
    return out


def test_product_edit_is_seen_on_the_shop(app, owner):
    pid = product_id(app, "tiktok-coins")
    form = product_form(app, "tiktok-coins", name="TikTok Koin", slug="tiktok-koin",
                        preset="phone", picture=(picture(), "logo.png"))
    response = owner.post(f"/admin/catalog/{pid}/edit", data=form,
                          content_type="multipart/form-data")
    assert response.status_code == 303, response.text

    shop = app.test_client()
    home = shop.get("/").text
    assert "TikTok Koin" in home and "/p/tiktok-koin" in home and "TikTok Coins" not in home
    image = re.search(r'<img src="(/media/[0-9a-f]{32}\.webp)"', home).group(1)
    served = shop.get(image)
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert "immutable" in served.headers["Cache-Control"]
    assert Image.open(io.BytesIO(served.data)).size == (256, 256)      # cropped square
    served.close()
    page = shop.get("/p/tiktok-koin").text
    assert "Phone number" in page and image in page and "TikTok username" not in page
    assert shop.get("/p/tiktok-coins").status_code == 404

    actions = audit_actions(app)
    assert actions[-1][0] == "product.update"
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert entry.before["slug"] == "tiktok-coins" and entry.after["slug"] == "tiktok-koin"
        assert entry.after["account_fields"] == ["phone"] and entry.actor == "owner@example.com"


def test_a_reworded_format_message_is_what_the_customer_sees(app, owner):
    pid = product_id(app, "free-fire")
    edit = owner.get(f"/admin/catalog/{pid}/edit").text
    assert "Message when the Player ID looks wrong" in edit
    assert 'value="The Player ID is 8-12 digits."' in edit
    form = product_form(app, "free-fire", **{"hints-0": "ID Free Fire terdiri dari 8-12 angka."})
    assert owner.post(f"/admin/catalog/{pid}/edit", data=form).status_code == 303
    wrong = app.test_client().post("/p/free-fire/verify", data={"player_id": "12"},
                                   headers={"HX-Request": "true"})
    assert "ID Free Fire terdiri dari 8-12 angka." in wrong.text
    assert "Player ID, 8-12 digits (Free Fire)" in owner.get(f"/admin/catalog/{pid}").text
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert entry.after == {"hints": ["ID Free Fire terdiri dari 8-12 angka."]}


def test_new_product_and_package_sell_in_the_shop_and_slugs_stay_unique(app, owner):
    taken = owner.post("/admin/catalog/new", data={
        "name": "Copy", "slug": "free-fire", "preset": "player_id", "verifier": "none",
        "sort_order": "0", "active": "y"})
    assert taken.status_code == 422 and "already used by Free Fire" in taken.text
    unconfigured = owner.post("/admin/catalog/new", data={
        "name": "X", "slug": "x", "preset": "player_id", "verifier": "apigames",
        "sort_order": "0"})
    assert unconfigured.status_code == 422 and "The apigames account checker is not " \
        "configured: set MERCHANT_APIGAMES_MERCHANT_ID" in unconfigured.text
    bad = owner.post("/admin/catalog/new", data={
        "name": "Bad", "slug": "Bad Slug!", "preset": "player_id", "verifier": "none",
        "sort_order": "0"})
    assert bad.status_code == 422 and "lowercase letters, digits and single dashes" in bad.text

    created = owner.post("/admin/catalog/new", data={
        "name": "Honkai Star Rail", "slug": "honkai-star-rail", "publisher": "HoYoverse",
        "preset": "uid_server", "verifier": "sandbox", "sort_order": "9", "active": "y",
        "help_text": "Tap Phone, then your avatar."})
    assert created.status_code == 303
    pid = int(re.search(r"/admin/catalog/(\d+)", created.headers["Location"]).group(1))
    package = owner.post(f"/admin/catalog/{pid}/packages/new", data={
        "name": "60 Oneiric Shards", "quantity": "60", "bonus": "0", "price": "16000",
        "offers-0-supplier": "sandbox", "offers-0-sku": "HSR60", "offers-0-cost": "15000",
        "offers-1-supplier": "", "sort_order": "0", "active": "y"})
    assert package.status_code == 303, package.text

    panel = owner.get(f"/admin/catalog/{pid}").text
    assert "60 Oneiric Shards" in panel and "Rp 1.000" in panel        # the margin
    shop = app.test_client()
    assert "Honkai Star Rail" in shop.get("/").text
    page = shop.get("/p/honkai-star-rail").text
    assert "UID" in page and "TW, HK, MO" in page and "Rp 16.000" in page
    ref = order_ref(buy(shop, app, slug="honkai-star-rail", package="60 Oneiric Shards",
                        uid="812345678", server="Asia"))
    assert get_order(app, ref).total > 16_000
    assert [a for a, _ in audit_actions(app)] == ["product.create", "package.create"]


def test_package_price_change_is_seen_on_the_product_page_and_in_the_order(app, owner):
    pkg = package_id(app, "tiktok-coins", "70 Coins")
    response = owner.post(f"/admin/catalog/packages/{pkg}/edit",
                          data=package_form(app, "tiktok-coins", "70 Coins", price="16000"))
    assert response.status_code == 303, response.text
    shop = app.test_client()
    assert "Rp 16.000" in shop.get("/p/tiktok-coins").text
    order = get_order(app, order_ref(buy(shop, app, package="70 Coins")))
    assert order.subtotal == 16_000 and order.total == order.subtotal + order.fee
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert (entry.action, entry.before, entry.after) == (
            "package.update", {"price": 15_000}, {"price": 16_000})


def test_a_price_below_cost_is_refused_until_the_override_is_ticked(app, owner):
    pkg = package_id(app, "tiktok-coins", "70 Coins")              # cost 13.800
    below = package_form(app, "tiktok-coins", "70 Coins", price="13000")
    refused = owner.post(f"/admin/catalog/packages/{pkg}/edit", data=below)
    assert refused.status_code == 422
    assert "Rp 13.000 is below the supplier&#39;s cost Rp 13.800" in refused.text
    assert "Sell below cost" in refused.text
    assert price_of(app, "tiktok-coins", "70 Coins") == 15_000 and audit_actions(app) == []

    allowed = owner.post(f"/admin/catalog/packages/{pkg}/edit", data={**below, "below_cost": "y"})
    assert allowed.status_code == 303
    assert price_of(app, "tiktok-coins", "70 Coins") == 13_000
    [(action, summary)] = audit_actions(app)
    assert action == "package.below_cost" and "sold below cost" in summary

    unconfigured = package_form(app, "tiktok-coins", "70 Coins", supplier="digiflazz")
    refused = owner.post(f"/admin/catalog/packages/{pkg}/edit", data=unconfigured)
    assert refused.status_code == 422 and "The digiflazz supplier is not configured: set " \
        "MERCHANT_DIGIFLAZZ_USERNAME, MERCHANT_DIGIFLAZZ_API_KEY." in refused.text

    # The fallback supplier's cost counts too: a failover would sell at a loss.
    fallback = package_form(app, "tiktok-coins", "70 Coins", price="15000",
                            fallback_supplier="manual", fallback_cost="15500")
    refused = owner.post(f"/admin/catalog/packages/{pkg}/edit", data=fallback)
    assert refused.status_code == 422 and "below the fallback supplier&#39;s cost" in refused.text


def test_a_price_below_cost_is_said_in_the_panels_language_and_audited_in_english(app, owner):
    pkg = package_id(app, "tiktok-coins", "70 Coins")              # cost 13.800
    below = package_form(app, "tiktok-coins", "70 Coins", price="13000")
    owner.get("/admin/?lang=id")
    refused = owner.post(f"/admin/catalog/packages/{pkg}/edit", data=below)
    assert refused.status_code == 422
    assert "Tidak disimpan: 70 Coins: Rp 13.000 di bawah modal pemasok Rp 13.800." \
        in refused.text
    allowed = owner.post(f"/admin/catalog/packages/{pkg}/edit", data={**below, "below_cost": "y"})
    assert allowed.status_code == 303
    [(action, summary)] = audit_actions(app)
    assert action == "package.below_cost"
    assert "sold below cost: 70 Coins: Rp 13.000 is below the supplier's cost Rp 13.800" \
        in summary


def test_bulk_markup_over_cost_for_ticked_packages_a_product_and_the_catalog(app, owner):
    pid = product_id(app, "mobile-legends")
    small, pass_ = (package_id(app, "mobile-legends", n) for n in ("86 Diamonds",
                                                                     "Weekly Diamond Pass"))
    # costs: 86 Diamonds 20.240, Weekly Diamond Pass 26.220; +10 %, rounded up to 500
    preview = owner.post(f"/admin/catalog/{pid}/reprice", data={
        "markup": "10%", "round_to": "500", "packages": [str(small), str(pass_)],
        "preview": "1"})
    assert preview.status_code == 200 and "Would change 2 prices" in preview.text
    assert "Rp 22.500" in preview.text and "Rp 29.000" in preview.text
    assert price_of(app, "mobile-legends", "86 Diamonds") == 22_000 and audit_actions(app) == []
    response = owner.post(f"/admin/catalog/{pid}/reprice", data={
        "markup": "10%", "round_to": "500", "packages": [str(small), str(pass_)]})
    assert response.status_code == 303
    assert price_of(app, "mobile-legends", "86 Diamonds") == 22_500
    assert price_of(app, "mobile-legends", "Weekly Diamond Pass") == 29_000
    assert price_of(app, "mobile-legends", "172 Diamonds") == 44_000        # not ticked
    assert "Changed 2 prices, 0 already right." in owner.get(f"/admin/catalog/{pid}").text
    preview = owner.post(f"/admin/catalog/{pid}/reprice?lang=id", data={
        "markup": "10%", "round_to": "500", "packages": [str(small), str(pass_)],
        "preview": "1"})
    assert "Akan mengubah 0 harga, 2 sudah benar." in preview.text
    owner.get("/admin/?lang=en")
    assert [a for a, _ in audit_actions(app)] == ["package.reprice"] * 2

    bad = owner.post(f"/admin/catalog/{pid}/reprice", data={"markup": "-3%", "round_to": "1"})
    assert bad.status_code == 422 and "Use a percentage like 8%" in bad.text

    assert owner.post("/admin/catalog/reprice",
                      data={"markup": "500", "round_to": "1"}).status_code == 303
    assert price_of(app, "free-fire", "70 Diamonds") == 9_200 + 500
    assert price_of(app, "mobile-legends", "86 Diamonds") == 20_240 + 500
    assert "Rp 9.700" in app.test_client().get("/p/free-fire").text


def test_bulk_markup_below_a_fallback_cost_changes_nothing_without_the_override(app, owner):
    from conftest import set_package
    set_package(app, "free-fire", "70 Diamonds", fallback_supplier="manual",
                fallback_cost=9_900)
    pid = product_id(app, "free-fire")
    refused = owner.post(f"/admin/catalog/{pid}/reprice", data={"markup": "5%", "round_to": "100"})
    assert refused.status_code == 422
    assert "70 Diamonds: Rp 9.700 is below the fallback supplier&#39;s cost Rp 9.900" \
        in refused.text
    assert price_of(app, "free-fire", "5 Diamonds") == 1_000 and audit_actions(app) == []
    allowed = owner.post(f"/admin/catalog/{pid}/reprice",
                         data={"markup": "5%", "round_to": "100", "below_cost": "y"})
    assert allowed.status_code == 303
    assert price_of(app, "free-fire", "70 Diamonds") == 9_700
    assert "package.below_cost" in [a for a, _ in audit_actions(app)]


@pytest.mark.parametrize("upload, message", [
    ((io.BytesIO(b"just some text, not a picture\n"), "notes.png"),
     "That file is not a picture"),
    ((io.BytesIO(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
                 b'<script>alert(1)</script></svg>'), "logo.svg"),
     "SVG pictures are not accepted"),
    ("big", "The picture is larger than 20 KB"),
    ("many-pixels", "too many pixels"),
])
def test_an_upload_that_is_not_a_usable_picture_is_refused_and_nothing_changes(
        tmp_path, upload, message):
    app = make_app(tmp_path, UPLOAD_MAX_BYTES=20 * 1024)
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    if upload == "big":
        noise = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
        data = io.BytesIO()
        noise.save(data, "PNG")
        data.seek(0)
        upload = (data, "big.png")
    elif upload == "many-pixels":
        data = io.BytesIO()
        Image.new("1", (9000, 9000)).save(data, "PNG")     # 81 megapixels, a few KB
        data.seek(0)
        upload = (data, "bomb.png")
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", name="Renamed", picture=upload)
    response = owner.post(f"/admin/catalog/{pid}/edit", data=form,
                          content_type="multipart/form-data")
    assert response.status_code == 422 and message in response.text
    with app.app_context():
        product = db.session.get(Product, pid)
        assert (product.name, product.image) == ("Free Fire", "icons/free-fire.svg")
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").iterdir())
    assert audit_actions(app) == []


def test_a_refused_upload_is_said_in_the_panels_language(tmp_path):
    app = make_app(tmp_path)
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    owner.get("/admin/?lang=id")
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", name="Renamed",
                        picture=(io.BytesIO(b"just some text\n"), "notes.png"))
    response = owner.post(f"/admin/catalog/{pid}/edit", data=form,
                          content_type="multipart/form-data")
    assert response.status_code == 422
    assert "File itu bukan gambar: unggah PNG, JPEG atau WebP." in response.text


def test_staff_get_403_on_every_catalog_route(app, staff):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.products")]
    assert len(rules) >= 9
    for rule in rules:
        url = rule.build({key: 1 for key in rule.arguments})[1]
        for method in rule.methods & {"GET", "POST"}:
            response = staff.open(url, method=method, data={"markup": "1%", "round_to": "1"})
            assert response.status_code == 403, (method, url)
    assert price_of(app, "tiktok-coins", "30 Coins") == 6_500


@pytest.fixture
def fake(httpserver):
    return FakeDigiflazz(httpserver)


def test_panel_import_against_digiflazz_shows_the_summary(tmp_path, fake):
    app = make_app(tmp_path, IMPORT_JOBS_INLINE=True, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    form = owner.get("/admin/catalog/import").text
    assert '<option value="digiflazz">' in form and '<option value="sandbox">' not in form
    started = owner.post("/admin/catalog/import",
                         data={"supplier": "digiflazz", "markup": "8%", "round_to": "100"})
    assert started.status_code == 303
    preview = owner.get(started.headers["Location"]).text
    assert "Preview: nothing has changed yet" in preview
    applied = owner.post(started.headers["Location"] + "/apply")
    assert applied.status_code == 303
    page = owner.get(started.headers["Location"])
    assert "Done" in page.text
    assert "Added 2, changed 0, deactivated 0, unchanged 0 packages; 1 new products" in page.text
    assert 'http-equiv="refresh"' not in page.text                  # finished: no refresh
    with app.app_context():
        assert db.session.scalar(sa.select(Package.price).where(
            Package.supplier_sku == "ML86")) == 21_600
    assert "Telkomsel" in owner.get("/admin/catalog").text
    assert [a for a, _ in audit_actions(app)] == ["prices.import_start", "prices.import"]
    again = owner.post(started.headers["Location"] + "/apply")
    assert again.status_code == 422
    assert "This preview cannot be applied any more: start the import again." in again.text
    assert [a for a, _ in audit_actions(app)] == ["prices.import_start", "prices.import"]


def test_panel_import_without_supplier_settings_names_the_variables(tmp_path):
    app = make_app(tmp_path, IMPORT_JOBS_INLINE=True)
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    started = owner.post("/admin/catalog/import",
                         data={"supplier": "digiflazz", "markup": "8%", "round_to": "100"})
    page = owner.get(started.headers["Location"]).text
    assert "The import stopped: The digiflazz supplier is not configured: set " \
           "MERCHANT_DIGIFLAZZ_USERNAME, MERCHANT_DIGIFLAZZ_API_KEY" in page
    again = owner.post("/admin/catalog/import",
                       data={"supplier": "digiflazz", "markup": "8%%", "round_to": "100"})
    assert again.status_code == 422 and "Use a percentage like 8%" in again.text


def poll_until_it_ends(owner, job_url: str):
    """Poll the job as htmx does until it answers 286 (its preview is ready, or it ended)."""
    for _ in range(5000):                      # bounded: the import takes a few requests' time
        poll = owner.get(job_url, headers={"HX-Request": "true"})
        if poll.status_code == 286:
            return poll
        assert poll.status_code == 200 and 'hx-trigger="every 1s"' in poll.text
    raise AssertionError("the import did not finish")


def test_panel_import_runs_in_a_thread_and_the_page_polls_until_it_ends(tmp_path, fake):
    app = make_app(tmp_path, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    started = owner.post("/admin/catalog/import",
                         data={"supplier": "digiflazz", "markup": "500", "round_to": "1000"})
    job_url = started.headers["Location"]
    first = owner.get(job_url)
    assert first.status_code == 200
    poll = poll_until_it_ends(owner, job_url)
    assert "Apply these changes" in poll.text and "2 new, 0 new prices" in poll.text
    assert owner.post(job_url + "/apply").status_code == 303
    poll = poll_until_it_ends(owner, job_url)
    assert "<html" not in poll.text and "Added 2" in poll.text
    assert 'hx-trigger' not in poll.text and "HX-Request" in poll.headers["Vary"]
    with app.app_context():
        job = db.session.scalar(sa.select(ImportJob))
        assert (job.status, job.done, job.total) == ("done", 2, 2)
        assert job.summary["added"] == 2
    # The job has ended, so another may start.
    assert owner.post("/admin/catalog/import", data={
        "supplier": "digiflazz", "markup": "500", "round_to": "1000"}).status_code == 303
    # The jobs' threads give their database connections back before the app is closed.
    for thread in threading.enumerate():
        if thread.name.startswith("import-job-"):
            thread.join(10)


def test_a_slug_another_product_has_is_refused_in_the_panels_language(app, owner):
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", slug="tiktok-coins")
    response = owner.post(f"/admin/catalog/{pid}/edit", data=form)
    assert response.status_code == 422
    assert "The address /p/tiktok-coins is already used by TikTok Coins: choose another slug." \
        in response.text
    owner.get("/admin/?lang=id")
    response = owner.post(f"/admin/catalog/{pid}/edit", data=form)
    assert response.status_code == 422
    assert "Alamat /p/tiktok-coins sudah dipakai oleh TikTok Coins: pilih slug lain." \
        in response.text
    assert product_id(app, "free-fire") == pid and audit_actions(app) == []


def test_a_package_on_a_supplier_that_delivers_by_sku_needs_its_sku_and_a_cost_is_asked_for(
        tmp_path, fake):
    app = make_app(tmp_path, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    pkg = package_id(app, "mobile-legends", "86 Diamonds")
    edit = f"/admin/catalog/packages/{pkg}/edit"
    no_sku = package_form(app, "mobile-legends", "86 Diamonds", supplier="digiflazz",
                          supplier_sku="", supplier_cost="")
    refused = owner.post(edit, data=no_sku)
    assert refused.status_code == 422
    assert "Enter the supplier SKU: digiflazz delivers by its product code, so without it " \
        "every order would fail there." in refused.text
    owner.get("/admin/?lang=id")
    refused = owner.post(edit, data=no_sku)
    assert refused.status_code == 422 and "Isi SKU pemasok: digiflazz" in refused.text
    owner.get("/admin/?lang=en")
    no_fallback_sku = package_form(app, "mobile-legends", "86 Diamonds",
                                   fallback_supplier="digiflazz", fallback_sku="")
    refused = owner.post(edit, data=no_fallback_sku)
    assert refused.status_code == 422 and "Enter the fallback SKU: digiflazz" in refused.text
    with app.app_context():
        package = db.session.get(Package, pkg)
        assert (package.supplier, package.fallback_supplier) == ("sandbox", None)
    assert audit_actions(app) == []

    # With its SKU it saves; without a cost the owner is told what cannot be checked.
    saved = owner.post(edit, data={**no_sku, "offers-0-sku": "ML86"}, follow_redirects=True)
    assert saved.status_code == 200
    warning = "86 Diamonds has no cost: margins and the below-cost guard cannot be checked."
    assert warning in saved.text
    listed = owner.get(f"/admin/catalog/{product_id(app, 'mobile-legends')}").text
    assert "No cost: margins and the below-cost guard cannot be checked for 86 Diamonds." \
        in listed and "no cost" in listed
    assert warning in owner.get(edit).text
    owner.get("/admin/?lang=id")
    assert "86 Diamonds tidak punya modal" in owner.get(edit).text

    # A manual package needs no SKU: the operator delivers it by hand.
    manual = owner.post(edit, data=package_form(app, "mobile-legends", "86 Diamonds",
                                                supplier="manual", supplier_sku="",
                                                supplier_cost="20000"))
    assert manual.status_code == 303
    assert "no cost" not in owner.get(f"/admin/catalog/{product_id(app, 'mobile-legends')}").text


def digiflazz_package(app, sku: str) -> tuple[int, int | None, bool]:
    """(price, supplier cost, price set by hand) of the Digiflazz package with `sku`."""
    with app.app_context():
        package = db.session.scalar(sa.select(Package).where(Package.supplier == "digiflazz",
                                                             Package.supplier_sku == sku))
        return package.price, package.supplier_cost, package.price_by_hand


def preview_import(app, owner, fake) -> tuple[str, str]:
    """Six minutes later (a fresh price list), start an import: (its page, its job URL)."""
    from tests.catalog.test_import_prices import expire_cache
    expire_cache(app)
    started = owner.post("/admin/catalog/import",
                         data={"supplier": "digiflazz", "markup": "8%", "round_to": "100"})
    assert started.status_code == 303
    return owner.get(started.headers["Location"]).text, started.headers["Location"]


def test_a_reimport_is_previewed_first_and_keeps_prices_set_by_hand(tmp_path, fake):
    app = make_app(tmp_path, IMPORT_JOBS_INLINE=True, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    page, job = preview_import(app, owner, fake)
    assert "Mobile Legends 86 Diamonds" in page and "Rp 21.600" in page
    assert owner.post(job + "/apply").status_code == 303
    assert digiflazz_package(app, "ML86") == (21_600, 20_000, False)

    # The owner prices 86 Diamonds by hand: the mark shows on its form and in the list.
    with app.app_context():
        ml86 = db.session.scalar(sa.select(Package.id).where(Package.supplier_sku == "ML86"))
    form = package_form_of(app, ml86)
    saved = owner.post(f"/admin/catalog/packages/{ml86}/edit",
                       data={**form, "price": "23000", "active": "y"})
    assert saved.status_code == 303, saved.text
    assert digiflazz_package(app, "ML86") == (23_000, 20_000, True)
    edit = owner.get(f"/admin/catalog/packages/{ml86}/edit").text
    assert "Price set by hand" in edit and "Let price imports set this price" in edit
    assert "set by hand" in owner.get(f"/admin/catalog/{product_id(app, 'mobile-legends')}").text

    # The supplier's costs change: the preview says what would change, and nothing changes.
    fake.change_product("ML86", price=21_000)
    fake.change_product("S5", price=5_500)
    fake.drop_product("S5")
    fake.add_product("S10", 10_200, brand="TELKOMSEL", category="Pulsa",
                     product_name="Telkomsel 10.000")
    fake.add_product("FF70", 9_000, brand="FREE FIRE", product_name="Free Fire 70 Diamonds")
    page, job = preview_import(app, owner, fake)
    assert "Preview: nothing has changed yet" in page
    kept = re.search(r"Prices set by hand, kept.*?</table>", page, re.S).group()
    assert re.search(r"Mobile Legends 86 Diamonds</td><td[^>]*>Rp 23.000</td>"
                     r"<td[^>]*>Rp 22.700</td><td[^>]*>Rp 21.000", kept)
    new = re.search(r"New packages.*?</table>", page, re.S).group()
    assert "Telkomsel 10.000" in new and "Rp 11.100" in new and "Free Fire 70 Diamonds" in new
    off = re.search(r"Switched off.*?</ul>", page, re.S).group()
    assert "Telkomsel Pulsa 5.000" in off
    assert digiflazz_package(app, "ML86") == (23_000, 20_000, True)
    assert digiflazz_package(app, "S5")[0] == 5_600

    owner.get("/admin/?lang=id")
    page = owner.get(job).text
    assert "Pratinjau: belum ada yang berubah" in page and "Harga yang diatur manual, tetap" \
        in page
    owner.get("/admin/?lang=en")

    assert owner.post(job + "/apply").status_code == 303
    assert digiflazz_package(app, "ML86") == (23_000, 21_000, True)      # kept, new cost
    with app.app_context():
        assert db.session.scalar(sa.select(Package.active).where(
            Package.supplier_sku == "S5")) is False
        entry = db.session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "prices.import").order_by(AuditEntry.id.desc()))
        assert "kept 1 prices set by hand" in entry.summary
        assert "Mobile Legends 86 Diamonds 23000 (import 22700, cost 21000)" in entry.summary

    # A cost that rises above the hand price: the import's price instead, never below cost.
    fake.change_product("ML86", price=24_000)
    page, job = preview_import(app, owner, fake)
    below = re.search(r"Prices set by hand below the new cost.*?</table>", page, re.S).group()
    assert "Mobile Legends 86 Diamonds" in below and "Rp 23.000" in below \
        and "Rp 26.000" in below
    assert owner.post(job + "/apply").status_code == 303
    assert digiflazz_package(app, "ML86") == (26_000, 24_000, False)


def test_the_hand_price_mark_can_be_cleared_so_imports_price_the_package_again(tmp_path, fake):
    app = make_app(tmp_path, IMPORT_JOBS_INLINE=True, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    _, job = preview_import(app, owner, fake)
    owner.post(job + "/apply")
    with app.app_context():
        ml86 = db.session.scalar(sa.select(Package.id).where(Package.supplier_sku == "ML86"))
    # "Change prices" marks the prices it sets too.
    pid = product_id(app, "mobile-legends")
    assert owner.post(f"/admin/catalog/{pid}/reprice", data={
        "markup": "20%", "round_to": "100", "packages": [str(ml86)]}).status_code == 303
    assert digiflazz_package(app, "ML86") == (24_000, 20_000, True)

    cleared = owner.post(f"/admin/catalog/packages/{ml86}/hand-price", follow_redirects=True)
    assert "Price imports will set the price of 86 Diamonds again." in cleared.text
    assert "Let price imports set this price" not in cleared.text
    assert digiflazz_package(app, "ML86") == (24_000, 20_000, False)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
        assert (entry.action, entry.before, entry.after) == (
            "package.update", {"price_by_hand": True}, {"price_by_hand": False})

    _, job = preview_import(app, owner, fake)
    owner.post(job + "/apply")
    assert digiflazz_package(app, "ML86") == (21_600, 20_000, False)


def test_the_import_says_what_it_does_in_the_panels_language(tmp_path, fake):
    app = make_app(tmp_path, IMPORT_JOBS_INLINE=True, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    owner.get("/admin/?lang=id")
    started = owner.post("/admin/catalog/import",
                         data={"supplier": "digiflazz", "markup": "8%", "round_to": "100"})
    assert "Akan menambah 2, mengubah 0, mematikan 0, membiarkan 0 paket; 1 produk baru" in \
        owner.get("/admin/catalog/import").text                 # the list of recent imports
    owner.post(started.headers["Location"] + "/apply")
    done = owner.get(started.headers["Location"]).text
    assert "Ditambah 2, diubah 0, dimatikan 0, tetap 0 paket; 1 produk baru" in done
    again = owner.post("/admin/catalog/import",
                       data={"supplier": "digiflazz", "markup": "9%", "round_to": "100"})
    owner.post("/admin/catalog/import",
               data={"supplier": "digiflazz", "markup": "10%", "round_to": "100"})
    listed = owner.get("/admin/catalog/import").text
    assert "Tidak diterapkan: impor yang lebih baru sudah dipratinjau." in listed
    assert "Ditambah 2" in listed and "Added 2" not in listed
    assert again.status_code == 303


def test_a_preview_is_applied_only_to_the_price_list_it_showed(tmp_path, fake):
    app = make_app(tmp_path, IMPORT_JOBS_INLINE=True, **fake.settings())
    create_admin(app)
    owner = app.test_client()
    sign_in(owner)
    _, older = preview_import(app, owner, fake)
    _, newer = preview_import(app, owner, fake)
    refused = owner.post(older + "/apply")
    assert refused.status_code == 422
    assert "This preview cannot be applied any more: start the import again." in refused.text
    assert "Not applied: a newer import was previewed." in refused.text

    # The shell fetched a newer list meanwhile: the preview no longer says what would happen.
    from tests.catalog.test_import_prices import expire_cache
    expire_cache(app)
    fake.change_product("ML86", price=30_000)
    cli = app.test_cli_runner().invoke(args=["import-prices", "digiflazz", "--markup", "8%"])
    assert cli.exit_code == 0, cli.output
    assert owner.post(newer + "/apply").status_code == 303
    page = owner.get(newer).text
    assert "The price list changed since this preview: start the import again to preview the " \
        "new one." in page
    assert digiflazz_package(app, "ML86") == (32_400, 30_000, False)       # the shell's import
