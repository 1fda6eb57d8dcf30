"""A reseller of the demo shop calling the Digiflazz-compatible door, for the door's tests:
their account, saldo and key, the shop on a real port, and what the books hold."""
from __future__ import annotations

import contextlib
import hashlib
import threading
from dataclasses import dataclass

import sqlalchemy as sa
from conftest import package_id
from resellers import make_reseller
from werkzeug.serving import make_server

from merchant.core.extensions import db
from merchant.core.models import ApiOrder, LedgerTransaction, Order, Package
from merchant.customers import ledger
from merchant.h2h.products import code_of

DOOR = "/compat/digiflazz/v1"
FREE_FIRE = ("free-fire", "70 Diamonds")        # one field: the player ID
MOBILE_LEGENDS = ("mobile-legends", "86 Diamonds")  # two: user ID and zone ID


@dataclass(frozen=True)
class Reseller:
    customer_id: int
    username: str           # Digiflazz's username: the key's key_id
    api_key: str            # Digiflazz's apiKey: the key's secret


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def reseller(app, saldo: int = 0, sandbox: bool = False, email: str = "reseller@example.com",
             **key_options) -> Reseller:
    """A customer with `saldo` and a live or sandbox key, in Digiflazz's words."""
    made = make_reseller(app, email=email, saldo=saldo, sandbox=sandbox, **key_options)
    return Reseller(made.customer_id, made.key_id, made.secret)


def sku(app, slug: str, name: str) -> str:
    """The package's code in the price list: Digiflazz's buyer_sku_code."""
    with app.app_context():
        return code_of(db.session.get(Package, package_id(app, slug, name)))


def saldo(app, customer_id: int) -> int:
    with app.app_context():
        return ledger.balance(customer_id, "IDR").amount


def books(app, customer_id: int) -> tuple[int, int, int, int]:
    """(API orders, shop orders, ledger transactions of the customer, saldo)."""
    with app.app_context():
        def count(model, *where) -> int:
            return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
        return (count(ApiOrder, ApiOrder.customer_id == customer_id),
                count(Order),
                count(LedgerTransaction, LedgerTransaction.customer_id == customer_id),
                ledger.balance(customer_id, "IDR").amount)


@contextlib.contextmanager
def door_served(app):
    """The app on a real port of 127.0.0.1 (no worker: the test runs its passes); yields the
    door's base URL, as a reseller's script is configured with it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{DOOR}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
