"""Deposits: a signed-in customer tops up their saldo through the shop's gateways and methods.

A deposit is paid like an order (the method's fee on top, its smallest and largest amounts,
the same gateway adapters and callbacks), but buys saldo instead of a top-up. Its status moves
only by conditional updates; the one that moves it to paid writes the ledger's credit in the
same transaction, and the credit's key ("deposit:<id>") is unique: however often a gateway
repeats its callback, the saldo is credited once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from merchant import catalog
from merchant.catalog import payment_methods
from merchant.core import i18n, money
from merchant.core.extensions import db
from merchant.core.models import Customer, Deposit, PaymentMethod, utcnow
from merchant.core.transactions import write_unit
from merchant.customers import ledger
from merchant.vendors import registry
from merchant.vendors.payments.base import (
    EXPIRED,
    FAILED,
    PAID,
    PaymentError,
    PaymentRequest,
    PaymentUpdate,
)

log = logging.getLogger(__name__)

AWAITING_PAYMENT, PAID_STATUS, EXPIRED_STATUS, FAILED_STATUS = (
    "awaiting_payment", "paid", "expired", "payment_failed")
# A payment confirmed after expiry or a failed attempt still took the customer's money.
UNPAID = frozenset({AWAITING_PAYMENT, EXPIRED_STATUS, FAILED_STATUS})
LABELS = {AWAITING_PAYMENT: _l("Waiting for payment"), PAID_STATUS: _l("Added to your saldo"),
          EXPIRED_STATUS: _l("Expired"), FAILED_STATUS: _l("Payment failed")}
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REF_PREFIX = "D"            # orders' refs start with M: a callback's ref says which it is


class DepositError(ValueError):
    """The deposit cannot be made; `errors` maps form fields to messages for the customer."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def is_deposit_ref(ref: str | None) -> bool:
    return bool(ref) and ref.startswith(REF_PREFIX)


def limits(currency: str) -> tuple[money.Money, money.Money]:
    """The smallest and the largest deposit the shop takes."""
    config = current_app.config
    return (money.Money(int(config["SALDO_DEPOSIT_MIN"]), currency),
            money.Money(int(config["SALDO_DEPOSIT_MAX"]), currency))


def quote(amount: money.Money, method: PaymentMethod) -> tuple[money.Money, money.Money]:
    """(fee, total) of depositing `amount` with `method`. :raise DepositError: the method or
    the shop's limits do not take it."""
    low, high = limits(amount.currency)
    if amount.amount < low.amount:
        raise DepositError({"amount": _("The smallest deposit is %(amount)s.", amount=low)})
    if amount.amount > high.amount:
        raise DepositError({"amount": _("The largest deposit is %(amount)s.", amount=high)})
    if method.currency != amount.currency:
        raise DepositError({"method": _("%(method)s does not accept %(currency)s.",
                                        method=method.name, currency=amount.currency)})
    fee = money.fee(amount, method.fee_flat, method.fee_percent_bp)
    total = amount + fee
    if total.amount < method.min_amount:
        raise DepositError({"method": _("%(method)s takes at least %(amount)s.",
                                        method=method.name,
                                        amount=money.Money(method.min_amount, method.currency))})
    if method.max_amount is not None and total.amount > method.max_amount:
        raise DepositError({"method": _("%(method)s takes at most %(amount)s.",
                                        method=method.name,
                                        amount=money.Money(method.max_amount, method.currency))})
    return fee, total


def read_amount(raw: str | None, currency: str) -> money.Money:
    try:
        return money.Money(money.to_minor(raw or "", currency), currency)
    except ValueError:
        raise DepositError({"amount": _("Enter an amount like 50.000.")}) from None


