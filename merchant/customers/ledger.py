"""Saldo: the money the shop holds for its customers, kept as a double-entry ledger.

Every movement is one LedgerTransaction whose entries sum to zero: the customer's account on one
side, one of the shop's accounts on the other. A customer's balance is the sum of their rows;
saldo_balances caches it, changed only by the conditional UPDATE written in the same transaction
as the rows, so a debit that would take it below zero changes nothing (rowcount 0), under any
concurrency, on SQLite and PostgreSQL alike. No balance is ever read and then written.

Each transaction's `key` names its one source ("deposit:12", "purchase:345", "refund:345",
"adjustment:<random>"): the unique index makes a second credit from the same source fail the
whole transaction.

Every function here writes inside the caller's transaction (core/transactions.write_unit).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from merchant.core import money
from merchant.core.extensions import db
from merchant.core.models import LedgerEntry, LedgerTransaction, SaldoBalance, utcnow

# The ledger's accounts. CUSTOMER is one account per customer (the entry carries the customer).
CUSTOMER = "customer"          # what the shop owes the customer: their saldo
GATEWAY = "gateway"            # money received through a payment gateway (deposits)
FEES = "fees"                  # the payment fee the customer paid on a deposit
REVENUE = "revenue"            # orders paid with saldo
REFUNDS = "refunds"            # failed orders given back to saldo
ADJUSTMENTS = "adjustments"    # the owner's corrections

DEPOSIT, PURCHASE, REFUND, ADJUSTMENT = "deposit", "purchase", "refund", "adjustment"
KINDS = {DEPOSIT: _l("Deposit"), PURCHASE: _l("Purchase"), REFUND: _l("Refund"),
         ADJUSTMENT: _l("Adjustment")}


class SaldoShort(ValueError):
    """The balance does not cover a debit; nothing was changed. The message is for the customer."""

    def __init__(self, balance: money.Money, needed: money.Money):
        super().__init__(_("Your saldo (%(balance)s) does not cover %(needed)s. Top it up or "
                           "choose another payment method.", balance=balance, needed=needed))
        self.balance, self.needed = balance, needed


@dataclass(frozen=True)
class Line:
    """One movement of a customer's saldo, as their history shows it."""
    at: dt.datetime
    kind: str
    amount: money.Money           # signed: what the balance gained (or lost)
    memo: str
    order_id: int | None
    deposit_id: int | None


def balance(customer_id: int, currency: str) -> money.Money:
    """The customer's saldo (the cache; tests check it against the rows)."""
    amount = db.session.scalar(sa.select(SaldoBalance.balance).where(
        SaldoBalance.customer_id == customer_id, SaldoBalance.currency == currency))
    return money.Money(int(amount or 0), currency)


def balance_from_rows(customer_id: int) -> int:
    """The customer's saldo as the sum of their ledger rows."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
                                 .where(LedgerEntry.account == CUSTOMER,
                                        LedgerEntry.customer_id == customer_id)))


def credit(customer_id: int, amount: money.Money, kind: str, key: str,
           source: str | dict[str, int], **details) -> LedgerTransaction:
    """Add `amount` to the customer's saldo, from the shop's account `source` (or from several:
    {account: signed amount}, summing to minus `amount`). :raise IntegrityError: `key` was
    used before."""
    _positive(amount)
    others = {source: -amount.amount} if isinstance(source, str) else source
    row = _transaction(customer_id, amount, kind, key, others, **details)
    _ensure_balance_row(customer_id, amount.currency)
    changed = db.session.execute(
        sa.update(SaldoBalance)
        .where(SaldoBalance.customer_id == customer_id, SaldoBalance.currency == amount.currency)
        .values(balance=SaldoBalance.balance + amount.amount, updated_at=utcnow())
    ).rowcount
    if changed != 1:
        raise ValueError(f"customer {customer_id} holds saldo in another currency than "
                         f"{amount.currency}")
    return row


def deposit_credit(customer_id: int, amount: money.Money, fee: money.Money, key: str,
                   **details) -> LedgerTransaction:
    """A paid deposit: the gateway received amount + fee; the saldo gets the amount, the fee is
    the shop's."""
    sources = {GATEWAY: -(amount.amount + fee.amount)}
    if fee.amount:
        sources[FEES] = fee.amount
    return credit(customer_id, amount, DEPOSIT, key, sources, **details)


