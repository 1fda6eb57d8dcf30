"""merchant: a self-hosted top-up storefront."""
from __future__ import annotations

import os

from flask import Flask

from merchant import config, receipts
from merchant.core import i18n, logs, redaction
from merchant.core.extensions import csrf, db, limiter, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """The app factory: configuration, extensions, blueprints, CLI.

    The instance folder (the operator's config.py and the SQLite file) is `instance/` beside
    the code unless `instance_path` or MERCHANT_INSTANCE_PATH names another.
    """
    instance_path = instance_path or os.environ.get("MERCHANT_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path or os.path.join(ROOT, "instance"),
                template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    config.load(app, overrides)
    redaction.install()
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.debug and not app.testing:
        logs.setup(app.config["LOG_FORMAT"])

    db.init_app(app)
    # render_as_batch: SQLite cannot ALTER most things, so migrations copy-and-swap tables there.
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    receipts.init_app(app)

    from merchant import orders, trust
    from merchant.core import outbox
    # The receipts and other listeners: of order statuses, and of answers to problem reports.
    outbox.load_listeners({*orders.LABELS, *trust.EVENT_KINDS})
    from merchant.core import versioned_cache
    from merchant.web import compression, edge, page_cache, register
    versioned_cache.init_app(app)
    edge.install(app)
    compression.init_app(app)
    page_cache.init_app(app)
    register(app)
    from merchant.cli import register as register_cli
    register_cli(app)
    return app
