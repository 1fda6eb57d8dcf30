"""Needs attention: the panel's landing page."""
from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_login import current_user

from ... import attention
from . import bp

# The order page's hand-delivery action (merchant/web/admin/orders.py), when it is there.
DELIVER_ENDPOINT = "admin.order_deliver"


@bp.get("/")
def home():
    """What needs the operator now, most urgent first."""
    groups = attention.needs_attention(owner=current_user.is_owner)
    orders_url = (url_for("admin.orders") if "admin.orders" in current_app.view_functions
                  else "/admin/orders")
    return render_template("admin/home.html", groups=groups, deliver_url=_deliver_url,
                           orders_url=orders_url)


def _deliver_url(ref: str) -> str | None:
    if DELIVER_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(DELIVER_ENDPOINT, ref=ref)
