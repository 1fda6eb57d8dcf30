"""The sandbox gateway's hosted pay page: the demo's stand-in for a real checkout.

Its buttons send a signed callback through the same handler path real gateways use.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, url_for

from merchant import catalog, orders
from merchant.core.extensions import db
from merchant.core.models import Deposit, Order
from merchant.customers import deposits
from merchant.orders import payment_events
from merchant.vendors import registry
from merchant.web import qr

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

ACTIONS = {"pay": "paid", "fail": "failed", "expire": "expired"}


def _order_or_404(gateway_ref: str) -> Order | Deposit:
    """The order, or the saldo deposit, this sandbox payment is for."""
    order = db.session.scalar(sa.select(Order).where(Order.gateway_ref == gateway_ref,
                                                     Order.gateway == "sandbox"))
    if order is None:
        order = deposits.by_gateway_ref("sandbox", gateway_ref)
    if order is None:
        abort(404)
    return order


def _back(order: Order | Deposit) -> str:
    if isinstance(order, Deposit):
        return url_for("saldo.deposit", ref=order.ref)
    return url_for("orders.show", ref=order.ref, t=order.view_token)


@bp.get("/pay/<gateway_ref>")
def pay_page(gateway_ref):
    """Amount, method, a QR for QR-style methods, and Pay / Fail / Expire."""
    order = _order_or_404(gateway_ref)
    open_ = order.status in orders.UNPAID
    method = catalog.find_method(order.payment_method)
    show_qr = open_ and method is not None and method.kind == "qr"
    # The page's own address without the query: whatever the query holds, it fits in a QR.
    here = url_for("sandbox.pay_page", gateway_ref=order.gateway_ref, _external=True)
    return render_template("sandbox/pay.html", order=order, open=open_, back=_back(order),
                           qr_svg=qr.svg(here) if show_qr else None)


@bp.post("/pay/<gateway_ref>")
def act(gateway_ref):
    """Send the callback the pressed button stands for, then return to the shop."""
    order = _order_or_404(gateway_ref)
    status = ACTIONS.get(request.form.get("action", ""))
    if status is None:
        abort(400)
    if order.status in orders.UNPAID:
        gateway = registry.gateway("sandbox")
        body, headers = gateway.callback(order.ref, gateway_ref, status, order.total,
                                         order.currency)
        payment_events.receive_callback("sandbox", body, headers)
    return redirect(_back(order), code=303)
