"""The H2H API under load: 1,000 reseller orders, each sent twice at once, none lost or doubled.

A fresh demo shop runs as production runs it on PostgreSQL (bench/spike.py's PostgresShop:
gunicorn with 2 processes, 2 `flask worker` processes, a new database made with `flask upgrade`
and `seed-demo`, rate limits counted in Redis when one answers on 127.0.0.1:6379). The shop
side (an app context on the bench database, as the owner would) makes one reseller account and
one live API key. The reseller side speaks only HTTP, signing every request as the API's docs
say, with its own few lines of HMAC:

1. GET /api/v1/profile and /api/v1/products: the balance, and a Free Fire package with its
   account field; the owner credits the saldo with exactly the price of all the orders
   (merchant/customers/adjustments), and the profile must show it.
2. 20 clients (threads, each with its own requests.Session) in 10 pairs; both clients of a
   pair POST the same order (the same ref_id and body) at the same moment, 1,000 orders in all,
   2,000 POSTs. Each order must be answered once 201 (`"duplicate": false`) and once 200
   (`"duplicate": true`), both with the same order.
3. When every order is final in the database, GET /api/v1/orders/<ref_id> for each must say
   `success` with a serial number. Then the database: exactly 1,000 API orders and 1,000 shop
   orders for the account, each shop order behind exactly one API order, all delivered with
   one move to delivered, one sandbox supplier delivery each (the workers' log), one purchase
   from the saldo each and no refund; the ledger sums to zero, and the balance is the credit
   less the orders' totals (0: the credit covered the orders exactly, so an order charged twice
   would also have refused a later one).

Printed: orders/s from the first POST to the last order accepted and to the last delivered,
p50/p95/p99 of the POSTs (all, the first answers, the second ones). Exit code 1 when any check
fails. There is no speed budget: the figures go to bench/README.md.

    python bench/h2h_orders.py [--orders 1000] [--clients 20] [--database bench_h2h] [--keep]
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa
from spike import ROOT, PostgresShop, load_average, percentile

sys.path.insert(0, ROOT)
from merchant import create_app  # noqa: E402
from merchant.core import audit, money  # noqa: E402
from merchant.core.extensions import db  # noqa: E402
from merchant.core.models import (  # noqa: E402
    ApiOrder,
    Customer,
    LedgerTransaction,
    Order,
    OrderEvent,
    utcnow,
)
from merchant.customers import adjustments, ledger  # noqa: E402
from merchant.h2h import keys, signing  # noqa: E402

PRODUCT = "Free Fire"           # a demo product the sandbox verifier and supplier both serve
DELIVERED = "delivered"
# The shop order statuses an API order reads as final (merchant/h2h/outcomes.LIVE).
FINAL = ("delivered", "refunded", "expired", "payment_failed")


# The reseller's side: what a reseller writes from the API's docs ----------------------------

def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = "\n".join([method, path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class Client:
    """One reseller program: its own HTTP session, every request signed."""

    def __init__(self, base: str, key_id: str, secret: str):
        self.base, self.key_id, self.secret = base, key_id, secret
        self.session = requests.Session()

    def call(self, method: str, path: str, payload: dict | None = None) -> requests.Response:
        body = json.dumps(payload).encode() if payload is not None else b""
        timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(16)
        headers = {"X-Key-Id": self.key_id, "X-Timestamp": timestamp, "X-Nonce": nonce,
                   "X-Signature": sign(self.secret, method, path, timestamp, nonce, body)}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        return self.session.request(method, self.base + path, data=body, headers=headers,
                                    timeout=60)


@dataclass
class Answer:
    """One POST /api/v1/orders as the client saw it."""
    ref_id: str
    status: int             # HTTP status; 0: no answer
    seconds: float          # its latency
    done: float             # perf_counter when the answer came
    duplicate: bool | None = None
    order_id: str = ""
    error: str = ""


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    started: float = 0.0                        # perf_counter at the first POST
    started_wall: dt.datetime | None = None     # the same moment, naive UTC like the database
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_order(client: Client, order: dict) -> Answer:
    started = time.perf_counter()
    try:
        response = client.call("POST", "/api/v1/orders", order)
    except requests.RequestException as exc:
        now = time.perf_counter()
        return Answer(order["ref_id"], 0, now - started, now, error=type(exc).__name__)
    now = time.perf_counter()
    answer = Answer(order["ref_id"], response.status_code, now - started, now)
    try:
        body = response.json()
    except ValueError:
        answer.error = f"not JSON: {response.text[:80]!r}"
        return answer
    if response.status_code in (200, 201):
        answer.duplicate = body.get("duplicate")
        answer.order_id = (body.get("order") or {}).get("order_id", "")
    else:
        answer.error = (body.get("error") or {}).get("code", "?")
    return answer


def send_all(base: str, key_id: str, secret: str, orders: list[dict], clients: int) -> Run:
    """`clients` threads in pairs; both of a pair send each of their orders at the same moment."""
    run = Run()
    pairs = clients // 2
    shares = [orders[i::pairs] for i in range(pairs)]
    ready = threading.Barrier(pairs * 2, action=lambda: _mark_start(run))

    def client_loop(share: list[dict], together: threading.Barrier) -> None:
        client = Client(base, key_id, secret)
        ready.wait()
        for order in share:
            together.wait()
            answer = post_order(client, order)
            with run.lock:
                run.answers.append(answer)

    threads = []
    for share in shares:
        together = threading.Barrier(2)
        threads += [threading.Thread(target=client_loop, args=(share, together), daemon=True)
                    for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run


def _mark_start(run: Run) -> None:
    run.started = time.perf_counter()
    run.started_wall = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def read_all(base: str, key_id: str, secret: str, ref_ids: list[str],
             clients: int) -> dict[str, tuple[int, dict]]:
    """GET /api/v1/orders/<ref_id> for each, `clients` at a time: {ref_id: (status, order)}."""
    seen: dict[str, tuple[int, dict]] = {}
    lock = threading.Lock()

    def loop(share: list[str]) -> None:
        client = Client(base, key_id, secret)
        for ref_id in share:
            response = client.call("GET", f"/api/v1/orders/{ref_id}")
            order = response.json().get("order") or {} if response.ok else {}
            with lock:
                seen[ref_id] = (response.status_code, order)

    threads = [threading.Thread(target=loop, args=(ref_ids[i::clients],), daemon=True)
               for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


# The shop's side: the owner making the account and the key, and reading the books -----------

class H2hShop(PostgresShop):
    setup = "gunicorn (2 processes) + 2 `flask worker`, PostgreSQL, the H2H API"


def shop_app(shop: PostgresShop):
    """The shop's app on the bench database, with the web processes' SECRET_KEY (the key's
    secret is derived from it)."""
    env = shop.env
    logging.disable(logging.INFO)       # its start-up notes are the web processes' to log
    return create_app({"SECRET_KEY": env["MERCHANT_SECRET_KEY"],
                       "SANDBOX_WEBHOOK_SECRET": env["MERCHANT_SANDBOX_WEBHOOK_SECRET"],
                       "SQLALCHEMY_DATABASE_URI": shop.database_url, "LOG_FORMAT": "text"},
                      instance_path=env["MERCHANT_INSTANCE_PATH"])


def make_reseller(app) -> tuple[int, str, str]:
    """A reseller account and a live key without a practical rate limit: (customer id,
    key_id, secret)."""
    with app.app_context():
        customer = Customer(email="reseller@bench.example", name="Bench reseller",
                            created_at=utcnow())
        db.session.add(customer)
        db.session.commit()
        key, secret = keys.create(customer, label="bench", rate_per_minute=100_000,
                                  created_by="bench")
        # The reseller's few lines sign as the shop checks.
        probe = ("POST", "/api/v1/orders", "1700000000", "nonce-123", b'{"a": 1}')
        if sign(secret, *probe) != signing.sign_request(secret, *probe):
            raise SystemExit("the bench's signature differs from merchant/h2h/signing.py")
        return customer.id, key.key_id, secret


def credit(app, customer_id: int, amount: int) -> None:
    with app.app_context():
        adjustments.adjust(customer_id, money.Money(amount, "IDR"), True,
                           "H2H bench: saldo for the orders", key=uuid.uuid4().hex,
                           actor=audit.Actor("bench"))
        db.session.remove()


def pending_orders(app, customer_id: int) -> tuple[int, int]:
    """(orders of the account not yet final, all its orders)."""
    with app.app_context():
        rows = db.session.execute(sa.select(Order.status, sa.func.count())
                                  .where(Order.customer_id == customer_id)
                                  .group_by(Order.status)).all()
        db.session.remove()
    total = sum(n for _, n in rows)
    return sum(n for status, n in rows if status not in FINAL), total


@dataclass
class Books:
    """What the database says after the run."""
    api_orders: int = 0
    api_ref_ids: set[str] = field(default_factory=set)
    orders: int = 0
    statuses: Counter = field(default_factory=Counter)
    linked: Counter = field(default_factory=Counter)    # shop order id -> API orders on it
    delivered_moves: Counter = field(default_factory=Counter)
    purchases: int = 0
    refunds: int = 0
    totals: int = 0
    balance: int = 0
    balance_from_rows: int = 0
    ledger_sum: int = 0
    last_delivered: dt.datetime | None = None
    paid_to_delivered: list[float] = field(default_factory=list)     # seconds, per order
    order_refs: list[str] = field(default_factory=list)


def read_books(app, customer_id: int) -> Books:
    books = Books()
    with app.app_context():
        session = db.session
        api_rows = session.execute(sa.select(ApiOrder.ref_id, ApiOrder.order_id)
                                   .where(ApiOrder.customer_id == customer_id)).all()
        books.api_orders = len(api_rows)
        books.api_ref_ids = {row.ref_id for row in api_rows}
        books.linked = Counter(row.order_id for row in api_rows)
        orders = session.execute(sa.select(Order.id, Order.ref, Order.status, Order.total,
                                           Order.paid_at, Order.delivered_at)
                                 .where(Order.customer_id == customer_id)).all()
        books.orders = len(orders)
        books.order_refs = [row.ref for row in orders]
        books.statuses = Counter(row.status for row in orders)
        books.totals = sum(row.total for row in orders)
        delivered = [row.delivered_at for row in orders if row.delivered_at is not None]
        books.last_delivered = max(delivered, default=None)
        books.paid_to_delivered = sorted((row.delivered_at - row.paid_at).total_seconds()
                                         for row in orders if row.paid_at and row.delivered_at)
        for order_id in {row.id for row in orders} - set(books.linked):
            books.linked[order_id] = 0
        books.delivered_moves = Counter(dict(session.execute(
            sa.select(OrderEvent.order_id, sa.func.count())
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.customer_id == customer_id, OrderEvent.to_status == DELIVERED)
            .group_by(OrderEvent.order_id)).all()))
        kinds = Counter(dict(session.execute(
            sa.select(LedgerTransaction.kind, sa.func.count())
            .where(LedgerTransaction.customer_id == customer_id)
            .group_by(LedgerTransaction.kind)).all()))
        books.purchases, books.refunds = kinds[ledger.PURCHASE], kinds[ledger.REFUND]
        books.balance = ledger.balance(customer_id, "IDR").amount
        books.balance_from_rows = ledger.balance_from_rows(customer_id)
        books.ledger_sum = ledger.ledger_sum()
        session.remove()
    return books


# The run ------------------------------------------------------------------------------------

def choose_item(items: list[dict]) -> dict:
    for item in items:
        if item["product"] == PRODUCT and item["available"] and len(item["account_fields"]) == 1:
            return item
    raise SystemExit(f"no {PRODUCT} package on sale in the price list")


def make_orders(item: dict, count: int) -> list[dict]:
    """Each its own ref_id and its own player: 9 digits ending in 1 (the sandbox supplier
    fails IDs ending 999 and holds those ending 777; its verifier finds any not starting 000)."""
    spec = item["account_fields"][0]
    run = secrets.token_hex(3)
    orders = []
    for number in range(count):
        player = f"81{number:06d}1"
        if spec.get("pattern") and not re.fullmatch(spec["pattern"], player):
            raise SystemExit(f"{player} does not fit {spec['name']}'s pattern {spec['pattern']}")
        orders.append({"ref_id": f"bench-{run}-{number:05d}", "sku": item["code"],
                       "account": {spec["name"]: player}})
    return orders


def supplier_deliveries(shop: PostgresShop) -> Counter:
    """The sandbox supplier's deliveries per shop order ref, from the workers' JSON log (its
    books are in each worker's memory)."""
    return Counter(line.get("ref") for line in shop.log_lines()
                   if "Sandbox supplier: success" in str(line.get("message", "")))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def latencies(answers: list[Answer]) -> str:
    times = sorted(answer.seconds for answer in answers)
    if not times:
        return "- | - | - | -"
    return " | ".join([str(len(times)), ms(statistics.median(times)),
                       ms(percentile(times, 95)), ms(percentile(times, 99))])


def check(run: Run, orders: list[dict], reads: dict, books: Books, credited: int,
          deliveries: Counter, tracebacks: int) -> list[str]:
    """Every broken invariant, in words."""
    problems = []
    count = len(orders)
    ref_ids = {order["ref_id"] for order in orders}
    by_ref: dict[str, list[Answer]] = {}
    for answer in run.answers:
        by_ref.setdefault(answer.ref_id, []).append(answer)
    refused = Counter(f"{a.status} {a.error}".strip() for a in run.answers
                      if a.status not in (200, 201))
    if refused:
        problems.append("POSTs not accepted: " + ", ".join(f"{n}x {what}"
                                                           for what, n in refused.items()))
    unlike = 0
    for ref_id in ref_ids:
        pair = sorted((a.status, a.duplicate, a.order_id) for a in by_ref.get(ref_id, []))
        if len(pair) != 2 or [p[:2] for p in pair] != [(200, True), (201, False)] \
                or pair[0][2] != pair[1][2] or not pair[0][2]:
            unlike += 1
    if unlike:
        problems.append(f"{unlike} orders not answered once 201 (new) and once 200 "
                        "(duplicate) with the same order")
    if books.api_orders != count or books.api_ref_ids != ref_ids:
        problems.append(f"{books.api_orders} API orders in the database (expected {count}, "
                        f"{len(ref_ids ^ books.api_ref_ids)} ref_ids differ)")
    if books.orders != count:
        problems.append(f"{books.orders} shop orders for the account (expected {count})")
    doubled = sum(1 for n in books.linked.values() if n != 1)
    if doubled:
        problems.append(f"{doubled} shop orders not behind exactly one API order")
    if books.statuses[DELIVERED] != count:
        problems.append(f"not every order delivered: {dict(books.statuses)}")
    moves = sum(1 for n in books.delivered_moves.values() if n != 1)
    if moves or len(books.delivered_moves) != books.statuses[DELIVERED]:
        problems.append(f"{moves} orders moved to delivered more than once")
    once = sum(1 for ref in books.order_refs if deliveries[ref] == 1)
    if once != books.orders:
        problems.append(f"{books.orders - once} orders without exactly one sandbox supplier "
                        f"delivery in the workers' log")
    lost = [ref for ref in ref_ids if reads.get(ref, (0, {}))[0] != 200
            or reads[ref][1].get("status") != "success" or not reads[ref][1].get("sn")]
    if lost:
        problems.append(f"{len(lost)} orders not read back as success with a serial number "
                        f"(first: {lost[0]}: {reads.get(lost[0])})")
    if books.purchases != count or books.refunds:
        problems.append(f"{books.purchases} purchases and {books.refunds} refunds in the "
                        f"account's saldo (expected {count} and 0)")
    if books.ledger_sum != 0:
        problems.append(f"the ledger sums to {books.ledger_sum}, not 0")
    if books.balance != credited - books.totals or books.balance != books.balance_from_rows:
        problems.append(f"the balance is {books.balance} (its rows: {books.balance_from_rows}); "
                        f"expected {credited} - {books.totals} = {credited - books.totals}")
    if tracebacks:
        problems.append(f"{tracebacks} tracebacks in the shop's logs")
    return problems


def bench(args: argparse.Namespace) -> int:
    folder = tempfile.mkdtemp(prefix="h2h-bench-")
    H2hShop.database, H2hShop.admin_url = args.database, args.postgres
    print(f"H2H API: {args.orders} orders, each POSTed twice at once by 2 of {args.clients} "
          f"clients; {H2hShop.setup} (load average {load_average()}, {os.cpu_count()} cores)",
          flush=True)
    try:
        with H2hShop(folder) as shop:
            for note in shop.notes:
                print(f"({note})")
            app = shop_app(shop)
            customer_id, key_id, secret = make_reseller(app)
            reseller = Client(shop.base, key_id, secret)
            profile = reseller.call("GET", "/api/v1/profile")
            if profile.status_code != 200 or profile.json()["saldo"]["balance"] != 0:
                raise SystemExit(f"profile: {profile.status_code} {profile.text[:300]}")
            listed = reseller.call("GET", "/api/v1/products")
            if listed.status_code != 200:
                raise SystemExit(f"products: {listed.status_code} {listed.text[:300]}")
            item = choose_item(listed.json()["items"])
            orders = make_orders(item, args.orders)
            credited = item["price"] * args.orders
            credit(app, customer_id, credited)
            balance = reseller.call("GET", "/api/v1/profile").json()["saldo"]["balance"]
            if balance != credited:
                raise SystemExit(f"the profile shows {balance} after a credit of {credited}")
            print(f"{item['code']} ({item['product']}, {item['name']}) at {item['price']:,} "
                  f"{item['currency']}; saldo {credited:,}\n", flush=True)
            load_before = load_average()
            run = send_all(shop.base, key_id, secret, orders, args.clients)
            accepted = [a.done for a in run.answers if a.status in (200, 201)]
            last_accepted = max(accepted, default=run.started) - run.started
            deadline = time.monotonic() + args.timeout
            while (waiting := pending_orders(app, customer_id))[0] and \
                    time.monotonic() < deadline:
                time.sleep(0.2)
            load_after = load_average()
            reads = read_all(shop.base, key_id, secret, [o["ref_id"] for o in orders],
                             args.clients)
            books = read_books(app, customer_id)
            deliveries = supplier_deliveries(shop)
            tracebacks = shop.tracebacks()
            close_app(app)
    finally:
        if args.keep:
            print(f"(logs kept in {folder})")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    report(args, run, books, last_accepted, waiting, load_before, load_after)
    problems = check(run, orders, reads, books, credited, deliveries, tracebacks)
    if problems:
        print("\nBroken:")
        for problem in problems:
            print(f"- {problem}")
        return 1
    print(f"\nAll held: {args.orders} orders, each once (no second order for a ref_id sent "
          f"twice), all delivered once, the ledger sums to 0, the balance is the credit less "
          f"the orders.")
    return 0


def close_app(app) -> None:
    """Its connections to the bench database closed (the database is dropped next)."""
    with app.app_context():
        db.engine.dispose()


def report(args, run: Run, books: Books, last_accepted: float, waiting: tuple[int, int],
           load_before: str, load_after: str) -> None:
    delivered = None
    if books.last_delivered is not None and run.started_wall is not None:
        delivered = (books.last_delivered - run.started_wall).total_seconds()
    count = args.orders
    print("| orders | accepted in s | orders/s accepted | delivered in s | orders/s delivered "
          "| load average before -> after |")
    print("|---|---|---|---|---|---|")
    print(f"| {count} | "
          + (f"{last_accepted:.1f} | {count / last_accepted:.1f}" if last_accepted > 0
             else "- | -") + " | "
          + (f"{delivered:.1f} | {count / delivered:.1f}" if delivered and delivered > 0
             else "- | -")
          + f" | {load_before} -> {load_after} |")
    quarters = pace(run, count)
    if quarters:
        print(f"\nOrders accepted per second in each quarter of the sending: {quarters}")
    if books.paid_to_delivered:
        times = books.paid_to_delivered
        print(f"Paid (the saldo taken, in the POST) -> delivered (a worker): p50 "
              f"{ms(statistics.median(times))} ms, p95 {ms(percentile(times, 95))} ms, max "
              f"{ms(times[-1])} ms")
    if waiting[0]:
        print(f"({waiting[0]} of {waiting[1]} orders still not final after {args.timeout} s)")
    print("\n| POST /api/v1/orders | count | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    new = [a for a in run.answers if a.status == 201]
    again = [a for a in run.answers if a.status == 200]
    print(f"| all | {latencies(run.answers)} |")
    print(f"| new (201) | {latencies(new)} |")
    print(f"| duplicate (200) | {latencies(again)} |")


def pace(run: Run, count: int) -> str:
    """Orders accepted per second in each quarter of the sending (a table or an index that
    grows with the orders would show as a falling pace)."""
    firsts = sorted(a.done - run.started for a in run.answers if a.status == 201)
    if len(firsts) < 8:
        return ""
    marks = [0.0] + [firsts[len(firsts) * q // 4 - 1] for q in (1, 2, 3, 4)]
    return " / ".join(f"{(len(firsts) / 4) / (end - start):.1f}"
                      for start, end in zip(marks, marks[1:], strict=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20, help="an even number: in pairs")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds to wait for every order to be final")
    parser.add_argument("--database", default=os.environ.get("H2H_BENCH_DATABASE", "bench_h2h"),
                        help="made new, dropped at the end")
    parser.add_argument("--postgres", default=PostgresShop.admin_url,
                        help="the server, as its superuser (default: SPIKE_POSTGRES_URL's)")
    parser.add_argument("--keep", action="store_true", help="keep the shop's logs")
    args = parser.parse_args()
    if args.clients < 2 or args.clients % 2:
        parser.error("--clients must be an even number")
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
