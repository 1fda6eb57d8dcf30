"""The customer's order page, its polled status block, and order tracking."""
from __future__ import annotations

import hmac

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import orders, payment_events, qr
from ..checkout import normalize_whatsapp
from ..extensions import db, limiter
from ..models import Order
from .htmx import vary

bp = Blueprint("orders", __name__)

REMEMBERED = 20          # orders a browser session can reopen without the link's token
POLL_GATEWAY_EVERY = 10  # seconds: the status poll asks the gateway at most this often


def remember(order: Order) -> None:
    refs = [r for r in session.get("orders", []) if r != order.ref]
    session["orders"] = ([order.ref] + refs)[:REMEMBERED]


def _order_or_404(ref: str) -> Order:
    """The order, if this request may see it. :raise 404: unknown ref or no access."""
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref.upper()))
    if order is None:
        abort(404)
    token = request.args.get("t", "")
    if token and hmac.compare_digest(token, order.view_token):
        remember(order)
    elif order.ref not in session.get("orders", []):
        abort(404)
    return order


def _context(order: Order) -> dict:
    return {"order": order, "final": order.status in orders.FINAL,
            "qr_svg": qr.svg(order.qr_string) if order.qr_string else None}


@bp.get("/o/<ref>")
def show(ref):
    """How to pay, the amounts, the account, and the live status."""
    order = _order_or_404(ref)
    return vary(render_template("orders/show.html", **_context(order)))


@bp.get("/o/<ref>/status")
def status(ref):
    """The polled status block: 204 while nothing changed, 286 (stop polling) once final."""
    order = _order_or_404(ref)
    if order.status == orders.AWAITING_PAYMENT and order.gateway_ref:
        if payment_events.refresh(order, "poll", POLL_GATEWAY_EVERY):
            db.session.refresh(order)
    if request.args.get("since") == order.status and order.status not in orders.FINAL:
        return vary("", 204)
    code = 286 if order.status in orders.FINAL else 200
    return vary(render_template("orders/_status.html", **_context(order)), code)


def _track_limit():
    return current_app.config["RATELIMIT_TRACK"]


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_track_limit, methods=["POST"])
def track():
    """Find an order by its reference and the email or WhatsApp number it was placed with."""
    if request.method == "GET":
        return render_template("orders/track.html", values={}, error=None)
    ref = (request.form.get("ref") or "").strip().upper()
    contact = (request.form.get("contact") or "").strip()
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref)) if ref else None
    if order is not None and _contact_matches(order, contact):
        remember(order)
        return redirect(url_for("orders.show", ref=order.ref), code=303)
    return render_template(
        "orders/track.html", values=request.form,
        error="We found no order with that reference and contact. Check both and try again.",
    ), 422


def _contact_matches(order: Order, contact: str) -> bool:
    if not contact:
        return False
    if order.email and contact.lower() == order.email.lower():
        return True
    return bool(order.whatsapp) and normalize_whatsapp(contact) == order.whatsapp
