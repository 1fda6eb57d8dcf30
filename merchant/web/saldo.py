"""A signed-in customer's saldo: the balance, its history, and deposits through the gateways."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from merchant.catalog import cache as catalog_cache
from merchant.core import shop_settings
from merchant.customers import deposits, ledger
from merchant.web.customer_session import current_customer
from merchant.web.htmx import vary

bp = Blueprint("saldo", __name__, url_prefix="/saldo")


def _signed_out():
    return render_template("saldo/signed_out.html"), 401


def _page(customer, values=None, errors=None, status=200):
    currency = shop_settings.current().currency
    low, high = deposits.limits(currency)
    methods = catalog_cache.active_methods()
    return vary(render_template(
        "saldo/index.html", customer=customer, balance=ledger.balance(customer.id, currency),
        lines=ledger.history(customer.id), deposits=deposits.of_customer(customer.id),
        methods=methods, values=values or {}, errors=errors or {}, low=low, high=high,
        idempotency_key=secrets.token_hex(16), kinds=ledger.KINDS,
        deposit_labels=deposits.LABELS), status)


@bp.get("")
def index():
    """The balance, the deposit form and the saldo's history."""
    customer = current_customer()
    if customer is None:
        return _signed_out()
    return _page(customer)


@bp.post("/deposit")
def deposit_new():
    """Open a deposit and send the customer to the gateway's payment page."""
    customer = current_customer()
    if customer is None:
        return _signed_out()
    owner = session.setdefault("key_owner", secrets.token_hex(16))
    try:
        deposit = deposits.open_deposit(customer, request.form, key_owner=owner)
    except deposits.DepositError as exc:
        return _page(customer, request.form, exc.errors, status=422)
    if deposit.checkout_url and deposit.status == deposits.AWAITING_PAYMENT:
        return redirect(deposit.checkout_url, code=303)
    return redirect(url_for("saldo.deposit", ref=deposit.ref), code=303)


@bp.get("/d/<ref>")
def deposit(ref):
    """One deposit: how to pay it, then its receipt (amount, fee, method, time)."""
    customer = current_customer()
    if customer is None:
        return _signed_out()
    found = deposits.by_ref(ref.upper(), customer.id)
    if found is None:
        abort(404)
    deposits.ask_gateway(found, min_interval=10)
    deposits.expire_overdue(found)
    return vary(render_template("saldo/deposit.html", deposit=found,
                                deposit_labels=deposits.LABELS,
                                balance=ledger.balance(customer.id, found.currency)))


@bp.app_template_global()
def saldo_of(customer):
    """A customer's saldo, for the account page and the panel's customer page."""
    return ledger.balance(customer.id, shop_settings.current().currency)
