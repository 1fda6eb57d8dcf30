"""Suppliers' safe windows: how long a ref_id may be re-sent (the status check of suppliers
whose check is a re-placement) without the risk of buying again."""
from __future__ import annotations

import datetime as dt

from merchant.vendors.suppliers import supplier_class


def expired(supplier: str, sent_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a ref_id first sent to `supplier` at `sent_at` is past its safe window."""
    try:
        days = supplier_class(supplier).safe_window_days
    except KeyError:
        return False
    return days is not None and sent_at is not None and now - sent_at > dt.timedelta(days=days)
