"""merchant: a self-hosted top-up storefront."""
from __future__ import annotations

import os

from flask import Flask

from . import config, i18n, logs, receipts, redaction
from .extensions import csrf, db, limiter, login_manager, migrate

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

    from . import orders, outbox
    outbox.load_listeners(orders.LABELS)     # the receipts and other order-event listeners
    from . import catalog_cache, static_files
    from .web import compression, page_cache, register, status_poll
    catalog_cache.init_app(app)
    static_files.init_app(app)
    status_poll.init_app(app)
    compression.init_app(app)
    page_cache.init_app(app)
    register(app)
    from .cli import register as register_cli
    register_cli(app)
    return app
