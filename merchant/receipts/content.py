"""What a receipt says: the order's facts and the next step, shared by email and WhatsApp."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from merchant import orders
from merchant.core import i18n, money, shop_settings
from merchant.core.models import Order
from merchant.customers import saldo
from merchant.trust import claims

# The order events that send a receipt, and the shop's answer to a problem report (sent the
# same way, to the same email and WhatsApp number).
KINDS = frozenset({orders.DELIVERED, orders.FULFILLMENT_FAILED, orders.REFUNDED,
                   claims.CLAIM_ANSWERED})


@dataclass(frozen=True)
class Texts:
    headline: str
    next_step: str


@contextmanager
def in_language(order: Order) -> Iterator[None]:
    """Texts, money and dates in the language the order was placed in."""
    settings = shop_settings.current()
    with force_locale(i18n.regional(order.locale or settings.default_locale, settings.timezone)):
        yield


def order_link(order: Order) -> str:
    """The customer's order page, opened by its view token (the receipt is the key)."""
    base = str(current_app.config["PUBLIC_URL"]).rstrip("/")
    return f"{base}/o/{order.ref}?t={order.view_token}"


def texts(order: Order, kind: str) -> Texts:
    """The receipt's headline and what happens next, in the current locale."""
    who = order.nickname or ", ".join(order.account.values())
    if kind == claims.CLAIM_ANSWERED:
        return Texts(_("We answered your report about order %(ref)s", ref=order.ref),
                     _("You told us about a problem with %(package)s. Our answer is below, and "
                       "on your order page.", package=order.package_name))
    if kind == orders.DELIVERED:
        return Texts(_("Your top-up is delivered"),
                     _("%(package)s went to %(who)s. It can take a few minutes to show in the "
                       "game or app.", package=order.package_name, who=who))
    if kind == orders.REFUNDED:
        total = money.Money(order.total, order.currency).format()
        if order.refund_ref == saldo.REFUND_REF:
            return Texts(_("Your order was refunded to your saldo"),
                         _("We returned %(total)s to your saldo. You can spend it right away.",
                           total=total))
        return Texts(_("Your order was refunded"),
                     _("We refunded %(total)s to your %(method)s. Depending on your bank or "
                       "e-wallet, it can take a few working days to show.", total=total,
                       method=order.payment_method_name))
    return Texts(_("Your top-up is delayed"),
                 _("Your payment is safe, but we could not deliver the top-up yet. We will "
                   "deliver it or refund you, and tell you when we do. There is nothing you "
                   "need to do now."))


def superseded(order: Order, kind: str) -> bool:
    """A "delayed" receipt for a failure whose money went back to saldo in the same moment:
    the refund's receipt says all of it, so this one is not sent."""
    return (kind == orders.FULFILLMENT_FAILED and order.status == orders.REFUNDED
            and order.refund_ref == saldo.REFUND_REF)


def render(template: str, order: Order, kind: str) -> str:
    """A receipt template (under templates/emails/) for `order` after the event `kind`, in the
    current locale (see in_language)."""
    answered = claims.latest_answer(order.id) if kind == claims.CLAIM_ANSWERED else None
    return render_template(f"emails/{template}", order=order, kind=kind,
                           texts=texts(order, kind), link=order_link(order), lang=order.locale,
                           shop=shop_settings.current(), account=order.account_lines(),
                           answered=answered)