def open_deposit(customer: Customer, form, key_owner: str) -> Deposit:
    """Create a deposit and its payment at the gateway. :raise DepositError:

    The form's idempotency key (bound to the browser) makes a double tap one deposit.
    """
    method = catalog.find_method(form.get("method"))
    errors: dict[str, str] = {}
    if method is None:
        errors["method"] = _("Choose a payment method.")
    elif not catalog.payable(method):
        errors["method"] = _("%(method)s cannot be used in this shop. Choose another payment "
                             "method.", method=method.name)
    currency = method.currency if method else "IDR"
    amount = fee = total = None
    try:
        amount = read_amount(form.get("amount"), currency)
        if method is not None and not errors:
            fee, total = quote(amount, method)
    except DepositError as exc:
        errors.update(exc.errors)
    if errors:
        raise DepositError(errors)
    given = str(form.get("idempotency_key") or secrets.token_hex(16))[:64]
    key = hashlib.sha256(f"{key_owner}\n{customer.id}\n{given}".encode()).hexdigest()
    existing = db.session.scalar(sa.select(Deposit).where(Deposit.idempotency_key == key))
    if existing is not None:
        return existing
    now = utcnow()
    expiry = dt.timedelta(minutes=int(current_app.config["PAYMENT_EXPIRY_MINUTES"]))
    deposit = Deposit(
        ref=REF_PREFIX + "".join(secrets.choice(REF_ALPHABET) for _ in range(8)),
        idempotency_key=key, customer_id=customer.id, status=AWAITING_PAYMENT,
        amount=amount.amount, fee=fee.amount, total=total.amount, currency=currency,
        payment_method=method.code, payment_method_name=method.name,
        gateway=payment_methods.serving_gateway(method.gateway), payment_expires_at=now + expiry,
        locale=i18n.language(), created_at=now, updated_at=now)
    try:
        with write_unit():
            db.session.add(deposit)
    except IntegrityError:
        existing = db.session.scalar(sa.select(Deposit).where(Deposit.idempotency_key == key))
        if existing is not None:
            return existing
        raise
    return _open_payment(deposit, customer)


def _open_payment(deposit: Deposit, customer: Customer) -> Deposit:
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    request = PaymentRequest(
        ref=deposit.ref, amount=deposit.total, currency=deposit.currency,
        method=deposit.payment_method, description=f"Saldo {deposit.ref}",
        expires_at=deposit.payment_expires_at, callback_url=f"{base}/webhooks/{deposit.gateway}",
        return_url=f"{base}/saldo/d/{deposit.ref}", email=customer.email,
        phone=customer.whatsapp, customer_name=customer.name or None)
    try:
        checkout = registry.gateway(deposit.gateway).create_payment(request)
    except Exception as exc:
        with write_unit():
            db.session.execute(sa.delete(Deposit).where(Deposit.id == deposit.id))
        if not isinstance(exc, PaymentError):
            log.exception("deposit %s: creating the payment at %s failed", deposit.ref,
                          deposit.gateway)
            raise
        log.error("deposit %s: %s could not create the payment: %s", deposit.ref,
                  deposit.gateway, exc)
        raise DepositError({"payment": _("The payment provider is not responding. Try again "
                                         "in a minute.")}) from exc
    with write_unit():
        db.session.execute(sa.update(Deposit).where(Deposit.id == deposit.id).values(
            gateway_ref=checkout.gateway_ref, checkout_url=checkout.checkout_url,
            qr_string=checkout.qr_string, pay_code=checkout.pay_code,
            payment_expires_at=min(deposit.payment_expires_at,
                                   checkout.expires_at or deposit.payment_expires_at)))
    db.session.refresh(deposit)
    return deposit


def find(update: PaymentUpdate) -> Deposit | None:
    """The deposit a gateway's update is about, if it is about one."""
    deposit = None
    if is_deposit_ref(update.order_ref):
        deposit = db.session.scalar(sa.select(Deposit).where(Deposit.ref == update.order_ref))
    if deposit is None and update.gateway_ref:
        deposit = db.session.scalar(sa.select(Deposit)
                                    .where(Deposit.gateway_ref == update.gateway_ref))
    return deposit


def by_ref(ref: str, customer_id: int) -> Deposit | None:
    """One of the customer's deposits (another customer's is not found)."""
    return db.session.scalar(sa.select(Deposit).where(Deposit.ref == ref,
                                                      Deposit.customer_id == customer_id))


