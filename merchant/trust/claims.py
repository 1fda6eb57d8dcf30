"""Problem reports ("Ada masalah dengan pesanan?"): a customer says what went wrong with a
delivered order, the shop answers.

The customer reports from the order page (holding its link's token), within the window the
owner sets (shop_settings claim_window_days, 7 days after delivery by default). One report is
open per order at a time: Claim.open_order_id is unique while open, so a second one (or two
sent at once) is refused by the database. An open report is in the panel's Needs attention;
the owner or staff answer it from the order's page, which closes it. The answer is shown on the
order page and sent by the receipt channels: the answer writes an outbox event
(CLAIM_ANSWERED) that the receipts' listeners send like a receipt, never in the request.
Every step is a line of the order's history (orders/texts.py), in the reader's language.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from merchant import orders
from merchant.core import audit, outbox, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Claim, Order, utcnow
from merchant.core.transactions import write_unit
from merchant.orders.texts import said
from merchant.trust.access import holds_link

NOT_RECEIVED = "not_received"
WRONG_ACCOUNT = "wrong_account"
OTHER = "other"
# kind -> what the customer picks, in the page's language
KINDS = {
    NOT_RECEIVED: _l("I did not receive it"),
    WRONG_ACCOUNT: _l("It went to the wrong account"),
    OTHER: _l("Something else"),
}
CLAIM_ANSWERED = "claim_answered"       # the outbox event of an answer
MESSAGE_MAX = 1000
ANSWER_MAX = 2000


class ClaimRefused(ValueError):
    """The report or the answer cannot be taken. The message says why, for its reader."""


def deadline(order: Order) -> dt.datetime | None:
    """Until when a problem with `order` can be reported (naive UTC); None: not delivered."""
    if order.status != orders.DELIVERED or order.delivered_at is None:
        return None
    return order.delivered_at + dt.timedelta(days=shop_settings.current().claim_window_days)


def may_report(order: Order, now: dt.datetime | None = None) -> bool:
    """Delivered, within the window, and no report of it open."""
    until = deadline(order)
    return until is not None and (now or utcnow()) <= until and open_claim(order.id) is None


def open_claim(order_id: int) -> Claim | None:
    return db.session.scalar(sa.select(Claim).where(Claim.open_order_id == order_id))


def of_order(order_id: int) -> list[Claim]:
    """The order's reports, oldest first."""
    return list(db.session.scalars(
        sa.select(Claim).where(Claim.order_id == order_id).order_by(Claim.id)))


def report(order: Order, token: str | None, kind: str | None, message: str | None) -> Claim:
    """Open the customer's report about `order`, with a line in its history.

    :raise ClaimRefused: no link's token, not delivered, past the window, no kind or message,
        or a report of it is open already.
    """
    if not holds_link(order, token):
        raise ClaimRefused(_("Open this order from the link in your receipt to report a "
                             "problem with it."))
    until = deadline(order)
    if until is None:
        raise ClaimRefused(_("A problem can be reported once the order is delivered. Until "
                             "then this page shows where it stands."))
    if utcnow() > until:
        days = shop_settings.current().claim_window_days
        raise ClaimRefused(_("Problems can be reported up to %(days)s days after delivery, and "
                             "this order was delivered longer ago. Contact us with its "
                             "reference instead.", days=days))
    if kind not in KINDS:
        raise ClaimRefused(_("Choose what went wrong."))
    message = (message or "").replace("\r\n", "\n").strip()
    if not message:
        raise ClaimRefused(_("Tell us what happened, so we can check it."))
    if len(message) > MESSAGE_MAX:
        raise ClaimRefused(_("Keep the message to %(max)s characters (it has %(length)s).",
                             max=MESSAGE_MAX, length=len(message)))
    try:
        with write_unit():
            claim_id = db.session.scalar(
                sa.insert(Claim).values(order_id=order.id, open_order_id=order.id, kind=kind,
                                        message=message, created_at=utcnow())
                .returning(Claim.id))
            orders.record(order.id, "customer", said(f"claim_{kind}", message=message))
    except sa.exc.IntegrityError:
        raise ClaimRefused(_("You have reported a problem with this order already: we answer "
                             "it on this page.")) from None
    return db.session.get(Claim, claim_id)


def answer(claim_id: int, actor: audit.Actor, text: str | None) -> Claim:
    """The shop's answer to an open report: stored, in the order's history and the audit log,
    and sent to the customer by the receipts' listeners (after commit). Closes the report.

    :raise ClaimRefused: no answer written, too long, or the report is answered already.
    """
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ClaimRefused(_("Write the answer first: the customer reads it."))
    if len(text) > ANSWER_MAX:
        raise ClaimRefused(_("Keep the answer to %(max)s characters (it has %(length)s).",
                             max=ANSWER_MAX, length=len(text)))
    with write_unit():
        order_id = db.session.scalar(
            sa.update(Claim).where(Claim.id == claim_id, Claim.open_order_id.is_not(None))
            .values(open_order_id=None, answer=text, answered_by=actor.name,
                    answered_at=utcnow())
            .returning(Claim.order_id))
        if order_id is None:
            raise ClaimRefused(_("This report is answered already."))
        orders.record(order_id, "admin", said("claim_answered", admin=actor.name, answer=text))
        audit.record(actor, "claim.answer", "claim", claim_id,
                     "Answered the customer's problem report", after={"answer": text})
        outbox.add(order_id, CLAIM_ANSWERED)
    return db.session.get(Claim, claim_id)


def latest_answer(order_id: int) -> Claim | None:
    """The order's most recently answered report (what an answer's message says)."""
    return db.session.scalar(
        sa.select(Claim).where(Claim.order_id == order_id, Claim.answered_at.is_not(None))
        .order_by(Claim.answered_at.desc(), Claim.id.desc()).limit(1))


def waiting(limit: int) -> tuple[list[tuple[Claim, Order]], int]:
    """Open reports, oldest first, with their orders (at most `limit`), and how many more."""
    where = Claim.open_order_id.is_not(None)
    rows = [tuple(row) for row in db.session.execute(
        sa.select(Claim, Order).join(Order, Order.id == Claim.order_id).where(where)
        .order_by(Claim.created_at, Claim.id).limit(limit))]
    more = 0
    if len(rows) == limit:
        more = db.session.scalar(sa.select(sa.func.count()).select_from(Claim)
                                 .where(where)) - limit
    return rows, more
