"""Saldo as a way to pay for an order, and the refunds that go back to it.

An order paid with saldo has the payment method SALDO and the gateway "saldo": no gateway is
asked, the checkout debits the balance in the transaction that writes the order as paid. Its
refund, like the refund of a gateway order the owner sends to saldo, credits the balance in the
transaction that moves the order to refunded. Both are keyed by the order, so neither happens
twice.
"""
from __future__ import annotations

from flask_babel import gettext as _

from merchant.core import money
from merchant.core.models import Customer, LedgerTransaction, Order, PaymentMethod
from merchant.customers import ledger

SALDO = "SALDO"          # the payment method's code
GATEWAY = "saldo"        # the order's gateway
REFUND_REF = "saldo"     # an order's refund_ref when its money went back to saldo


def method(currency: str) -> PaymentMethod:
    """Saldo as a payment method (not a row: no fee, no limits but the balance), for quotes."""
    return PaymentMethod(code=SALDO, name=_("Saldo"), kind="saldo", gateway=GATEWAY,
                         fee_flat=0, fee_percent_bp=0, currency=currency, min_amount=0,
                         max_amount=None, active=True)


def is_saldo(order: Order) -> bool:
    return order.gateway == GATEWAY


def balance(customer: Customer, currency: str) -> money.Money:
    return ledger.balance(customer.id, currency)


def pay(order: Order) -> LedgerTransaction:
    """Inside the caller's transaction: take the order's total from its customer's saldo.

    :raise ledger.SaldoShort: the balance does not cover it (the caller rolls back).
    """
    return ledger.debit(order.customer_id, money.Money(order.total, order.currency),
                        ledger.PURCHASE, key=f"purchase:{order.id}", target=ledger.REVENUE,
                        order_id=order.id)


def refund(order: Order, actor: str = "") -> LedgerTransaction:
    """Inside the caller's transaction (the one that moves the order to refunded): give the
    order's total back to its customer's saldo."""
    return ledger.credit(order.customer_id, money.Money(order.total, order.currency),
                         ledger.REFUND, key=f"refund:{order.id}", source=ledger.REFUNDS,
                         order_id=order.id, actor=actor)
