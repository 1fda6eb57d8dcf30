"""The catalog and product pages are one shared copy for every guest (web/page_cache.py): a
signed-in customer's pages (their level's prices, their account link) must never be served
from that copy, nor stored into it, nor be kept by a proxy."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import make_app
from signing_in import sign_in, smtp_config

from merchant.core.extensions import db
from merchant.core.models import Customer, PriceLevel

PAGES = ("/", "/p/tiktok-coins")


@pytest.fixture
def app(tmp_path, smtp):
    app = make_app(tmp_path, **smtp_config(smtp))
    with app.app_context():
        db.session.add(PriceLevel(name="Reseller", kind="discount", percent_bp=500))
        db.session.commit()
    return app


def at_level(app, client, smtp) -> None:
    sign_in(client, smtp)
    with app.app_context():
        db.session.execute(sa.update(Customer).values(
            level_id=db.session.scalar(sa.select(PriceLevel.id)), name="Dewi Lestari"))
        db.session.commit()


def assert_guest_page(response) -> None:
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public")
    assert "Sign in" in response.text and "My account" not in response.text
    assert "Reseller price" not in response.text


def assert_personal_page(response) -> None:
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    assert "Cookie" in response.headers["Vary"]
    assert "My account" in response.text


@pytest.mark.parametrize("path", PAGES)
def test_a_guest_never_gets_a_signed_in_customers_page(app, smtp, path):
    member = app.test_client()
    at_level(app, member, smtp)
    # The customer's page first: had it been stored, the guest would get it next.
    personal = member.get(path)
    assert_personal_page(personal)
    if path != "/":
        assert "Reseller price" in personal.text
    guest = app.test_client().get(path)
    assert_guest_page(guest)
    assert guest.data != personal.data


@pytest.mark.parametrize("path", PAGES)
def test_a_signed_in_customer_never_gets_the_guests_copy(app, smtp, path):
    guest = app.test_client().get(path)
    assert_guest_page(guest)
    member = app.test_client()
    at_level(app, member, smtp)
    # Even sending back the guest copy's ETag (the browser kept it from before signing in).
    again = member.get(path, headers={"If-None-Match": guest.headers["ETag"]})
    assert_personal_page(again)
    # Signed out: the shared copy again, and its 304.
    member.post("/account/sign-out")
    back = member.get(path, headers={"If-None-Match": guest.headers["ETag"]})
    assert back.status_code == 304


def test_a_session_that_ended_elsewhere_still_is_not_shared(tmp_path, smtp):
    app = make_app(tmp_path, **smtp_config(smtp))
    member = app.test_client()
    sign_in(member, smtp)
    other = app.test_client()
    sign_in(other, smtp)
    other.post("/account/sign-out-everywhere")
    # This browser's cookie still names an ended session: it is a guest now, but its pages
    # are still rendered for it alone (it never fills the shared copy).
    page = member.get("/p/tiktok-coins")
    assert page.headers["Cache-Control"] == "private, no-store"
    assert "Sign in" in page.text and "My account" not in page.text