def debit(customer_id: int, amount: money.Money, kind: str, key: str, target: str,
          **details) -> LedgerTransaction:
    """Take `amount` from the customer's saldo into the shop's account `target`.

    :raise SaldoShort: the balance does not cover it (nothing written; the caller's
        transaction should be rolled back with whatever it wrote before).
    """
    _positive(amount)
    # The one statement that decides: it cannot take the balance below zero.
    changed = db.session.execute(
        sa.update(SaldoBalance)
        .where(SaldoBalance.customer_id == customer_id, SaldoBalance.currency == amount.currency,
               SaldoBalance.balance >= amount.amount)
        .values(balance=SaldoBalance.balance - amount.amount, updated_at=utcnow())
    ).rowcount
    if changed != 1:
        raise SaldoShort(balance(customer_id, amount.currency), amount)
    return _transaction(customer_id, money.Money(-amount.amount, amount.currency), kind, key,
                        {target: amount.amount}, **details)


def _transaction(customer_id: int, amount: money.Money, kind: str, key: str,
                 others: dict[str, int], **details) -> LedgerTransaction:
    """The transaction row and its entries: the customer's `amount`, and `others` (the shop's
    accounts), which together sum to zero."""
    if amount.amount + sum(others.values()) != 0:
        raise ValueError(f"ledger transaction {key} does not balance")
    row = LedgerTransaction(key=key, kind=kind, customer_id=customer_id, created_at=utcnow(),
                            **details)
    db.session.add(row)
    db.session.flush()          # a used key fails here, before any money moves
    db.session.add(LedgerEntry(transaction_id=row.id, account=CUSTOMER, customer_id=customer_id,
                               amount=amount.amount, currency=amount.currency))
    for account, value in others.items():
        db.session.add(LedgerEntry(transaction_id=row.id, account=account, amount=value,
                                   currency=amount.currency))
    db.session.flush()
    return row


def _ensure_balance_row(customer_id: int, currency: str) -> None:
    """The customer's balance row, made at their first credit (a concurrent first credit makes
    it once: ON CONFLICT DO NOTHING on both databases)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(SaldoBalance)
                       .values(customer_id=customer_id, balance=0, currency=currency,
                               updated_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["customer_id"]))


def _positive(amount: money.Money) -> None:
    if amount.amount <= 0:
        raise ValueError(f"a ledger movement must be positive, not {amount}")


def history(customer_id: int, limit: int = 50) -> list[Line]:
    """The customer's latest saldo movements, newest first."""
    rows = db.session.execute(
        sa.select(LedgerTransaction, LedgerEntry.amount, LedgerEntry.currency)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.account == CUSTOMER, LedgerEntry.customer_id == customer_id)
        .order_by(LedgerTransaction.id.desc()).limit(limit)
    ).all()
    return [Line(row.created_at, row.kind, money.Money(int(amount), currency), row.memo,
                 row.order_id, row.deposit_id) for row, amount, currency in rows]


def transaction_for(key: str) -> LedgerTransaction | None:
    return db.session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.key == key))


def total_held(currency: str) -> money.Money:
    """What the shop owes all its customers: the sum of every saldo."""
    amount = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(SaldoBalance.balance), 0))
                               .where(SaldoBalance.currency == currency))
    return money.Money(int(amount), currency)


def ledger_sum() -> int:
    """The sum of every row of the ledger: zero, always."""
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))))


def moved_between(kind: str, start: dt.datetime, end: dt.datetime, currency: str) -> int:
    """How much saldo moved by `kind` (deposits in, purchases out ...) between two UTC times,
    as a positive amount in minor units."""
    amount = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.account == CUSTOMER, LedgerEntry.currency == currency,
               LedgerTransaction.kind == kind, LedgerTransaction.created_at >= start,
               LedgerTransaction.created_at < end))
    return abs(int(amount))
