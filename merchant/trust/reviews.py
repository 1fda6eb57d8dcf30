"""Reviews from real buyers: one rating (1-5) and a short comment per delivered order.

Only the holder of the order page's link may post (access.holds_link), only once the order is
delivered (a final status: it never changes again, so reading it first is no race), and only
once per order: the unique reviews.order_id refuses a second one, also two sent at once. The
owner may hide a review, with a reason kept in the audit log, and show it again; nobody can
change what the buyer wrote.

Product pages show the average and count of the visible reviews and the latest comments, under
a masked name ("D***i"). Search engines get aggregateRating only from RATING_SHOWN_FROM visible
reviews: a single rating says little, and one from the shop itself would be easy to fake.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _

from merchant import orders
from merchant.core import audit, versioned_cache
from merchant.core.extensions import db
from merchant.core.models import Order, Review, utcnow
from merchant.core.transactions import write_unit
from merchant.core.validation import one_line
from merchant.trust.access import holds_link

COMMENT_MAX = 300
LATEST = 5                  # comments on the product page
RATING_SHOWN_FROM = 5       # visible reviews before the JSON-LD carries aggregateRating
REASON_MAX = 300


class ReviewRefused(ValueError):
    """The review cannot be posted, hidden or shown. The message says why, for its reader."""


@dataclass(frozen=True)
class Shown:
    """A visible review as the product page shows it."""
    rating: int
    comment: str
    author: str                 # masked; "" when the order had no name to mask
    created_at: dt.datetime


@dataclass(frozen=True)
class Summary:
    """A product's visible reviews: how many, their ratings' sum, the latest ones."""
    count: int
    total: int
    latest: tuple[Shown, ...]

    @property
    def average(self) -> Decimal | None:
        """The mean rating to one decimal, rounded half up; None without reviews."""
        if not self.count:
            return None
        return (Decimal(self.total) / self.count).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def average_text(self) -> str:
        """The average as the reader's language writes it ("4.7", "4,7")."""
        return format_decimal(self.average, format="0.0") if self.count else ""

    @property
    def rich(self) -> bool:
        """Enough reviews for search engines' aggregateRating."""
        return self.count >= RATING_SHOWN_FROM


def mask_name(name: str | None) -> str:
    """"Dewi" -> "D***i", "Al" -> "A***l", "X" -> "X***": enough to tell buyers apart, not to
    find them."""
    name = "".join((name or "").split())
    if not name:
        return ""
    return name[0] + "***" + (name[-1] if len(name) > 1 else "")


def of_order(order_id: int) -> Review | None:
    return db.session.scalar(sa.select(Review).where(Review.order_id == order_id))


def post(order: Order, token: str | None, rating, comment: str | None) -> Review:
    """The buyer's review of `order`, stored.

    :raise ReviewRefused: no link's token, not delivered, a rating outside 1-5, a comment too
        long, or the order has its review already.
    """
    if not holds_link(order, token):
        raise ReviewRefused(_("Open this order from the link in your receipt to review it."))
    if order.status != orders.DELIVERED:
        raise ReviewRefused(_("You can review an order once it is delivered."))
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ReviewRefused(_("Choose a rating from 1 to 5 stars."))
    comment = one_line(comment or "")
    if len(comment) > COMMENT_MAX:
        raise ReviewRefused(_("Keep the comment to %(max)s characters (it has %(length)s).",
                              max=COMMENT_MAX, length=len(comment)))
    try:
        with write_unit():
            review_id = db.session.scalar(
                sa.insert(Review).values(order_id=order.id, product_id=order.product_id,
                                         rating=rating, comment=comment,
                                         author=mask_name(order.nickname), created_at=utcnow())
                .returning(Review.id))
    except sa.exc.IntegrityError:
        raise ReviewRefused(_("This order has its review already: one review per order.")) \
            from None
    return db.session.get(Review, review_id)


def hide(review_id: int, actor: audit.Actor, reason: str) -> Review:
    """Hide a review from the product page (it stays stored, unchanged), audited with the
    reason. :raise ReviewRefused: no reason, no such review, or hidden already."""
    reason = one_line(reason or "")[:REASON_MAX]
    if not reason:
        raise ReviewRefused(_("Say why you hide this review: the audit log keeps the reason."))
    review = _review(review_id)
    with write_unit():
        done = db.session.scalar(
            sa.update(Review).where(Review.id == review.id, Review.hidden_at.is_(None))
            .values(hidden_at=utcnow(), hidden_reason=reason).returning(Review.id))
        if done is None:
            raise ReviewRefused(_("This review is hidden already."))
        audit.record(actor, "review.hide", "review", review.id, f"Hid a review: {reason}",
                     before={"hidden": False}, after={"hidden": True, "reason": reason})
    db.session.refresh(review)
    return review


def show_again(review_id: int, actor: audit.Actor) -> Review:
    """Show a hidden review again, audited. :raise ReviewRefused: no such review, or shown."""
    review = _review(review_id)
    with write_unit():
        done = db.session.scalar(
            sa.update(Review).where(Review.id == review.id, Review.hidden_at.is_not(None))
            .values(hidden_at=None, hidden_reason=None).returning(Review.id))
        if done is None:
            raise ReviewRefused(_("This review is shown already."))
        audit.record(actor, "review.show", "review", review.id, "Showed a hidden review again",
                     before={"hidden": True, "reason": review.hidden_reason},
                     after={"hidden": False})
    db.session.refresh(review)
    return review


def _review(review_id: int) -> Review:
    review = db.session.get(Review, review_id)
    if review is None:
        raise ReviewRefused(_("There is no such review."))
    return review


def summary(product_id: int) -> Summary:
    """The product's visible reviews, kept until the catalog version moves (a new or hidden
    review moves it: versioned_cache.CATALOG_TABLES)."""
    return versioned_cache.cached(("reviews", product_id), lambda: _summary(product_id))


def _summary(product_id: int) -> Summary:
    visible = sa.and_(Review.product_id == product_id, Review.hidden_at.is_(None))
    count, total = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Review.rating), 0))
        .where(visible)).one()
    latest = db.session.scalars(
        sa.select(Review).where(visible).order_by(Review.id.desc()).limit(LATEST))
    return Summary(count, int(total), tuple(
        Shown(r.rating, r.comment, r.author, r.created_at) for r in latest))


@dataclass(frozen=True)
class Listed:
    """A review in the panel's list, with its order and product."""
    review: Review
    ref: str
    product: str


def listing(before: int | None = None, limit: int = 50) -> tuple[list[Listed], int | None]:
    """The newest reviews first (keyset pages by id), and the id to continue below."""
    query = (sa.select(Review, Order.ref, Order.product_name)
             .join(Order, Order.id == Review.order_id)
             .order_by(Review.id.desc()).limit(limit + 1))
    if before:
        query = query.where(Review.id < before)
    rows = [Listed(review, ref, product) for review, ref, product in db.session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].review.id if more else None)
