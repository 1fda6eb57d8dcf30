"""The admin order list at 100,000 orders: list, filters, search and older pages.

Seeds a fresh SQLite file (or, when MERCHANT_TEST_DATABASE_URL names a PostgreSQL database,
drops and recreates the tables there) with N orders spread over 90 days: a realistic mix of
statuses, products, payment methods and repeat customers. Then asks the real app, signed in as
an owner through the test client, 200 times per scenario, and prints p50 and p95 per scenario.
Exits 1 when a p95 is over the target (100 ms).

    python bench/orders_list.py [--orders 100000] [--requests 200] [--only search]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import string
import sys
import tempfile
import time

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from merchant import create_app  # noqa: E402
from merchant.core.extensions import db  # noqa: E402
from merchant.core.models import Order, Package, PaymentMethod, Product  # noqa: E402
from merchant.ops import demo  # noqa: E402
from merchant.staff import admins  # noqa: E402

TARGET_MS = 100
DAYS = 90
PASSWORD = "bench password 1"
# (status, weight): most orders are delivered or never paid.
STATUSES = [("delivered", 72), ("expired", 14), ("payment_failed", 4), ("awaiting_payment", 3),
            ("fulfillment_failed", 2), ("refunded", 1), ("fulfilling", 3), ("paid", 1)]
REF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def make_app(instance: str):
    url = os.environ.get("MERCHANT_TEST_DATABASE_URL") or \
        f"sqlite:///{os.path.join(instance, 'bench.db')}"
    return create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                       "SANDBOX_WEBHOOK_SECRET": "bench", "SQLALCHEMY_DATABASE_URI": url},
                      instance_path=instance)


def seed(count: int, rng: random.Random) -> None:
    """A fresh schema, the demo catalog, an owner, and `count` orders (bulk inserted)."""
    db.drop_all()
    db.create_all()
    demo.seed()
    admins.create("bench@example.com", PASSWORD, "owner")
    packages = db.session.execute(
        sa.select(Package.id, Package.product_id, Package.name, Package.price, Product.name)
        .join(Product)).all()
    methods = db.session.execute(sa.select(PaymentMethod.code, PaymentMethod.name)).all()
    customers = [_customer(rng, n) for n in range(max(1, count // 5))]
    statuses, weights = zip(*STATUSES, strict=True)
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=DAYS)
    step = dt.timedelta(days=DAYS) / count
    rows = []
    for n in range(count):
        package_id, product_id, package_name, price, product_name = rng.choice(packages)
        code, method_name = rng.choice(methods)
        customer = rng.choice(customers)
        status = rng.choices(statuses, weights)[0]
        created = start + step * n
        ref = "M" + "".join(rng.choices(REF_ALPHABET, k=8))
        paid = status not in ("expired", "payment_failed", "awaiting_payment")
        rows.append({
            "ref": ref, "view_token": f"{n:064x}", "idempotency_key": f"bench-{n}",
            "status": status, "product_id": product_id, "package_id": package_id,
            "product_name": product_name, "package_name": package_name, "quantity": 1,
            "account": {"user_id": customer["account_id"]}, "account_id": customer["account_id"],
            "nickname": customer["nickname"], "email": customer["email"],
            "whatsapp": customer["whatsapp"], "payment_method": code,
            "payment_method_name": method_name, "gateway": "sandbox", "subtotal": price,
            "fee": 0, "total": price, "currency": "IDR", "gateway_ref": f"sbx_{n:016x}",
            "qr_string": "00020101021226" + "".join(rng.choices(string.digits, k=120)),
            "payment_expires_at": created + dt.timedelta(minutes=30),
            "paid_at": created + dt.timedelta(minutes=2) if paid else None,
            "supplier": "sandbox", "supplier_sku": "SKU", "supplier_ref_id": ref if paid else None,
            "delivered_at": created + dt.timedelta(minutes=3) if status == "delivered" else None,
            "delivery_proof": f"SN-{n}" if status == "delivered" else None,
            "created_at": created, "updated_at": created,
        })
        if len(rows) == 5000:
            db.session.execute(sa.insert(Order), rows)
            rows = []
    if rows:
        db.session.execute(sa.insert(Order), rows)
    db.session.commit()


def _customer(rng: random.Random, n: int) -> dict:
    name = rng.choice(["Raka", "Dewi", "Budi", "Sari", "Agus", "Putri", "Eko", "Nina"])
    return {"account_id": str(rng.randrange(10**7, 10**10)),
            "nickname": f"{name}{rng.choice(['Gaming', 'Pro', 'X', '_ID', ''])}{n}",
            "email": f"{name.lower()}.{n}@gmail.com" if rng.random() < 0.7 else None,
            "whatsapp": f"+628{rng.randrange(10**9, 10**10)}" if rng.random() < 0.5 else None}


def scenarios(rng: random.Random) -> dict[str, list[str]]:
    """Scenario name -> the URLs to ask, one per request (picked from the seeded data)."""
    sample = db.session.scalars(sa.select(Order).order_by(sa.func.random()).limit(200)).all()
    products = db.session.scalars(sa.select(Product.id)).all()
    methods = db.session.scalars(sa.select(PaymentMethod.code)).all()
    ids = [o.id for o in sample]
    today = dt.date.today()

    def week() -> str:
        first = today - dt.timedelta(days=rng.randrange(7, DAYS))
        return f"date_from={first}&date_to={first + dt.timedelta(days=6)}"

    def pick(values):
        return [rng.choice(values) for _ in range(200)]

    with_email = [o for o in sample if o.email] or sample
    with_phone = [o for o in sample if o.whatsapp] or sample
    return {
        "list (first page)": ["/admin/orders"] * 200,
        "filter status: failed": ["/admin/orders?status=fulfillment_failed"] * 200,
        "filter status: delivered": ["/admin/orders?status=delivered"] * 200,
        "filter product": [f"/admin/orders?product={p}" for p in pick(products)],
        "filter method": [f"/admin/orders?method={m}" for m in pick(methods)],
        "filter a week": [f"/admin/orders?{week()}" for _ in range(200)],
        "filter all four": [f"/admin/orders?status=delivered&product={p}&method={m}&{week()}"
                            for p, m in zip(pick(products), pick(methods), strict=True)],
        "search ref": [f"/admin/orders?q={o.ref.lower()}" for o in pick(sample)],
        "search account id": [f"/admin/orders?q={o.account_id}" for o in pick(sample)],
        "search nickname": [f"/admin/orders?q={o.nickname.upper()}" for o in pick(sample)],
        "search email": [f"/admin/orders?q={o.email}" for o in pick(with_email)],
        "search whatsapp": [f"/admin/orders?q=0{o.whatsapp[3:]}" for o in pick(with_phone)],
        "search a miss": [f"/admin/orders?q=nobody{n}" for n in range(200)],
        "search ref prefix": [f"/admin/orders?q={o.ref[:5].lower()}" for o in pick(sample)],
        "search part of a nickname": [f"/admin/orders?q={o.nickname[1:5].upper()}"
                                      for o in pick(sample)],
        "search rare part of a name": [f"/admin/orders?q={o.nickname[-5:]}"
                                       for o in pick(sample)],
        "search part of an email": [f"/admin/orders?q={o.email.split('@')[0][-6:]}"
                                    for o in pick(with_email)],
        "search part of a whatsapp": [f"/admin/orders?q={o.whatsapp[-6:]}"
                                      for o in pick(with_phone)],
        "older pages": [f"/admin/orders?before={i}" for i in pick(ids)],
        "older pages, delivered": [f"/admin/orders?status=delivered&before={i}"
                                   for i in pick(ids)],
    }


def measure(client, urls: list[str]) -> list[float]:
    for url in urls[:5]:                          # warm the caches and the planner
        client.get(url)
    times = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", default="", help="only the scenarios whose name has this")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as instance:
        app = make_app(instance)
        with app.app_context():
            started = time.perf_counter()
            seed(args.orders, rng)
            print(f"Seeded {args.orders} orders on {db.engine.dialect.name} in "
                  f"{time.perf_counter() - started:.1f} s")
            plan = scenarios(rng)
            db.session.remove()
        client = app.test_client()
        signed_in = client.post("/admin/login",
                                data={"email": "bench@example.com", "password": PASSWORD})
        assert signed_in.status_code == 303, "could not sign in"
        slow = []
        print(f"{'scenario':28} {'p50 ms':>8} {'p95 ms':>8}")
        for name, urls in plan.items():
            if args.only not in name:
                continue
            times = measure(client, urls[:args.requests])
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            print(f"{name:28} {statistics.median(times):8.1f} {p95:8.1f}")
            if p95 > TARGET_MS:
                slow.append(name)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if slow:
        raise SystemExit(f"p95 over {TARGET_MS} ms: {', '.join(slow)}")
    print(f"Every p95 under {TARGET_MS} ms.")


if __name__ == "__main__":
    main()
