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
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from merchant import orders
from merchant.core.extensions import csrf, db, limiter
from merchant.core.models import Order, utcnow
from merchant.orders import payment_events, status_read
from merchant.orders.checkout import normalize_whatsapp
from merchant.trust import access, claims, reviews
from merchant.web import qr
from merchant.web.htmx import vary

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
    return vary(render_template("orders/show.html", **_context(order), **_trust(order)))


def _trust(order: Order, **errors) -> dict:
    """The order page's review and problem-report blocks. The forms carry the link's token:
    only its holder may post (a browser that opened the page holds it)."""
    return {"review": reviews.of_order(order.id), "claims": claims.of_order(order.id),
            "may_report": claims.may_report(order), "report_until": claims.deadline(order),
            "claim_kinds": claims.KINDS, "review_error": None, "claim_error": None,
            "values": {}, **errors}


def _posted_order(ref: str) -> Order:
    """The order a review or report is posted about. :raise 404: unknown, or the form does not
    carry its link's token (the same answer, as for the page)."""
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref.upper()))
    if order is None or not access.holds_link(order, request.form.get("t")):
        abort(404)
    _remember_ref(order.ref)        # the token opens the page, as the link does
    return order


def _refused(order: Order, **errors):
    page = render_template("orders/show.html", **_context(order),
                           **_trust(order, values=request.form, **errors))
    return vary(page, 422)


@bp.post("/o/<ref>/review")
def review(ref):
    """The buyer's rating and comment on a delivered order."""
    order = _posted_order(ref)
    try:
        reviews.post(order, request.form.get("t"), request.form.get("rating"),
                     request.form.get("comment"))
    except reviews.ReviewRefused as exc:
        return _refused(order, review_error=str(exc))
    return redirect(url_for("orders.show", ref=order.ref, _anchor="review"), code=303)


@bp.post("/o/<ref>/claim")
def claim(ref):
    """The customer's report of a problem with a delivered order."""
    order = _posted_order(ref)
    try:
        claims.report(order, request.form.get("t"), request.form.get("kind"),
                      request.form.get("message"))
    except claims.ClaimRefused as exc:
        return _refused(order, claim_error=str(exc))
    return redirect(url_for("orders.show", ref=order.ref, _anchor="claim"), code=303)


# The poll's one read: the few columns it decides on, by the unique index on ref. Built once;
# the poll only binds the ref (SQLAlchemy caches the compiled form).
@limiter.request_filter
def _is_poll() -> bool:
    """No rate limit on the status poll, deliberately: every open order page sends one every
    2 s (customers behind one carrier's NAT share an address), and an answer costs one indexed
    read, as a 404 does. A request filter is Flask-Limiter's first test, so the poll is let
    through before any limit is looked up (`limiter.exempt` decides later)."""
    return request.endpoint == "orders.status"


@bp.get("/o/<ref>/status")
def status(ref):
    """The polled status block: empty while nothing changed, 286 (stop polling) once final.

    The order page polls every 2 s with `since` = the status it shows, and nearly every answer
    is "unchanged": an empty 200 with `HX-Reswap: none` (_unchanged), so htmx swaps nothing and
    the connection is kept. These answers are never cached (`no-store`). Without JavaScript
    nothing polls; the page refreshes itself.

    An unchanged poll of an order this browser placed or opened is answered before this view,
    right after the guards (answer_unchanged_poll): one indexed read of a few columns, no order
    object, no template, no locale, no rate limit. A database error is the app's 503, which
    htmx does not swap: the block stays and the next poll asks again, on a fresh connection.
    """
    row = g.pop("poll_row", None) or status_read.read(ref)    # read by answer_unchanged_poll
    if not _may_see(row.ref if row else None, row.view_token if row else None):
        abort(404)
    since = request.args.get("since")
    if unchanged(row, since):
        return _unchanged()
    order = db.session.get(Order, row.id)
    if gateway_due(row) and payment_events.refresh(order, "poll", POLL_GATEWAY_EVERY):
        db.session.refresh(order)
    final = order.status in orders.FINAL
    if since == order.status and not final:
        return _unchanged()
    response = vary(render_template("orders/_status.html", **_context(order)),
                    286 if final else 200)
    if final:
        # A final block never changes again: a client that kept it gets a 304 by its ETag
        # (a digest of the bytes, so the language and every shown field are in it).
        response.add_etag()
        response.make_conditional(request)
    return response


def answer_unchanged_poll():
    """before_request, right after the guards: the unchanged status poll of an order this
    browser placed or opened, answered before CSRF, the rate limits and the languages run,
    with one indexed read. Anything else (a change, an order opened by its link's token, a
    poll without `since`) goes on to the `status` view, which answers every case."""
    if request.endpoint != "orders.status":
        return None
    since = request.args.get("since")
    row = status_read.read(request.view_args["ref"]) if since else None
    g.poll_row = row                    # the view reads it again only if there is none
    if row is None or row.ref not in session.get("orders", ()) or not unchanged(row, since):
        return None
    return _unchanged()


def _unchanged():
    """Nothing to swap: an empty 200 that tells htmx to swap nothing (HX-Reswap: none).

    Not a 204: a response without a body carries no Content-Length, and waitress then closes
    the connection after it, so every poll of every open order page would open a new one."""
    return current_app.response_class(b"", 200, [("Vary", "HX-Request"),
                                                 ("HX-Reswap", "none")])


def install(app) -> None:
    """Put the unchanged poll's answer right after the guards (web/guards.py,
    web/cross_origin.py), ahead of every other before_request function."""
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(2, answer_unchanged_poll)


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
