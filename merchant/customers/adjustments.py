"""The owner's corrections of a customer's saldo: an amount added or taken with a reason,
written to the ledger against the adjustments account and to the audit log, together."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from merchant.core import audit, money
from merchant.core.extensions import db
from merchant.core.models import Customer
from merchant.core.transactions import write_unit
from merchant.customers import ledger


class AdjustmentRefused(ValueError):
    """The adjustment was not made; the message says why, for the owner."""


def adjust(customer_id: int, amount: money.Money, add: bool, reason: str, key: str,
           actor: audit.Actor) -> money.Money:
    """Add `amount` to (or take it from) the customer's saldo; returns the new balance.

    `key` comes with the form: the same form sent twice makes one adjustment.
    :raise AdjustmentRefused: no reason, not a positive amount, more taken than held, or sent
        twice.
    """
    reason = (reason or "").strip()
    if not reason:
        raise AdjustmentRefused(_("Say why you change this saldo (the reason is kept in the "
                                  "audit log)."))
    if amount.amount <= 0:
        raise AdjustmentRefused(_("Enter an amount above zero."))
    if db.session.get(Customer, customer_id) is None:
        raise AdjustmentRefused(_("There is no such customer."))
    details = {"memo": reason[:500], "actor": actor.name}
    try:
        with write_unit():
            if add:
                ledger.credit(customer_id, amount, ledger.ADJUSTMENT, f"adjustment:{key}",
                              source=ledger.ADJUSTMENTS, **details)
            else:
                ledger.debit(customer_id, amount, ledger.ADJUSTMENT, f"adjustment:{key}",
                             target=ledger.ADJUSTMENTS, **details)
            after = ledger.balance(customer_id, amount.currency)
            before = after - amount if add else after + amount
            audit.record(actor, "saldo.adjust", "customer", customer_id,
                         f"{'Added' if add else 'Took'} {amount} {'to' if add else 'from'} "
                         f"the saldo: {reason}",
                         before={"saldo": before.amount}, after={"saldo": after.amount})
    except ledger.SaldoShort as exc:
        raise AdjustmentRefused(_("The saldo holds only %(balance)s: you cannot take "
                                  "%(amount)s from it.", balance=exc.balance,
                                  amount=amount)) from exc
    except IntegrityError as exc:
        raise AdjustmentRefused(_("This adjustment was already recorded.")) from exc
    return after
