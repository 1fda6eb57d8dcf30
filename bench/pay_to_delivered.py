"""Paid callback -> Delivered, in the production setup, against its budget.

For each database (a fresh SQLite file; PostgreSQL too when MERCHANT_TEST_DATABASE_URL is set,
whose tables are dropped and rebuilt), a fresh demo shop runs as it does in production: gunicorn
(2 sync workers) serving `wsgi:app`, and a separate `flask --app merchant worker` process with
its default 1 s poll. Each of N orders is bought through the shop's pages, then its sandbox
gateway's signed "paid" callback is POSTed to /webhooks/sandbox; the time from sending the
callback to the order's status reading `delivered` in the database (checked every 5 ms) is the
figure. Median, p95 and max are printed; the exit code is 1 when a p95 misses the budget.

    python bench/pay_to_delivered.py [--orders 50]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests
import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from merchant.vendors.payments.sandbox import SandboxGateway  # noqa: E402

BUDGET_P95_MS = 250
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Shop:
    """gunicorn plus a worker process on a fresh database; stopped on exit."""

    def __init__(self, database_url: str, instance: str):
        self.database_url = database_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, MERCHANT_INSTANCE_PATH=instance, MERCHANT_SECRET_KEY=SECRET,
                        MERCHANT_SANDBOX_WEBHOOK_SECRET=SECRET,
                        MERCHANT_DATABASE_URL=database_url, MERCHANT_RATELIMIT_ENABLED="false")
        self.logs = os.path.join(instance, "logs")
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> Shop:
        try:
            self._start_all()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start_all(self) -> None:
        self._drop_tables()
        flask = [sys.executable, "-m", "flask", "--app", "merchant"]
        subprocess.run(flask + ["seed-demo"], env=self.env, cwd=ROOT, check=True,
                       capture_output=True)
        os.makedirs(self.logs)
        self._start([sys.executable, "-m", "gunicorn", "--workers", "2",
                     "--bind", f"127.0.0.1:{self.port}", "wsgi:app"], "gunicorn.log")
        self._start(flask + ["worker"], "worker.log")
        # /healthz answers 200 once the web server is up and the worker has beaten.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=10).status_code == 200:
                    return
            time.sleep(0.1)
        raise SystemExit(f"the shop did not start; see {self.logs}")

    def _start(self, command: list[str], log: str) -> None:
        with open(os.path.join(self.logs, log), "wb") as out:
            self.processes.append(subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=out,
                                                   stderr=subprocess.STDOUT))

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self._drop_tables()

    def _drop_tables(self) -> None:
        """PostgreSQL: start from an empty database, and leave one (the test suite's)."""
        if self.database_url.startswith("postgresql"):
            engine = sa.create_engine(self.database_url)
            tables = sa.MetaData()
            tables.reflect(engine)
            tables.drop_all(engine)
            engine.dispose()


def buy(base: str) -> str:
    """An order for a TikTok package, bought through the pages; its reference."""
    session = requests.Session()
    page = session.get(f"{base}/p/tiktok-coins").text
    package = re.search(r'name="package" value="(\d+)"', page).group(1)
    check = session.post(f"{base}/p/tiktok-coins/verify", headers={"HX-Request": "true"},
                         data={"username": "demo_user"}).text
    token = re.search(r'name="verification_token" value="([^"]+)"', check).group(1)
    order = session.post(f"{base}/p/tiktok-coins/order", data={
        "username": "demo_user", "verification_token": token,
        "package": package, "method": "QRIS", "email": "bench@example.com",
        "idempotency_key": os.urandom(8).hex()})
    return re.search(r"/o/([A-Z0-9]+)", order.url).group(1)


def paid_to_delivered(shop: Shop, engine: sa.Engine, ref: str) -> float:
    """Seconds from sending the order's paid callback to the order being delivered."""
    with engine.connect() as db:
        gateway_ref, total, currency = db.execute(
            sa.text("SELECT gateway_ref, total, currency FROM orders WHERE ref = :ref"),
            {"ref": ref}).one()
    gateway = SandboxGateway({"SANDBOX_WEBHOOK_SECRET": SECRET})
    body, headers = gateway.callback(ref, gateway_ref, "paid", total, currency)
    status = sa.text("SELECT status FROM orders WHERE ref = :ref")
    # Autocommit: each look is one statement on a fresh snapshot.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        started = time.perf_counter()
        answer = requests.post(f"{shop.base}/webhooks/sandbox", data=body, headers=headers,
                               timeout=30)
        answer.raise_for_status()
        while db.execute(status, {"ref": ref}).scalar() != "delivered":
            if time.perf_counter() - started > 30:
                raise SystemExit(f"order {ref} not delivered within 30 s; see {shop.logs}")
            time.sleep(0.005)
        return time.perf_counter() - started


def measure(database_url: str, orders: int) -> list[float]:
    with tempfile.TemporaryDirectory() as instance:
        url = database_url or f"sqlite:///{os.path.join(instance, 'bench.db')}"
        with Shop(url, instance) as shop:
            engine = sa.create_engine(url)
            try:
                paid_to_delivered(shop, engine, buy(shop.base))     # warm-up, not counted
                return [paid_to_delivered(shop, engine, buy(shop.base)) for _ in range(orders)]
            finally:
                engine.dispose()


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50)
    args = parser.parse_args()
    databases = {"sqlite": ""}
    if os.environ.get("MERCHANT_TEST_DATABASE_URL"):
        databases["postgresql"] = os.environ["MERCHANT_TEST_DATABASE_URL"]
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"Paid callback -> delivered, gunicorn (2 workers) + a worker process, "
          f"{args.orders} orders each (load average {load})\n")
    print("| database | median ms | p95 ms | max ms | p95 budget ms |")
    print("|---|---|---|---|---|")
    missed = []
    for name, url in databases.items():
        times = measure(url, args.orders)
        row = [statistics.median(times), p95(times), max(times)]
        ok = row[1] * 1000 <= BUDGET_P95_MS
        print(f"| {name} | " + " | ".join(f"{t * 1000:.0f}" for t in row)
              + f" | {BUDGET_P95_MS} {'ok' if ok else 'MISSED'} |", flush=True)
        if not ok:
            missed.append(name)
    if missed:
        print(f"\np95 over {BUDGET_P95_MS} ms on {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
