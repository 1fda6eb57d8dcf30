"""Reviews from real buyers: only a delivered order's link holder, once per order; hidden ones
leave the average; masked names; aggregateRating only from RATING_SHOWN_FROM reviews; the
shared product page changes when a review comes or goes."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from conftest import buy, delivered_order, failed_order, get_order, order_ref, paid_order

from merchant.core.extensions import db
from merchant.core.models import AuditEntry, Order, Review
from merchant.trust import reviews

PRODUCT = "/p/tiktok-coins"


def post_review(client, app, ref, rating=5, comment="Cepat banget", token=None):
    token = get_order(app, ref).view_token if token is None else token
    return client.post(f"/o/{ref}/review", data={"t": token, "rating": rating,
                                                 "comment": comment})


def stored(app) -> list[Review]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Review).order_by(Review.id)))
        db.session.expunge_all()
        return rows


def json_ld(page: str) -> dict:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return next(data for data in map(json.loads, blocks) if data["@type"] == "Product")


def delivered_to(client, app, username: str) -> str:
    return paid_order(client, app, username, "delivered")


def test_a_review_without_a_delivered_order_is_refused(client, app):
    unpaid = order_ref(buy(client, app))
    failed = failed_order(client, app)
    for ref in (unpaid, failed):
        response = post_review(client, app, ref)
        assert response.status_code == 422
        assert "You can review an order once it is delivered." in response.text
    assert stored(app) == []
    # The order page of an undelivered order offers no review form.
    assert "Send review" not in client.get(f"/o/{unpaid}").text


def test_only_the_holder_of_the_orders_link_can_post(client, app):
    ref = delivered_order(client, app)
    stranger = app.test_client()
    assert post_review(stranger, app, ref, token="not-the-token").status_code == 404
    assert post_review(stranger, app, ref, token="").status_code == 404
    assert stored(app) == []
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        with pytest.raises(reviews.ReviewRefused, match="link in your receipt"):
            reviews.post(order, "guess", 5, "")


def test_one_review_per_delivered_order(client, app):
    ref = delivered_order(client, app)
    page = client.get(f"/o/{ref}?t={get_order(app, ref).view_token}", follow_redirects=True)
    assert "Send review" in page.text

    first = post_review(client, app, ref, rating=4, comment="Masuk dalam 1 menit")
    assert first.status_code == 303 and first.headers["Location"].endswith("#review")
    page = client.get(f"/o/{ref}").text
    assert "Masuk dalam 1 menit" in page and "Send review" not in page

    second = post_review(client, app, ref, rating=1, comment="ganti ulasan")
    assert second.status_code == 422
    assert "one review per order" in second.text
    assert [(r.rating, r.comment) for r in stored(app)] == [(4, "Masuk dalam 1 menit")]

    # The database refuses it too, whatever path tries (not only the check in reviews.post).
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        db.session.add(Review(order_id=order.id, product_id=order.product_id, rating=2))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()


@pytest.mark.parametrize("rating", ["0", "6", "five", ""])
def test_a_rating_outside_one_to_five_is_refused(client, app, rating):
    ref = delivered_order(client, app)
    response = post_review(client, app, ref, rating=rating)
    assert response.status_code == 422 and "Choose a rating from 1 to 5 stars." in response.text
    assert stored(app) == []


def test_a_hidden_review_leaves_the_average_and_the_page_changes(client, app, owner):
    good = delivered_to(client, app, "first_buyer")
    bad = delivered_to(client, app, "second_buyer")
    buyer, client = client, app.test_client()     # a visitor: the page every visitor gets
    first_page = client.get(f"{PRODUCT}?lang=en")
    assert "Reviews from buyers" not in first_page.text
    assert post_review(buyer, app, good, rating=5, comment="Mantap").status_code == 303
    assert post_review(buyer, app, bad, rating=2, comment="kasar sekali").status_code == 303

    # A new review changes the shared page: a browser holding the old copy gets the new one.
    page = client.get(f"{PRODUCT}?lang=en",
                      headers={"If-None-Match": first_page.headers["ETag"]})
    assert page.status_code == 200 and page.headers["ETag"] != first_page.headers["ETag"]
    # Numbers as the shop's region writes them (en_ID like id_ID: a decimal comma).
    assert "<strong>3,5</strong>/5 · 2 reviews" in page.text
    assert "kasar sekali" in page.text
    assert "<strong>3,5</strong>/5 · 2 ulasan" in client.get(f"{PRODUCT}?lang=id").text

    bad_id = next(r.id for r in stored(app) if r.rating == 2)
    refused = owner.post(f"/admin/reviews/{bad_id}/hide", data={"reason": ""})
    assert refused.status_code == 422
    hidden = owner.post(f"/admin/reviews/{bad_id}/hide",
                        data={"reason": "insults, not about the order"})
    assert hidden.status_code == 303

    after = client.get(f"{PRODUCT}?lang=en", headers={"If-None-Match": page.headers["ETag"]})
    assert after.status_code == 200
    assert "<strong>5,0</strong>/5 · 1 review" in after.text and "kasar sekali" not in after.text
    # Kept as written, hidden, with the reason in the audit log.
    row = next(r for r in stored(app) if r.id == bad_id)
    assert (row.rating, row.comment, row.hidden_reason) == (2, "kasar sekali",
                                                            "insults, not about the order")
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "review.hide"))
        assert entry.actor == "owner@example.com" and entry.target_id == str(bad_id)
        assert entry.after == {"hidden": True, "reason": "insults, not about the order"}
    # The buyer sees that it is hidden; the panel can show it again.
    assert "hidden this review" in buyer.get(f"/o/{bad}?lang=en").text
    assert owner.post(f"/admin/reviews/{bad_id}/show").status_code == 303
    assert "2 reviews" in client.get(f"{PRODUCT}?lang=en").text


def test_staff_cannot_hide_reviews(client, app, staff):
    ref = delivered_order(client, app)
    post_review(client, app, ref)
    assert staff.post(f"/admin/reviews/{stored(app)[0].id}/hide",
                      data={"reason": "x"}).status_code == 403
    assert stored(app)[0].hidden_at is None


def test_names_are_masked(client, app):
    assert reviews.mask_name("Dewi") == "D***i"
    assert reviews.mask_name("Dewi Lestari") == "D***i"
    assert reviews.mask_name("X") == "X***"
    assert reviews.mask_name("") == ""
    ref = delivered_to(client, app, "dewi_gamer")
    nickname = get_order(app, ref).nickname
    post_review(client, app, ref, rating=5, comment="oke")
    page = app.test_client().get(PRODUCT).text
    masked = nickname[0] + "***" + nickname[-1]
    assert f'<span class="review-author">{masked}</span>' in page
    assert nickname not in page


def test_aggregate_rating_only_from_enough_visible_reviews(client, app):
    refs = [delivered_to(client, app, f"buyer_{n}") for n in range(reviews.RATING_SHOWN_FROM)]
    for ref in refs[:-1]:
        post_review(client, app, ref, rating=4)
    assert "aggregateRating" not in json_ld(client.get(PRODUCT).text)

    post_review(client, app, refs[-1], rating=5)
    rating = json_ld(client.get(PRODUCT).text)["aggregateRating"]
    assert rating == {"@type": "AggregateRating", "ratingValue": "4.2",
                      "reviewCount": reviews.RATING_SHOWN_FROM, "bestRating": 5,
                      "worstRating": 1}
