"""The dashboard's saldo lines: what the shop owes its customers, and the saldo that came in
(deposits) and went out (purchases) on each of the shop's days."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from merchant.core import money, shop_settings
from merchant.customers import ledger


@dataclass(frozen=True)
class SaldoDay:
    date: dt.date                   # the shop's day
    deposits: money.Money
    spent: money.Money
    refunded: money.Money


@dataclass(frozen=True)
class SaldoFigures:
    held: money.Money               # every customer's saldo together
    days: list[SaldoDay]            # newest first


def figures(days: int, now: dt.datetime | None = None) -> SaldoFigures:
    """Saldo held now, and deposits, spend and refunds for each of the last `days` days."""
    currency = shop_settings.current().currency
    zone, today = shop_settings.zone(), shop_settings.local_today(now)
    rows = []
    for back in range(days):
        day = today - dt.timedelta(days=back)
        start = shop_settings.local_midnight(day, zone)
        end = shop_settings.local_midnight(day + dt.timedelta(days=1), zone)
        rows.append(SaldoDay(day, *(
            money.Money(ledger.moved_between(kind, start, end, currency), currency)
            for kind in (ledger.DEPOSIT, ledger.PURCHASE, ledger.REFUND))))
    return SaldoFigures(ledger.total_held(currency), rows)
