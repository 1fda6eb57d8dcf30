"""Turns a customer's purchase form into an order with a payment waiting at the gateway.

The price comes only from the database; the account only with a valid verification token; a
repeated idempotency key returns the order it already made. The key comes with the form (the
shop's script makes one when the form is sent) or, without JavaScript, is made here from the
purchase itself and a short time window: Buy pressed twice is one order either way.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Mapping

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from merchant import catalog, orders
from merchant.catalog import accounts, flash_sales, margins, payment_methods, promos
from merchant.core import i18n, logs, receipt_channels, validation
from merchant.core.extensions import db
from merchant.core.models import Customer, Order, OrderEvent, Product, utcnow
from merchant.core.money import Money
from merchant.core.transactions import write_unit
from merchant.customers import ledger, levels, saldo
from merchant.orders.texts import said
from merchant.supply import availability, deposits
from merchant.vendors import registry
from merchant.vendors.payments.base import PaymentError, PaymentRequest, Unservable

log = logging.getLogger(__name__)

REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"     # no 0/O, 1/I/L: read aloud over WhatsApp
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Without a key from the form, the same purchase from the same buyer within this many seconds
# (at least; at most twice as many) is the same order: a double tap, a reload of the post.
DOUBLE_TAP_SECONDS = 30
# Form fields that differ between two presses of the same Buy, or are no part of the purchase.
NOT_THE_PURCHASE = frozenset({"idempotency_key", "verification_token", "csrf_token"})
GATEWAY_DOWN = _l("The payment provider is not responding. Try again in a minute.")


class SoldOut(Exception):
    """No offer's supplier deposit can cover the order (found under the row locks)."""


