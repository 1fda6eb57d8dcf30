"""Blueprints and the template helpers they share."""
from __future__ import annotations

import datetime as dt

from flask import Flask

from .. import money, orders, shop_settings


def register(app: Flask) -> None:
    from . import (
        admin,
        errors,
        health,
        media,
        order_pages,
        pages,
        sandbox,
        seo,
        shop,
        supplier_webhooks,
        webhooks,
    )
    errors.register(app)
    app.register_blueprint(shop.bp)
    app.register_blueprint(order_pages.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(supplier_webhooks.bp)
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
    def local_time(moment: dt.datetime, fmt: str = "%H:%M %Z") -> str:
        """A naive UTC time from the database, in the shop's time zone (its settings)."""
        zone = shop_settings.current().zone
        return moment.replace(tzinfo=dt.UTC).astimezone(zone).strftime(fmt)

    @app.context_processor
    def shop_globals():
        settings = shop_settings.current()
        return {"shop": settings, "shop_name": settings.shop_name,
                "status_labels": orders.LABELS, "format_bp": money.format_bp}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self' https:",
        )
        return response
