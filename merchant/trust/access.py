"""Who may write on an order's behalf: whoever holds its page's link (the view token)."""
from __future__ import annotations

import hmac

from merchant.core.models import Order


def holds_link(order: Order, token: str | None) -> bool:
    """The token of the order page's link, compared in constant time."""
    return bool(token) and hmac.compare_digest(token.encode("utf-8", "replace"),
                                               order.view_token.encode())
