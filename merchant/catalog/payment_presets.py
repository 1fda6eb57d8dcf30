"""The payment methods a new shop starts with, per gateway.

Each gateway's set holds only methods its adapter maps to a vendor channel (`Gateway.channels`),
with the vendor's usual fee and limits in rupiah as of 2026: a starting point the owner edits
in the panel. The sandbox set is also the demo's.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from merchant.core import audit, shop_settings
from merchant.core.extensions import db
from merchant.core.models import PaymentMethod


@dataclass(frozen=True)
class Preset:
    """One payment method as a new shop gets it. Money in IDR (exponent 0)."""
    code: str
    name: str                 # a brand, or (lazy) words read in the panel's language
    kind: str                 # qr, ewallet, va, card
    icon: str                 # a path under static/
    fee_flat: int
    fee_percent_bp: int       # basis points: 70 = 0.7 %
    min_amount: int
    max_amount: int | None


def _p(code, name, kind, icon, flat, bp, low, high) -> Preset:
    return Preset(code, name, kind, f"icons/pay/{icon}.svg", flat, bp, low, high)


QRIS = _p("QRIS", "QRIS", "qr", "qris", 0, 70, 1_000, 10_000_000)
GOPAY = _p("GOPAY", "GoPay", "ewallet", "gopay", 0, 200, 1_000, 10_000_000)
OVO = _p("OVO", "OVO", "ewallet", "ovo", 500, 150, 10_000, 10_000_000)
DANA = _p("DANA", "DANA", "ewallet", "dana", 0, 150, 1_000, 10_000_000)
SHOPEEPAY = _p("SHOPEEPAY", "ShopeePay", "ewallet", "shopeepay", 0, 200, 1_000, 10_000_000)
BCA_VA = _p("BCA_VA", _l("BCA Virtual Account"), "va", "bca-va", 4_000, 0, 10_000, 50_000_000)
BNI_VA = _p("BNI_VA", _l("BNI Virtual Account"), "va", "bni-va", 4_000, 0, 10_000, 50_000_000)
BRI_VA = _p("BRI_VA", _l("BRI Virtual Account"), "va", "bri-va", 4_000, 0, 10_000, 50_000_000)
MANDIRI_VA = _p("MANDIRI_VA", _l("Mandiri Virtual Account"), "va", "mandiri-va", 4_000, 0, 10_000,
                50_000_000)
PERMATA_VA = _p("PERMATA_VA", _l("Permata Virtual Account"), "va", "permata-va", 4_000, 0, 10_000,
                50_000_000)
CARD = _p("CARD", _l("Credit / debit card"), "card", "card", 2_000, 290, 10_000, 50_000_000)

PRESETS: dict[str, list[Preset]] = {
    # The sandbox takes every code: this is the demo's set.
    "sandbox": [QRIS, GOPAY, OVO, DANA, SHOPEEPAY, BCA_VA, CARD],
    # Xendit Invoices have no GoPay channel.
    "xendit": [QRIS, OVO, DANA, SHOPEEPAY, BCA_VA, BNI_VA, BRI_VA, MANDIRI_VA, CARD],
    # Midtrans has no Mandiri VA under that name (its Mandiri bill is "echannel").
    "midtrans": [QRIS, GOPAY, SHOPEEPAY, BCA_VA, BNI_VA, BRI_VA, PERMATA_VA, CARD],
    # Stripe's Checkout is the card method; wallets come from the Stripe dashboard.
    "stripe": [CARD],
    # Tripay has no GoPay or card channel (GoPay users pay by QRIS); its e-wallets cost more.
    "tripay": [
        _p("QRIS", "QRIS", "qr", "qris", 750, 70, 1_000, 5_000_000),
        _p("OVO", "OVO", "ewallet", "ovo", 0, 300, 1_000, 10_000_000),
        _p("DANA", "DANA", "ewallet", "dana", 0, 300, 1_000, 10_000_000),
        _p("SHOPEEPAY", "ShopeePay", "ewallet", "shopeepay", 0, 300, 1_000, 10_000_000),
        _p("BCA_VA", _l("BCA Virtual Account"), "va", "bca-va", 5_500, 0, 10_000, 50_000_000),
        _p("BNI_VA", _l("BNI Virtual Account"), "va", "bni-va", 4_250, 0, 10_000, 50_000_000),
        _p("BRI_VA", _l("BRI Virtual Account"), "va", "bri-va", 4_250, 0, 10_000, 50_000_000),
        _p("MANDIRI_VA", _l("Mandiri Virtual Account"), "va", "mandiri-va", 4_250, 0, 10_000,
           50_000_000),
    ],
}

def build(preset: Preset, currency: str, sort_order: int,
          gateway: str | None = None) -> PaymentMethod:
    """A PaymentMethod from a preset. Outside IDR the rupiah amounts mean nothing, so only the
    percentage is kept: the owner sets the flat fee and the limits."""
    rupiah = currency == "IDR"
    # The name customers read, stored in the shop's default language.
    with force_locale(shop_settings.current().default_locale):
        name = str(preset.name)
    return PaymentMethod(
        code=preset.code, name=name, kind=preset.kind, gateway=gateway, icon=preset.icon,
        fee_flat=preset.fee_flat if rupiah else 0, fee_percent_bp=preset.fee_percent_bp,
        currency=currency, min_amount=preset.min_amount if rupiah else 0,
        max_amount=preset.max_amount if rupiah else None, sort_order=sort_order, active=True,
    )


def missing(gateway: str) -> list[Preset]:
    """The gateway's presets whose code no method of this shop has yet."""
    codes = set(db.session.scalars(sa.select(PaymentMethod.code)))
    return [preset for preset in PRESETS.get(gateway, []) if preset.code not in codes]


def install_defaults(gateway: str | None = None, actor: audit.Actor = audit.CLI) -> int:
    """Give a shop with no payment method at all its gateway's set (the configured GATEWAY
    when `gateway` is None), in the caller's transaction, audited. Returns how many were added.

    Methods for the configured gateway are stored without a gateway, so they follow
    MERCHANT_GATEWAY; a set for another gateway names it.
    """
    configured = current_app.config["GATEWAY"]
    gateway = gateway or configured
    if db.session.scalar(sa.select(PaymentMethod.id).limit(1)) is not None:
        return 0
    currency = shop_settings.current().currency
    served_by = None if gateway == configured else gateway
    added = [build(preset, currency, position, served_by)
             for position, preset in enumerate(PRESETS.get(gateway, []))]
    db.session.add_all(added)
    if added:
        audit.record(actor, "method.install_defaults", "gateway", gateway,
                     f"Added the {gateway} payment methods: "
                     + ", ".join(m.code for m in added),
                     after={"methods": [m.code for m in added], "currency": currency})
    db.session.flush()
    return len(added)
