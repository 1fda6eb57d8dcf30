"""A customer's account (optional: guests buy as before): sign in with a one-time code sent
to an email address or a WhatsApp number, or with a password once one is set; the account
page with the customer's orders, guest orders to claim, saved game accounts, Buy again.

Signing up and signing in are the same steps: a code goes to any well-formed contact and the
account is made when the code is used, so no answer says whether an address has an account.
Posts are guarded like the shop's (web/cross_origin.py); every page here is the visitor's own
and never kept by a cache.
"""
from __future__ import annotations

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

from merchant.catalog import accounts as account_checks
from merchant.catalog import cache as catalog_cache
from merchant.core.extensions import csrf, db, limiter
from merchant.core.models import Order, Product
from merchant.core.receipt_channels import EMAIL, WHATSAPP
from merchant.customers import accounts, codes, history, saved_accounts, sessions
from merchant.orders import checkout
from merchant.receipts import sign_in_codes
from merchant.web import customer_session, shop
from merchant.web.customer_session import current_customer, customer_or_sign_in
from merchant.web.order_pages import remember

bp = Blueprint("account", __name__, url_prefix="/account")
csrf.exempt(bp)         # web/cross_origin.py refuses cross-site posts, as on the shop's pages

PENDING = "sign_in_pending"     # the session key: the contact a code was sent to, and `next`


def _code_limit():
    return current_app.config["RATELIMIT_CUSTOMER_CODE"]


def _sign_in_limit():
    return current_app.config["RATELIMIT_CUSTOMER_SIGN_IN"]


def _typed_contact_key() -> str:
    contact = accounts.read_contact(request.form.get("contact", ""))
    return "customer-contact:" + (contact.value if contact else "-")


def _pending_contact_key() -> str:
    pending = session.get(PENDING) or {}
    return "customer-contact:" + str(pending.get("value", "-"))


@bp.app_context_processor
def account_globals():
    return {"current_customer": current_customer, "accounts_open": accounts_open}


def accounts_open() -> bool:
    """Whether customers can sign in here: a code can be sent (email or WhatsApp is on)."""
    return bool(sign_in_codes.available())


@bp.after_request
def private(response):
    """The visitor's own pages: never kept by a browser's or a proxy's cache."""
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Cookie")
    return response


@bp.errorhandler(429)
def too_many(error):
    message = _("Too many tries from here. Wait a few minutes, then try again.")
    if request.endpoint == "account.code":
        return _code_page(error=message, status=429)
    return _sign_in_page(error=message, status=429)


def _next_url() -> str:
    """Where to go after signing in: a path of this shop only."""
    target = request.values.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("account.show")
    return target


def _channels_hint() -> str:
    on = sign_in_codes.available()
    if on == {EMAIL, WHATSAPP}:
        return _("Your email address or WhatsApp number")
    if on == {WHATSAPP}:
        return _("Your WhatsApp number")
    return _("Your email address")


def _sign_in_page(error=None, password_error=None, status=200, values=None):
    return render_template("account/sign_in.html", error=error, password_error=password_error,
                           values=values or request.form, next=_next_url(),
                           contact_label=_channels_hint()), status


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
@limiter.limit(_code_limit, methods=["POST"], key_func=_typed_contact_key)
def sign_in():
    """Step one: the contact to send a code to (the same for a new account)."""
    if not accounts_open():
        return render_template("account/closed.html"), 404
    if current_customer() is not None and request.method == "GET":
        return redirect(_next_url(), code=303)
    if request.method == "GET":
        return _sign_in_page(values=request.args)
    contact = accounts.read_contact(request.form.get("contact", ""))
    if contact is None or contact.channel not in sign_in_codes.available():
        return _sign_in_page(error=_("Enter an email address like name@example.com or a "
                                     "WhatsApp number like 0812 3456 7890.")
                             if len(sign_in_codes.available()) == 2 else
                             _("Enter a WhatsApp number like 0812 3456 7890.")
                             if WHATSAPP in sign_in_codes.available() else
                             _("Enter an email address like name@example.com."), status=422)
    code = codes.issue(contact.value)
    try:
        sign_in_codes.send(contact, code)
    except sign_in_codes.NotSent:
        return _sign_in_page(error=_("We could not send the code just now. Try again in a "
                                     "minute."), status=503)
    session[PENDING] = {"channel": contact.channel, "value": contact.value,
                        "next": _next_url()}
    return redirect(url_for("account.code"), code=303)


def _pending() -> accounts.Contact | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("channel") not in (EMAIL, WHATSAPP):
        return None
    return accounts.Contact(pending["channel"], str(pending.get("value")))


def _code_page(error=None, status=200):
    contact = _pending()
    if contact is None:
        return redirect(url_for("account.sign_in"), code=303)
    return render_template("account/code.html", error=error, sent_to=accounts.masked(contact),
                           channel=contact.channel), status


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_sign_in_limit, methods=["POST"], key_func=_pending_contact_key)
def code():
    """Step two: the code that was sent. Right: signed in (the account made if it is new)."""
    contact = _pending()
    if request.method == "GET" or contact is None:
        return _code_page()
    if not codes.redeem(contact.value, request.form.get("code", "")):
        return _code_page(error=_("That code is not right, or it has expired. Check it, or ask "
                                  "for a new one."), status=422)
    customer = accounts.signed_up(contact)
    if customer is None or not customer.active:
        return _code_page(error=_("This account is switched off. Ask the shop for help."),
                          status=403)
    target = session.pop(PENDING, {}).get("next") or url_for("account.show")
    customer_session.sign_in(customer)
    return redirect(target, code=303)


