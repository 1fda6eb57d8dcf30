"""Blueprints and the template helpers they share."""
from __future__ import annotations

import datetime as dt

import flask_babel
from babel.dates import format_skeleton
from flask import Flask

from merchant import orders
from merchant.core import money, shop_settings
from merchant.supply import availability
from merchant.trust import identity

# style -> (date part, time part, zone abbreviation), for the local_time filter
TIME_STYLES = {
    "time": (None, "short", True),
    "seconds": (None, "medium", False),
    "day": ("day", "short", False),
    "day_seconds": ("day", "medium", False),
    "day_zone": ("day", "short", True),
    "date_time": ("date", "short", False),
    "full": ("date", "short", True),
    "full_seconds": ("date", "medium", True),
}
DAY_SKELETONS = {"day": "MMMd", "date": "yMMMd"}


def register(app: Flask) -> None:
    from merchant.web import (
        account,
        account_api,
        admin,
        api,
        compat_digiflazz,
        cross_origin,
        errors,
        guards,
        health,
        media,
        order_pages,
        pages,
        saldo,
        sandbox,
        seo,
        session_signing,
        shop,
        supplier_webhooks,
        telegram_webhook,
        webhooks,
    )
    guards.install(app)
    session_signing.install(app)
    cross_origin.install(app)
    order_pages.install(app)
    errors.register(app)
    app.register_blueprint(shop.bp)
    app.register_blueprint(order_pages.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(account_api.bp)
    app.register_blueprint(saldo.bp)
    app.register_blueprint(cross_origin.exempt(webhooks.bp))
    app.register_blueprint(cross_origin.exempt(supplier_webhooks.bp))
    app.register_blueprint(cross_origin.exempt(telegram_webhook.bp))
    app.register_blueprint(cross_origin.exempt(api.bp))
    app.register_blueprint(cross_origin.exempt(compat_digiflazz.bp))
    app.register_blueprint(health.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(seo.bp)
    if app.config["SANDBOX_ENABLED"]:
        app.register_blueprint(sandbox.bp)

    @app.template_filter("money")
    def money_filter(amount: int, currency: str) -> str:
        return money.Money(int(amount), currency).format()

    @app.template_filter("local_time")
    def local_time(moment: dt.datetime, style: str = "time") -> str:
        """A naive UTC time from the database, in the shop's time zone and the page's locale.

        Styles (id_ID): time "11.30 WIB", seconds "11.30.00", day "2 Des 11.30", day_seconds
        "2 Des 11.30.00", day_zone "2 Des 11.30 WIB", date_time "2 Des 2026 11.30", full
        "2 Des 2026 11.30 WIB", full_seconds "2 Des 2026 11.30.00 WIB".
        """
        day, clock, zone = TIME_STYLES[style]
        local = shop_settings.in_shop_zone(moment)
        parts = [format_skeleton(DAY_SKELETONS[day], local, tzinfo=local.tzinfo,
                                 locale=flask_babel.get_locale())] if day else []
        parts.append(flask_babel.format_time(moment, clock))
        if zone:
            # The zone's own abbreviation (WIB, WITA, WIT): what customers read in both languages.
            parts.append(local.strftime("%Z"))
        return " ".join(parts)

    @app.context_processor
    def shop_globals():
        settings = shop_settings.current()
        return {"shop": settings, "shop_name": settings.shop_name,
                "status_labels": orders.LABELS, "format_bp": money.format_bp,
                "why_unavailable": why_unavailable,
                "seller_name": identity.seller_name, "registrations": identity.registrations}


def why_unavailable(package, owner: bool = False) -> str:
    """Why a package does not sell now, as the worker's last supply pass found ("" if it
    does): "Cut-off until 00:30 WIB", "Out of stock" ..."""
    return availability.describe(package.unavailable_reason, package.unavailable_until, owner)
