"""The order history's own lines, stored as a code with parameters and shown in the reader's
language.

`said("placed", package=..., method=...)` is what callers pass to orders.record/move as the
detail: the event keeps the code and parameters, and its `detail` column the English line (for
logs, exports and search). Events written before codes, and lines quoting a vendor, are plain
text and are shown as written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext

from merchant.core.i18n import N_

MESSAGES = {
    "placed": N_("Order placed: %(package)s via %(method)s"),
    "placed_promo": N_("Order placed: %(package)s via %(method)s with promo code %(promo)s "
                       "(-%(discount)s)"),
    "flash_price": N_("Flash sale %(sale)s: %(price)s instead of %(normal)s"),
    "payment_opened": N_("Payment opened at %(gateway)s: %(payment)s"),
    "claimed": N_("Claimed for delivery"),
    "expired": N_("Payment window closed without payment"),
    "expired_unanswered": N_("Payment window closed; %(gateway)s did not answer the status "
                             "query, so a payment made in time will still be honoured when it "
                             "reports it"),
    "flagged": N_("Flagged for the operator: %(reason)s"),
    "retry_again": N_("Retry with %(supplier)s again (ref_id %(ref_id)s)"),
    "retry_fallback": N_("Retry with the fallback supplier %(supplier)s (ref_id %(ref_id)s)"),
    "delivered_by_hand": N_("Delivered by hand: %(proof)s"),
    "refunded_by_hand": N_("Refunded by hand: %(note)s"),
    "paid_saldo": N_("Paid with saldo: %(amount)s"),
    "refunded_to_saldo": N_("Refunded to the customer's saldo: %(amount)s"),
    "note": N_("Note from %(admin)s: %(text)s"),
    "flag_cleared": N_("Flag cleared (%(flag)s): %(note)s"),
    # The customer's problem reports (merchant/trust/claims.py), one line per kind.
    "claim_not_received": N_("The customer reports the top-up did not arrive: %(message)s"),
    "claim_wrong_account": N_("The customer reports the top-up went to the wrong account: "
                              "%(message)s"),
    "claim_other": N_("The customer reports a problem: %(message)s"),
    "claim_answered": N_("%(admin)s answered the customer's report: %(answer)s"),
}


# The lines of a problem report and its answer (the timeline titles them apart from notes).
CLAIM_LINES = frozenset({"claim_not_received", "claim_wrong_account", "claim_other",
                         "claim_answered"})


@dataclass(frozen=True)
class Said:
    """One history line: a code of MESSAGES and its parameters (plain strings)."""
    code: str
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return MESSAGES[self.code] % self.params


def said(line: str, **params) -> Said:
    """The history line `line` (a key of MESSAGES) with its parameters, kept as text."""
    if line not in MESSAGES:
        raise KeyError(f"no order history line is called {line!r}")
    return Said(line, {name: str(value) for name, value in params.items()})


def text(event) -> str:
    """The event's line in the reader's language; a line stored as text, as written."""
    if event.code in MESSAGES:
        return gettext(MESSAGES[event.code], **(event.params or {}))
    return event.detail
