"""The customer's order page, its polled status block, and order tracking."""
from __future__ import annotations

import datetime as dt
import hmac
import secrets

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
from flask_babel import gettext as _

from .. import orders, payment_events, qr
from ..checkout import normalize_whatsapp
from ..extensions import csrf, db, limiter
from ..models import Order, utcnow
from .htmx import vary

bp = Blueprint("orders", __name__)
csrf.exempt(bp)     # tracking posts no token: web/cross_origin.py refuses cross-site posts

REMEMBERED = 20          # orders a browser session can reopen without the link's token
POLL_GATEWAY_EVERY = 10  # seconds: the status poll asks the gateway at most this often
UNKNOWN_ORDER_TOKEN = secrets.token_urlsafe(16)   # compared against when the ref is unknown


def remember(order: Order) -> None:
    _remember_ref(order.ref)


def _order_or_404(ref: str) -> Order:
    """The order, if this request may see it. :raise 404: unknown ref or no access."""
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref.upper()))
    if order is None:
        _may_see(None, None)        # the same work as for a real order, then the same 404
        abort(404)
    if not _may_see(order.ref, order.view_token):
        abort(404)
    return order


def _may_see(ref: str | None, view_token: str | None) -> bool:
    """may_see for this request; an order opened by its link's token is then remembered."""
    token = request.args.get("t", "")
    allowed, by_token = may_see(ref, view_token, token, session.get("orders", []))
    if by_token:
        _remember_ref(ref)
    return allowed


def may_see(ref: str | None, view_token: str | None, token: str,
            remembered) -> tuple[bool, bool]:
    """Whether a visitor may see order `ref` (None: there is no such order): the link's token
    matches, or their session placed or opened it before (`remembered`, the session's refs).
    Returns (allowed, by the token). The token is compared as bytes in constant time, against a
    stand-in when there is no such order, so the answer tells nothing about the reference."""
    if token:
        expected = (view_token or UNKNOWN_ORDER_TOKEN).encode()
        if hmac.compare_digest(token.encode("utf-8", "replace"), expected) and ref:
            return True, True
    return bool(ref) and ref in remembered, False


def _remember_ref(ref: str) -> None:
    refs = [r for r in session.get("orders", []) if r != ref]
    session["orders"] = ([ref] + refs)[:REMEMBERED]


def _context(order: Order) -> dict:
    return {"order": order, "final": order.status in orders.FINAL,
            "qr_svg": qr.svg(order.qr_string) if order.qr_string else None}


@bp.get("/o/<ref>")
def show(ref):
    """How to pay, the amounts, the account, and the live status."""
    order = _order_or_404(ref)
    if "t" in request.args:
        # The link's token opened the order for this browser; keep it out of the address bar,
        # the history and the access log from here on.
        return redirect(url_for("orders.show", ref=order.ref), code=303)
    return vary(render_template("orders/show.html", **_context(order)))


# Built once: the poll only binds the ref (the compiled form is cached by SQLAlchemy).
POLL = sa.select(Order.id, Order.ref, Order.view_token, Order.status, Order.gateway_ref,
                 Order.gateway_checked_at).where(Order.ref == sa.bindparam("ref"))


@limiter.request_filter
def _is_poll() -> bool:
    """The poll has no limit: say so before Flask-Limiter resolves any (cheaper than exempt)."""
    return request.endpoint == "orders.status"


@bp.get("/o/<ref>/status")
def status(ref):
    """The polled status block: 204 while nothing changed, 286 (stop polling) once final.

    Polled every 2 s by every open order page, so an unchanged status is answered from one
    indexed read of a few columns: no order object, no rendering, the session only read.
    """
    with db.engine.connect() as connection:     # a Core read: no ORM session, no objects
        row = connection.execute(POLL, {"ref": ref.upper()}).first()
    if not _may_see(row.ref if row else None, row.view_token if row else None):
        abort(404)
    since = request.args.get("since")
    ask_gateway = gateway_due(row)
    if unchanged(row, since):
        return vary("", 204)
    order = db.session.get(Order, row.id)
    if ask_gateway and payment_events.refresh(order, "poll", POLL_GATEWAY_EVERY):
        db.session.refresh(order)
    final = order.status in orders.FINAL
    if since == order.status and not final:
        return vary("", 204)
    response = vary(render_template("orders/_status.html", **_context(order)),
                    286 if final else 200)
    if final:
        # A final block never changes again: a browser that kept it gets a 304.
        response.add_etag()
        response.make_conditional(request)
    return response


def unchanged(row, since: str | None) -> bool:
    """The poll can answer 204: still `since`, not final, and the gateway not due a question."""
    return since == row.status and row.status not in orders.FINAL and not gateway_due(row)


def gateway_due(row) -> bool:
    """An unpaid order whose gateway nobody asked in the last POLL_GATEWAY_EVERY seconds."""
    if row.status != orders.AWAITING_PAYMENT or not row.gateway_ref:
        return False
    checked = row.gateway_checked_at
    return checked is None or utcnow() - checked >= dt.timedelta(seconds=POLL_GATEWAY_EVERY)


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
        error=_("We found no order with that reference and contact. Check both and try again."),
    ), 422


def _contact_matches(order: Order, contact: str) -> bool:
    if not contact:
        return False
    if order.email and contact.lower() == order.email.lower():
        return True
    return bool(order.whatsapp) and normalize_whatsapp(contact) == order.whatsapp