class PurchaseError(ValueError):
    """The purchase cannot go ahead; `errors` maps form fields to messages for the customer."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(message) for message in errors.values()))
        self.errors = errors


def new_ref() -> str:
    return "M" + "".join(secrets.choice(REF_ALPHABET) for _ in range(8))


def normalize_whatsapp(raw: str) -> str | None:
    """'0812-3456-7890' -> '+6281234567890'. None when it cannot be a phone number."""
    return validation.whatsapp_number(raw)


def read_contact(form: Mapping[str, str]) -> tuple[str | None, str | None, dict[str, str]]:
    email_raw = (form.get("email") or "").strip()
    phone_raw = (form.get("whatsapp") or "").strip()
    errors, email, whatsapp = {}, None, None
    if email_raw:
        try:
            email = validate_email(email_raw, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = _("Enter an email address like name@example.com.")
    if phone_raw:
        whatsapp = normalize_whatsapp(phone_raw)
        if whatsapp is None:
            errors["whatsapp"] = _("Enter a WhatsApp number like 0812 3456 7890.")
    if not email_raw and not phone_raw:
        errors["contact"] = str(receipt_channels.promise().missing)
    return email, whatsapp, errors


def place_order(product: Product, form: Mapping[str, str], key_owner: str = "",
                customer: Customer | None = None, contact_required: bool = True) -> Order:
    """Validate a purchase, create the order and its payment. :raise PurchaseError:

    `key_owner` (the browser session's secret) binds the idempotency key: the same key from
    another browser makes another order instead of finding this one. `customer`: the signed-in
    customer, whose order it becomes, whose price level prices it (from the live rows), and
    who may pay with saldo (the order is then paid at once, no gateway). `contact_required`
    False (an order through the API): without an email or WhatsApp number, no receipt.
    """
    keys = purchase_keys(product, form, key_owner, utcnow())
    key = keys[0]
    account, errors = accounts.read_fields(product, form)
    package = catalog.find_package(product, form.get("package"))
    if package is None:
        errors["package"] = _("Choose a package.")
    with_saldo = form.get("method") == saldo.SALDO
    if with_saldo:
        method = saldo.method(package.currency if package else "IDR") if customer else None
        if customer is None:
            errors["method"] = _("Sign in to pay with your saldo.")
    else:
        method = catalog.find_method(form.get("method"))
        if method is None:
            errors["method"] = _("Choose a payment method.")
        elif not catalog.payable(method):
            # The shop's configuration, not an outage: the customer can pick another method.
            errors["method"] = _("%(method)s cannot be used in this shop. Choose another "
                                 "payment method.", method=method.name)
    email, whatsapp, contact_errors = read_contact(form)
    if not contact_required:
        contact_errors.pop("contact", None)
    errors.update(contact_errors)
    nickname = None
    if not any(spec["name"] in errors for spec in product.account_fields):
        try:
            nickname = accounts.vouch(product, form, account)
        except accounts.TokenError as exc:
            errors["account"] = str(exc)
    contact_keys = promos.contacts(email, whatsapp)
    promo = None
    if promos.normalize(form.get("promo")):
        try:
            promo = promos.check(form.get("promo"), product, package, contact_keys)
        except promos.PromoRefused as exc:
            # Buy pressed twice: the first press may have taken the code's last use.
            existing = order_by_key(keys)
            if existing is not None:
                return existing
            errors["promo"] = str(exc)
    supply = None
    if package is not None:
        supply = availability.of_package(package)
        if not supply.available:
            errors["package"] = _("%(package)s cannot be bought right now: %(reason)s.",
                                  package=package.name,
                                  reason=availability.describe(supply.reason, supply.until))
    sale_item = None
    if package is not None and "package" not in errors:
        try:
            sale_item = flash_sales.price_for(package, flash_sales.shown(form), contact_keys)
        except flash_sales.FlashRefused as exc:
            existing = order_by_key(keys)       # the first press took the last unit
            if existing is not None:
                return existing
            errors["package"] = str(exc)
    if sale_item is not None and promo is not None and not sale_item.sale.with_promo:
        errors["promo"] = str(flash_sales.NO_PROMO)
    quote = None
    if package and method:
        try:
            quote = catalog.quote(package, method, promo, levels.price_for(customer, package),
                                  price=sale_item.sale_price if sale_item else None)
        except catalog.CatalogError as exc:
            errors["method"] = str(exc)
    if quote and sale_item and promo and not promo.allow_below_cost \
            and margins.below_cost(package, quote.subtotal.amount) is not None:
        # The code on top of the sale price goes below cost: the owner never accepted that.
        errors["promo"] = str(promos.NOT_FOR_PACKAGE)
    if errors:
        raise PurchaseError(errors)

    existing = order_by_key(keys)
    if existing is not None:
        return existing

    promo = quote.promo         # None when the customer's level price was lower
    now = utcnow()
    expiry = dt.timedelta(minutes=int(current_app.config["PAYMENT_EXPIRY_MINUTES"]))
    order = Order(
        ref=new_ref(), view_token=secrets.token_urlsafe(16), idempotency_key=key,
        status=orders.AWAITING_PAYMENT,
        product_id=product.id, package_id=package.id, product_name=product.name,
        package_name=package.name, quantity=package.quantity, bonus=package.bonus,
        account=account, account_id=_first_value(account), nickname=nickname, email=email,
        whatsapp=whatsapp, locale=i18n.language(),
        payment_method=method.code, payment_method_name=method.name,
        gateway=saldo.GATEWAY if with_saldo else payment_methods.serving_gateway(method.gateway),
        customer_id=customer.id if customer else None,
        subtotal=quote.subtotal.amount, fee=quote.fee.amount, total=quote.total.amount,
        currency=quote.total.currency, payment_expires_at=now + expiry,
        promo_id=promo.id if promo else None, promo_code=promo.code if promo else None,
        discount=quote.discount.amount, promo_counted=promo is not None,
        flash_item_id=sale_item.id if sale_item else None, flash_counted=sale_item is not None,
        supply_plan=[state.offer.as_plan() for state in supply.states],
        created_at=now, updated_at=now,
    )
    placed = said("placed", package=package.name, method=method.name)
    if promo is not None:
        placed = said("placed_promo", package=package.name, method=method.name,
                      promo=promo.code, discount=quote.discount)
    try:
        with write_unit():
            # The deposit this order will use, reserved under the suppliers' row locks until
            # the order is in: a buyer counted after another sees the other's order.
            offer = deposits.reserve(supply.sellable, now)
            if offer is None:
                raise SoldOut(package.name)
            order.supplier, order.supplier_sku, order.supplier_cost = \
                offer.supplier, offer.sku, offer.cost
            order.supplier_choice = next(i for i, state in enumerate(supply.states)
                                         if state.offer == offer)
            if sale_item is not None:
                # The unit first, then the code's use: the order every path takes them in.
                flash_sales.take(sale_item, contact_keys)
            if promo is not None:
                # The use is counted in the order's own transaction: no order, no use.
                promos.redeem(promo, product, package, contact_keys)
            db.session.add(order)
            db.session.flush()
            orders.record(order.id, "customer", placed, to_status=orders.AWAITING_PAYMENT)
            if sale_item is not None:
                orders.record(order.id, "customer", said(
                    "flash_price", sale=sale_item.sale.name, price=quote.price,
                    normal=Money(package.price, package.currency)))
            if with_saldo:
                # Debited and paid in the order's own transaction: no balance, no order.
                saldo.pay(order)
                orders.move(order.id, orders.PAID, "customer",
                            said("paid_saldo", amount=quote.total), paid_at=utcnow())
    except SoldOut:
        existing = order_by_key(keys)       # a double tap: the first press took the last unit
        if existing is not None:
            return existing
        log.warning("order for %s refused: no supplier deposit can cover it", package.name)
        raise PurchaseError({"package": _(
            "%(package)s cannot be bought right now: %(reason)s.", package=package.name,
            reason=availability.describe(availability.DEPOSIT))}) from None
    except ledger.SaldoShort as exc:
        raise PurchaseError({"method": str(exc)}) from exc
    except (IntegrityError, promos.PromoRefused, flash_sales.FlashRefused) as exc:
        # A double-tapped Buy: the other request made the order (and took the code's use).
        existing = order_by_key(keys)
        if existing is not None:
            return existing
        if isinstance(exc, flash_sales.FlashRefused):
            raise PurchaseError({"package": str(exc)}) from exc
        if isinstance(exc, promos.PromoRefused):
            raise PurchaseError({"promo": str(exc)}) from exc
        raise
    if with_saldo:
        db.session.refresh(order)
        return order
    return _open_payment(order, product)


@logs.about_order
def _open_payment(order: Order, product: Product) -> Order:
    """Create the payment at the gateway; without one, the order is withdrawn, not kept."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    request = PaymentRequest(
        ref=order.ref, amount=order.total, currency=order.currency,
        method=order.payment_method,
        description=f"{order.package_name} {product.name} ({order.ref})",
        expires_at=order.payment_expires_at,
        callback_url=f"{base}/webhooks/{order.gateway}",
        return_url=f"{base}/o/{order.ref}?t={order.view_token}",
        email=order.email, phone=order.whatsapp, customer_name=order.nickname,
    )
    try:
        # A gateway that is not ready raises a PaymentError (GatewayNotReady) saying why.
        checkout = registry.gateway(order.gateway).create_payment(request)
    except Exception as exc:
        # Whatever went wrong, an order that cannot be paid is not kept.
        with write_unit():
            flash_sales.give_back(order.id)
            promos.give_back(order.id)
            db.session.execute(sa.delete(OrderEvent).where(OrderEvent.order_id == order.id))
            db.session.execute(sa.delete(Order).where(Order.id == order.id))
        if not isinstance(exc, PaymentError):
            log.exception("order %s: creating the payment at %s failed", order.ref,
                          order.gateway)
            raise
        # The customer gets a plain sentence; the operator's log keeps the vendor's answer.
        log.error("order %s: %s could not create the payment: %s", order.ref, order.gateway,
                  exc)
        if isinstance(exc, Unservable):
            # The shop's settings, not an outage: trying again would not help.
            raise PurchaseError({"method": _(
                "%(method)s cannot take this order. Choose another payment method.",
                method=order.payment_method_name)}) from exc
        raise PurchaseError({"payment": str(GATEWAY_DOWN)}) from exc
    with write_unit():
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(
            gateway_ref=checkout.gateway_ref, checkout_url=checkout.checkout_url,
            qr_string=checkout.qr_string, pay_code=checkout.pay_code,
            # A vendor may keep its page open longer (Stripe: 30 min at least); our deadline
            # stands, and reconciliation closes the vendor's page when it passes.
            payment_expires_at=min(order.payment_expires_at,
                                   checkout.expires_at or order.payment_expires_at),
        ))
        orders.record(order.id, "customer", said("payment_opened", gateway=order.gateway,
                                                 payment=checkout.gateway_ref))
    db.session.refresh(order)
    return order


