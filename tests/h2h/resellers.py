"""A reseller for the API tests: an account with saldo and a key, and requests signed as the
docs tell a developer to sign them."""
from __future__ import annotations

import json as jsonlib
import secrets
import time
from dataclasses import dataclass

from merchant.core import money
from merchant.core.extensions import db
from merchant.core.models import Customer, PriceLevel, utcnow
from merchant.customers import ledger
from merchant.h2h import keys, signing


@dataclass
class Reseller:
    customer_id: int
    key_id: str
    secret: str


def make_reseller(app, email="dewi@example.com", saldo=200_000, level: str | None = None,
                  **key_options) -> Reseller:
    """A customer with `saldo` rupiah and a key (live unless sandbox=True)."""
    with app.app_context():
        customer = db.session.scalar(db.select(Customer).where(Customer.email == email))
        if customer is None:
            customer = Customer(email=email, name=email.split("@")[0], created_at=utcnow())
            db.session.add(customer)
            db.session.commit()
        if level:
            found = db.session.scalar(db.select(PriceLevel).where(PriceLevel.name == level))
            if found is None:
                found = PriceLevel(name=level, kind="discount", percent_bp=500, round_to=100)
                db.session.add(found)
                db.session.flush()
            customer.level_id = found.id
            db.session.commit()
        if saldo:
            ledger.credit(customer.id, money.Money(saldo, "IDR"), ledger.ADJUSTMENT,
                          f"adjustment:{secrets.token_hex(6)}", source=ledger.ADJUSTMENTS)
            db.session.commit()
        key, secret = keys.create(customer, **key_options)
        return Reseller(customer.id, key.key_id, secret)


def headers(reseller: Reseller, method: str, path: str, body: bytes = b"",
            timestamp: int | None = None, nonce: str | None = None,
            secret: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(12)
    return {"X-Key-Id": reseller.key_id, "X-Timestamp": stamp, "X-Nonce": nonce,
            "X-Signature": signing.sign_request(secret or reseller.secret, method, path, stamp,
                                                nonce, body)}


def call(client, reseller: Reseller, method: str, path: str, json=None, **signing_options):
    """A signed request through the Flask test client."""
    body = jsonlib.dumps(json).encode() if json is not None else b""
    sent = headers(reseller, method, path, body, **signing_options)
    if body:
        sent["Content-Type"] = "application/json"
    return client.open(path, method=method, data=body, headers=sent)


def item(client, reseller: Reseller, name="86 Diamonds", product="mobile-legends") -> dict:
    """A package of the reseller's price list, by name."""
    items = call(client, reseller, "GET", f"/api/v1/products?product={product}").get_json()
    return next(found for found in items["items"] if found["name"] == name)


def ml_order(client, reseller: Reseller, ref_id="INV-1", user_id="12345678") -> dict:
    """An order body for Mobile Legends 86 Diamonds (Rp 22.000 retail)."""
    return {"ref_id": ref_id, "sku": item(client, reseller)["code"],
            "account": {"user_id": user_id, "zone_id": "1234"}}
