"""Values kept in process until the catalog or the shop's settings change.

Products, their active packages, the payment methods and the shop's settings are the same for
every customer and change only when the operator edits them, so the shop reads them from
memory. Every change to those tables, by whatever path (the panel, a price import, the CLI, a
bulk UPDATE), bumps the one row of catalog_version in the same transaction: the session events
below see the ORM objects flushed and the INSERT/UPDATE/DELETE statements run through the
session, whatever module wrote them. A process reads that number at most every
CATALOG_CHECK_SECONDS (0.5 s), and at once after it committed an edit itself; what was kept
at another number is dropped. So an edit committed by any process is seen by every process
within half a second, for one primary-key read per half second.

Kept rows are read-only copies (Snapshot), never ORM objects: they outlive the session that
read them and are shared by the server's threads.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from merchant.core import clock
from merchant.core.extensions import db
from merchant.core.models import (
    CatalogVersion,
    LevelPrice,
    Package,
    PaymentMethod,
    PriceLevel,
    Product,
)

# Price levels too: a guest's product page shows what each level would pay.
CATALOG_TABLES = frozenset({
    Product.__tablename__, Package.__tablename__, PaymentMethod.__tablename__, "shop_settings",
    PriceLevel.__tablename__, LevelPrice.__tablename__,
    # The pages show a flash sale's price and its stock left: a unit taken or given back is a
    # catalog change too (at most twice per unit of stock, catalog/flash_sales.py).
    "flash_sales", "flash_sale_items",
    # Reviews are shown on the product pages: a new or hidden review bumps the version like an
    # edit does (at most one per delivered order, far rarer than page views).
    "reviews",
})
CHANGED = "catalog_changed"     # Session.info key: this transaction wrote a catalog table
BUMPED = "catalog_bumped"       # ... and its commit raises the version
_PINNED = "catalog_version"     # flask.g: the version this request was told first


class Snapshot:
    """A read-only copy of one row: its columns as attributes, plus the related rows given."""

    def __init__(self, row, **related):
        values = {attr.key: getattr(row, attr.key)
                  for attr in sa.inspect(row).mapper.column_attrs}
        values.update(related)
        object.__setattr__(self, "__dict__", values)

    def __setattr__(self, name, value):
        raise AttributeError(f"a cached catalog row is read-only ({name})")

    def __repr__(self):
        return f"<Snapshot {self.__dict__.get('slug') or self.__dict__.get('code') or self.id}>"


class _Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.version: int | None = None
        self.checked_until = 0.0      # clock.monotonic() until which `version` is trusted
        self.entries: dict[Any, Any] = {}


VERSION = sa.select(CatalogVersion.version).where(CatalogVersion.id == 1)


def init_app(app) -> None:
    app.config.setdefault("CATALOG_CHECK_SECONDS", 0.5)
    app.extensions["versioned_cache"] = _Store()


def cached(key, load: Callable[[], Any]):
    """The value under `key` for the catalog as it is now, from `load()` when not kept."""
    return cached_at(key, load)[0]


def cached_at(key, load: Callable[[], Any]) -> tuple[Any, int]:
    """cached(key, load) and the catalog version it belongs to."""
    store: _Store = current_app.extensions["versioned_cache"]
    version = current_version(current_app)
    with store.lock:
        entries = store.entries if store.version == version else None
    if entries is None:
        return load(), version      # this request read an older number than another did
    try:
        return entries[key], version
    except KeyError:
        value = entries[key] = load()
        return value, version


def current_version(app) -> int:
    """The catalog's version as this process knows it (read at most every
    CATALOG_CHECK_SECONDS, and at once after a commit that changed the catalog here); what
    was kept for an older version is dropped. Needs an app context only when a read is due.

    A request keeps the first version it was told (until it commits a catalog change itself):
    a page rendered from rows the view read before the version moved on must be kept, and
    tagged, under the version those rows belong to. Otherwise an edit landing between the
    view's read and the page's render would keep the old rows' page under the new version,
    and browsers would get 304s for it until the next edit."""
    pinned = g.get(_PINNED) if has_request_context() else None
    if pinned is not None:
        return pinned
    version = _known_version(app)
    if has_request_context():
        setattr(g, _PINNED, version)
    return version


def _known_version(app) -> int:
    store: _Store = app.extensions["versioned_cache"]
    if store.version is not None and clock.monotonic() < store.checked_until:
        return store.version
    if has_app_context():
        version = _read_version(app, store)
    else:
        with app.app_context():
            version = _read_version(app, store)
    with store.lock:
        if store.version is None or version > store.version:
            store.version, store.entries = version, {}
    return version


def _read_version(app, store: _Store) -> int:
    now = clock.monotonic()
    session = db.session()
    if session.in_transaction():
        # Through the connection this request already holds: a second one from the pool
        # could wait forever on a busy server, every thread holding one and wanting another.
        version = session.scalar(VERSION) or 0
    else:
        with db.engine.connect() as connection:
            version = connection.execute(VERSION).scalar() or 0
    store.checked_until = now + app.config["CATALOG_CHECK_SECONDS"]
    return version


# What marks a transaction as a catalog change, and bumps the version when it commits.

@event.listens_for(Session, "before_flush")
def _flushing(session, _context, _instances):
    for obj in (*session.new, *session.deleted, *session.dirty):
        table = getattr(obj, "__tablename__", None)
        if table in CATALOG_TABLES and (obj not in session.dirty or session.is_modified(obj)):
            session.info[CHANGED] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _executing(state):
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in CATALOG_TABLES:
            state.session.info[CHANGED] = True


@event.listens_for(Session, "before_commit")
def _committing(session):
    session.flush()     # the commit's own flush comes after this hook: mark its changes now
    if session.info.pop(CHANGED, False):
        session.execute(sa.update(CatalogVersion).where(CatalogVersion.id == 1)
                        .values(version=CatalogVersion.version + 1))
        session.info[BUMPED] = True


@event.listens_for(Session, "after_commit")
def _committed(session):
    if session.info.pop(BUMPED, False) and has_app_context():
        store = current_app.extensions.get("versioned_cache")
        if store is not None:
            store.checked_until = 0.0       # this process sees its own edit at once
        if has_request_context():
            g.pop(_PINNED, None)            # ... and so does the request that made it


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop(CHANGED, None)
    session.info.pop(BUMPED, None)
