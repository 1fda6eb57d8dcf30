"""Owner alerts: the shop tells its owner, on Telegram, WhatsApp or email (chosen per kind of
alert), when something needs them, instead of waiting to be looked at.

The rest of the shop calls two functions:

    from merchant.alerts import raise_alert, clear_alert
    raise_alert("deposit_low", "digiflazz", supplier="digiflazz", balance=..., pending_cost=...)
    clear_alert("deposit_low", "digiflazz", balance=...)

raise_alert opens an episode unless one is open for that kind and key, and queues its messages;
clear_alert closes it and queues a short "recovered" message where the kind has one. Kinds and
texts: `kinds`; episodes and their deduplication: `episodes`; the queue the worker sends
from: `queue` (per channel: `senders`); the owner's choices: `preferences`; the Telegram chat
link: `telegram_link`; the daily summary's claim: `daily`; the failure spike: `spikes`; the
listener for deliveries that failed for good: `listeners`.
"""
from __future__ import annotations

from merchant.alerts.episodes import clear_alert, raise_alert
from merchant.alerts.kinds import (
    DAILY_SUMMARY,
    DELIVERY_FAILED,
    DEPOSIT_LOW,
    PACKAGE_UNAVAILABLE,
    SUPPLIER_FAILURES,
    WORKER_STOPPED,
)

__all__ = ["DAILY_SUMMARY", "DELIVERY_FAILED", "DEPOSIT_LOW", "PACKAGE_UNAVAILABLE",
           "SUPPLIER_FAILURES", "WORKER_STOPPED", "clear_alert", "raise_alert"]
