"""An order's history is read in the panel's language: the shop's own lines are stored as codes
with parameters, the audit entries' value names are translated; lines stored as text before
(and vendors' words) are shown as written."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from conftest import failed_order, history

from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent


def timeline(owner, ref: str, lang: str) -> str:
    page = owner.get(f"/admin/orders/{ref}?lang={lang}").text
    return html.unescape(page.split('id="timeline-title"')[1])


@pytest.mark.parametrize("lang, lines", [
    ("en", ["Order placed: 70 Coins via QRIS", "Claimed for delivery",
            "Delivered by hand: serial 123", "delivery proof: serial 123"]),
    ("id", ["Pesanan dibuat: 70 Coins lewat QRIS", "Diambil untuk dikirim",
            "Dikirim manual: serial 123", "bukti pengiriman: serial 123"]),
])
def test_the_shops_own_lines_are_in_the_readers_language(client, app, owner, lang, lines):
    ref = failed_order(client, app)
    assert owner.post(f"/admin/orders/{ref}/deliver",
                      data={"proof": "serial 123"}).status_code == 303
    shown = timeline(owner, ref, lang)
    for line in lines:
        assert line in shown
    # What is stored stays English for logs and exports.
    details = [detail for _, _, _, detail in history(app, ref)]
    assert "Order placed: 70 Coins via QRIS" in details
    assert "Delivered by hand: serial 123" in details


def test_a_line_stored_as_text_is_shown_as_written(client, app, owner):
    ref = failed_order(client, app)
    with app.app_context():
        order_id = db.session.scalar(sa.select(Order.id).where(Order.ref == ref))
        db.session.add(OrderEvent(order_id=order_id, source="admin",
                                  detail="Order placed the old way"))
        db.session.commit()
    assert "Order placed the old way" in timeline(owner, ref, "id")
