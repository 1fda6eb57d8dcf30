"""Trust a buyer can see: reviews from real buyers (`reviews`), problem reports on an order and
the shop's answers (`claims`), and who sells (`identity`: the registration numbers the footer
and the receipts show).

Above the orders (a review or a claim belongs to a delivered order, and a claim's history is
in the order's timeline) and below the receipts, which send the answer to a claim the way they
send a receipt: `claims.answer` writes an outbox event of kind CLAIM_ANSWERED.
"""
from __future__ import annotations

from merchant.trust.claims import CLAIM_ANSWERED

# The outbox events this package writes besides the orders' status changes.
EVENT_KINDS = frozenset({CLAIM_ANSWERED})
