"""Shop settings: each one reaches the customer's pages; bad values are refused; audited."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from conftest import buy, order_ref
from PIL import Image

from merchant.core import shop_settings
from merchant.core.extensions import db
from merchant.core.models import AuditEntry, ShopSettings

SETTINGS = {
    "shop_name": "Kilat Top-Up", "accent_color": "1D4ED8", "support_whatsapp": "0812-3456-7890",
    "support_email": "Help@Example.com", "currency": "", "timezone": "Asia/Makassar",
    "terms": "Delivery within 5 minutes.\r\nWe never ask for <b>passwords</b>.",
    "refund_policy": "Failed top-ups are refunded in full.",
}


def logo_png() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (300, 300), (30, 60, 200)).save(out, "PNG")
    out.seek(0)
    return out


def audit_entries(app) -> list[tuple]:
    with app.app_context():
        return [(e.actor, e.action, e.before, e.after) for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.target_type == "settings"))]


def stored(app) -> dict:
    with app.app_context():
        return shop_settings.stored()


def test_a_new_shop_shows_the_defaults(client):
    page = client.get("/").text
    assert "<title>Merchant Top-Up</title>" in page
    assert "/theme.css" not in page and "wa.me" not in page and "/terms" not in page
    assert client.get("/terms").status_code == 404
    assert client.get("/refund-policy").status_code == 404
    assert "--brand: #0f766e" in client.get("/theme.css").text


def test_every_setting_reaches_the_customers_pages(app, owner):
    response = owner.post("/admin/settings", data={**SETTINGS, "logo": (logo_png(), "logo.png")},
                          content_type="multipart/form-data")
    assert response.status_code == 303, response.text
    customer = app.test_client()
    page = customer.get("/").text
    # The name in the header and the title, the uploaded logo beside it.
    assert "<title>Kilat Top-Up</title>" in page and "Merchant Top-Up" not in page
    logo = re.search(r'class="brand"[^>]*><img src="(/media/[0-9a-f]{32}\.webp)"', page).group(1)
    served = customer.get(logo)
    served.close()
    assert served.status_code == 200 and served.mimetype == "image/webp"
    # The accent colour through a stylesheet (the CSP forbids inline styles).
    theme_url = re.search(r'href="(/theme\.css\?v=1d4ed8)"', page).group(1)
    theme = customer.get(theme_url)
    assert theme.mimetype == "text/css"
    assert "--brand: #1d4ed8; --brand-ink: #ffffff;" in theme.text
    caching = theme.headers["Cache-Control"]
    assert "public" in caching and "max-age" in caching
    assert customer.get(theme_url, headers={"If-None-Match": theme.headers["ETag"]}
                        ).status_code == 304
    # Support contacts and the policies in the foot of every page.
    assert 'href="https://wa.me/6281234567890"' in page and "+6281234567890" in page
    assert 'href="mailto:Help@example.com"' in page
    assert 'href="/terms"' in page and 'href="/refund-policy"' in page
    terms = customer.get("/terms").text
    assert "We never ask for &lt;b&gt;passwords&lt;/b&gt;." in terms     # escaped, never HTML
    assert "Delivery within 5 minutes.\nWe never ask" in terms           # lines kept
    assert "Failed top-ups are refunded in full." in customer.get("/refund-policy").text
    # Times in the shop's time zone: the order page's payment deadline.
    ref = order_ref(buy(customer, app))
    order_page = customer.get(f"/o/{ref}").text
    assert re.search(r"\d\d\.\d\d WITA", order_page) and " WIB" not in order_page


def test_an_empty_field_goes_back_to_the_default(app, owner):
    owner.post("/admin/settings", data=SETTINGS)
    assert "Kilat Top-Up" in app.test_client().get("/").text
    owner.post("/admin/settings", data={**SETTINGS, "shop_name": "", "accent_color": "",
                                        "terms": ""})
    page = app.test_client().get("/").text
    assert "<title>Merchant Top-Up</title>" in page and "/theme.css" not in page
    assert 'href="/terms"' not in page and app.test_client().get("/terms").status_code == 404


def test_changes_are_audited_with_the_values_before_and_after(app, owner):
    owner.post("/admin/settings", data=SETTINGS)
    owner.post("/admin/settings", data={**SETTINGS, "accent_color": "#b91c1c"})
    owner.post("/admin/settings", data={**SETTINGS, "accent_color": "#b91c1c"})  # no change
    entries = audit_entries(app)
    assert len(entries) == 2
    actor, action, before, after = entries[1]
    assert (actor, action) == ("owner@example.com", "settings.update")
    assert (before, after) == ({"accent_color": "#1d4ed8"}, {"accent_color": "#b91c1c"})
    assert entries[0][3]["support_whatsapp"] == "+6281234567890"


@pytest.mark.parametrize("changes, message", [
    ({"accent_color": "teal"}, "Use a colour like #0f766e"),
    ({"accent_color": "#12345"}, "Use a colour like #0f766e"),
    ({"accent_color": "#0f766e;}body{display:none"}, "Use a colour like #0f766e"),
    ({"timezone": "Jakarta"}, "Enter a time zone like Asia/Jakarta"),
    ({"timezone": "../../etc/passwd"}, "Enter a time zone like Asia/Jakarta"),
    ({"support_whatsapp": "12ab"}, "Enter a WhatsApp number like 0812 3456 7890"),
    ({"support_email": "not-an-email"}, "Enter an email address like help@example.com"),
    ({"currency": "XYZ"}, "Not a valid choice"),
])
def test_bad_values_are_refused_and_nothing_changes(app, owner, changes, message):
    response = owner.post("/admin/settings", data={**SETTINGS, **changes})
    assert response.status_code == 422
    assert message in response.text
    assert stored(app)["shop_name"] == "" and audit_entries(app) == []
    assert "Kilat Top-Up" not in app.test_client().get("/").text


def test_a_picture_that_is_not_one_is_refused_as_logo(app, owner):
    response = owner.post("/admin/settings", content_type="multipart/form-data", data={
        **SETTINGS, "logo": (io.BytesIO(b"<svg onload='x()'></svg>"), "logo.svg")})
    assert response.status_code == 422 and "SVG pictures are not accepted" in response.text
    with app.app_context():
        assert db.session.get(ShopSettings, 1) is None


def test_the_currency_is_the_default_for_new_payment_methods(app, owner):
    owner.post("/admin/settings", data={**SETTINGS, "currency": "USD"})
    page = owner.get("/admin/methods/new").text
    assert re.search(r'<option selected value="USD">', page)
    with app.app_context():
        assert shop_settings.current().currency == "USD"


def test_a_light_accent_colour_gets_dark_text():
    assert shop_settings.readable_ink("#fde047") == "#111827"
    assert shop_settings.readable_ink("#0f766e") == "#ffffff"


def test_staff_cannot_see_or_change_the_settings(app, staff):
    assert staff.get("/admin/settings").status_code == 403
    assert staff.post("/admin/settings", data=SETTINGS).status_code == 403
    assert stored(app)["shop_name"] == ""


def shown_logo(app) -> str:
    page = app.test_client().get("/").text
    return re.search(r'class="brand"[^>]*><img src="([^"]+)"', page).group(1)


def test_a_logo_is_kept_when_other_settings_change_and_can_be_removed(app, owner):
    multipart = {"content_type": "multipart/form-data"}
    assert owner.post("/admin/settings", data={**SETTINGS, "logo": (logo_png(), "logo.png")},
                      **multipart).status_code == 303
    logo = shown_logo(app)
    assert logo.startswith("/media/")
    # Saving again without choosing a file keeps the logo and saves the rest.
    response = owner.post("/admin/settings", data={**SETTINGS, "shop_name": "Kilat Baru",
                                                   "logo": (io.BytesIO(b""), "")}, **multipart)
    assert response.status_code == 303, response.text
    assert "<title>Kilat Baru</title>" in app.test_client().get("/").text
    assert shown_logo(app) == logo
    # The same without the file field at all (a browser that leaves it out).
    assert owner.post("/admin/settings", data={**SETTINGS, "shop_name": "Kilat Lagi"}
                      ).status_code == 303
    assert shown_logo(app) == logo
    # "Use the standard logo again" removes it.
    response = owner.post("/admin/settings", data={**SETTINGS, "remove_logo": "y",
                                                   "logo": (io.BytesIO(b""), "")}, **multipart)
    assert response.status_code == 303, response.text
    assert shown_logo(app).startswith("/static/icons/logo.") and stored(app)["logo"] == ""


def test_staff_may_not_refund_until_the_owner_says_so(app, owner):
    assert stored(app)["staff_may_refund"] is False
    assert 'name="staff_may_refund"' in owner.get("/admin/settings").text
    assert owner.post("/admin/settings", data={**SETTINGS, "staff_may_refund": "y"}
                      ).status_code == 303
    assert stored(app)["staff_may_refund"] is True
    assert audit_entries(app)[0][3]["staff_may_refund"] is True
    owner.post("/admin/settings", data=SETTINGS)      # an unticked box: not allowed again
    assert stored(app)["staff_may_refund"] is False
    assert audit_entries(app)[1][2:] == ({"staff_may_refund": True}, {"staff_may_refund": False})