@bp.post("/password-sign-in")
@limiter.limit(_sign_in_limit)
@limiter.limit(_sign_in_limit, key_func=_typed_contact_key)
def password_sign_in():
    """Sign in with a password the customer set on their account page."""
    if not accounts_open():
        abort(404)
    contact = accounts.read_contact(request.form.get("contact", ""))
    customer = accounts.with_password(contact, request.form.get("password", ""))
    if customer is None:
        return _sign_in_page(password_error=_("That email or number and password do not match "
                                              "an account with a password. Sign in with a code "
                                              "instead."), status=422)
    customer_session.sign_in(customer)
    return redirect(_next_url(), code=303)


@bp.get("")
def show():
    """The account: level, orders, guest orders to claim, saved game accounts, password."""
    customer, away = customer_or_sign_in()
    if away:
        return away
    return _account_page(customer)


def _account_page(customer, notice=None, password_error=None, status=200):
    orders = history.orders_of(customer)
    saved = saved_accounts.of(customer)
    wanted = {o.product_id for o in orders} | {s.product_id for s in saved}
    products = {p.id: p for p in db.session.scalars(sa.select(Product)
                                                    .where(Product.id.in_(wanted)))}
    return render_template("account/show.html", customer=customer, orders=orders,
                           claimable=history.claimable(customer),
                           saved=saved, products=products,
                           notice=notice or request.args.get("done"),
                           password_error=password_error,
                           min_password=accounts.MIN_PASSWORD), status


@bp.post("/password")
def password():
    """Set or change the password; every other browser is signed out."""
    customer, away = customer_or_sign_in()
    if away:
        return away
    new = request.form.get("password", "")
    if len(new) < accounts.MIN_PASSWORD:
        return _account_page(customer, password_error=_(
            "Use at least %(count)s characters.", count=accounts.MIN_PASSWORD), status=422)
    if new != request.form.get("confirm", ""):
        return _account_page(customer, password_error=_("The two passwords do not match."),
                             status=422)
    accounts.set_password(customer, new)
    sessions.end_everywhere(customer)
    customer_session.sign_in(db.session.get(type(customer), customer.id))
    return redirect(url_for("account.show", done="password"), code=303)


@bp.post("/sign-out")
def sign_out():
    customer_session.sign_out()
    return redirect(url_for("shop.index"), code=303)


@bp.post("/sign-out-everywhere")
def sign_out_everywhere():
    """Every browser of this account signed out, this one too (a lost phone)."""
    customer = current_customer()
    if customer is not None:
        sessions.end_everywhere(customer)
    customer_session.sign_out()
    return redirect(url_for("shop.index"), code=303)


@bp.post("/claim")
def claim():
    """Add the guest orders placed with the account's verified email or number."""
    customer, away = customer_or_sign_in()
    if away:
        return away
    history.claim(customer)
    return redirect(url_for("account.show", done="claimed"), code=303)


def _own_order(ref: str, customer) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
    if order is None or order.customer_id != customer.id:
        abort(404)
    return order


@bp.post("/orders/<ref>/save")
def save_account(ref):
    """Save the game account of one of the customer's orders."""
    customer, away = customer_or_sign_in()
    if away:
        return away
    saved_accounts.save_from_order(customer, _own_order(ref, customer))
    return redirect(url_for("account.show", done="saved"), code=303)


@bp.post("/saved/<int:saved_id>/remove")
def remove_saved(saved_id):
    customer, away = customer_or_sign_in()
    if away:
        return away
    saved_accounts.remove(customer, saved_id)
    return redirect(url_for("account.show", done="removed"), code=303)


@bp.post("/orders/<ref>/again")
def buy_again(ref):
    """One tap: the same game account, package, payment method and contact, through the
    normal checkout (a fresh account check, today's price for the customer's level)."""
    customer, away = customer_or_sign_in()
    if away:
        return away
    order = _own_order(ref, customer)
    product = db.session.get(Product, order.product_id) if order.product_id else None
    product = catalog_cache.product_by_slug(product.slug) if product else None
    if product is None:
        return _account_page(customer, notice="gone", status=422)
    values = {**(order.account or {}),
              **{account_checks.confirm_name(spec): (order.account or {}).get(spec["name"], "")
                 for spec in account_checks.confirm_fields(product)},
              "package": str(order.package_id or ""), "method": order.payment_method,
              "email": order.email or "", "whatsapp": order.whatsapp or "",
              "idempotency_key": request.form.get("idempotency_key", "")}
    check = account_checks.check(product, values)
    if not check.ok or catalog_cache.find_package(product, order.package_id) is None:
        return shop.render_product(product, values, check=check, status=422)
    values["verification_token"] = check.token or ""
    try:
        again = checkout.place_order(product, values, key_owner=shop.key_owner(),
                                     customer=customer)
    except checkout.PurchaseError as exc:
        return shop.render_product(product, values, errors=exc.errors, check=check,
                                   status=422)
    remember(again)
    return redirect(url_for("orders.show", ref=again.ref), code=303)