def by_gateway_ref(gateway: str, gateway_ref: str) -> Deposit | None:
    return db.session.scalar(sa.select(Deposit).where(Deposit.gateway_ref == gateway_ref,
                                                      Deposit.gateway == gateway))


def apply(deposit: Deposit, update: PaymentUpdate, source: str) -> str:
    """Inside the caller's transaction: turn a payment update into at most one status change,
    and a payment into one credit. Returns a short outcome for the log."""
    if update.status == PAID:
        if (update.amount, update.currency) != (deposit.total, deposit.currency):
            reason = (f"payment amount {update.amount} {update.currency} does not match the "
                      f"deposit total {deposit.total} {deposit.currency}")[:200]
            db.session.execute(sa.update(Deposit).where(Deposit.id == deposit.id)
                               .values(flag=reason, updated_at=utcnow()))
            log.error("deposit %s: %s; not credited", deposit.ref, reason)
            return "amount mismatch: flagged"
        now = utcnow()
        won = db.session.execute(
            sa.update(Deposit).where(Deposit.id == deposit.id, Deposit.status.in_(UNPAID))
            .values(status=PAID_STATUS, paid_at=now, updated_at=now)
        ).rowcount == 1
        if not won:
            return f"paid ignored: deposit is {deposit.status}"
        ledger.deposit_credit(deposit.customer_id, money.Money(deposit.amount, deposit.currency),
                              money.Money(deposit.fee, deposit.currency),
                              key=f"deposit:{deposit.id}", deposit_id=deposit.id)
        log.info("deposit %s: %s %s credited to customer %s", deposit.ref, deposit.amount,
                 deposit.currency, deposit.customer_id)
        return "credited"
    if update.status in (FAILED, EXPIRED):
        to = FAILED_STATUS if update.status == FAILED else EXPIRED_STATUS
        moved = db.session.execute(
            sa.update(Deposit).where(Deposit.id == deposit.id,
                                     Deposit.status == AWAITING_PAYMENT)
            .values(status=to, updated_at=utcnow())).rowcount == 1
        return to if moved else f"{update.status} ignored: deposit is {deposit.status}"
    return f"{update.status}: no change"


def ask_gateway(deposit: Deposit, min_interval: float) -> None:
    """Ask the gateway about an unpaid deposit (its callback may be lost), at most once per
    `min_interval` seconds: the throttle is a conditional update of gateway_checked_at, so two
    pages open at once ask once."""
    if deposit.status not in UNPAID:
        return
    now = utcnow()
    since = now - dt.timedelta(seconds=min_interval)
    with write_unit():
        claimed = db.session.execute(
            sa.update(Deposit).where(Deposit.id == deposit.id, sa.or_(
                Deposit.gateway_checked_at.is_(None), Deposit.gateway_checked_at <= since))
            .values(gateway_checked_at=now)).rowcount == 1
    if not claimed:
        return
    try:
        update = registry.gateway(deposit.gateway).query(deposit.ref, deposit.gateway_ref)
    except PaymentError as exc:
        log.warning("deposit %s: status query to %s failed: %s", deposit.ref, deposit.gateway,
                    exc)
        return
    if update is not None:
        with write_unit():
            outcome = apply(deposit, update, source="poll")
        log.info("deposit %s: %s status query: %s", deposit.ref, deposit.gateway, outcome)
    db.session.refresh(deposit)


def expire_overdue(deposit: Deposit) -> None:
    """A deposit past its payment window shows as expired (a later payment is still honoured)."""
    if deposit.status == AWAITING_PAYMENT and deposit.payment_expires_at <= utcnow():
        with write_unit():
            db.session.execute(
                sa.update(Deposit).where(Deposit.id == deposit.id,
                                         Deposit.status == AWAITING_PAYMENT,
                                         Deposit.payment_expires_at <= utcnow())
                .values(status=EXPIRED_STATUS, updated_at=utcnow()))
        db.session.refresh(deposit)


def of_customer(customer_id: int, limit: int = 10) -> list[Deposit]:
    return list(db.session.scalars(sa.select(Deposit).where(Deposit.customer_id == customer_id)
                                   .order_by(Deposit.id.desc()).limit(limit)))