def _first_value(account: dict[str, str]) -> str | None:
    """The first account field's value (user ID, username ...): what the operator searches by."""
    return next(iter(account.values()), None)


def purchase_keys(product: Product, form: Mapping[str, str], owner: str,
                  now: dt.datetime) -> list[str]:
    """The keys of this Buy as stored, bound to `owner`: the first for a new order, any of
    them to find the order an earlier press made.

    The form's own key when it sent a valid one. Else (no JavaScript) one made from the
    product and every field of the purchase, in DOUBLE_TAP_SECONDS windows: this window's,
    and the previous one's so that two presses either side of a window's end still meet.
    """
    given = form.get("idempotency_key")
    if isinstance(given, str) and IDEMPOTENCY_KEY.fullmatch(given):
        return [bound_key(given, owner)]
    purchase = sorted((name, (form.get(name) or "").strip()) for name in form
                      if name not in NOT_THE_PURCHASE)
    window = int(now.replace(tzinfo=dt.UTC).timestamp()) // DOUBLE_TAP_SECONDS
    return [bound_key(hashlib.sha256(repr((product.id, purchase, w)).encode()).hexdigest(),
                      owner) for w in (window, window - 1)]


def bound_key(given: str, owner: str) -> str:
    """The key as stored: a digest of the form's key and its owner."""
    return hashlib.sha256(f"{owner}\n{given}".encode()).hexdigest()


def order_by_key(keys: list[str]) -> Order | None:
    """The order stored under one of `keys`."""
    return db.session.scalars(sa.select(Order).where(Order.idempotency_key.in_(keys))).first()
