"""Requests per second of the shop under its production server, against yardsticks.

Serves a fresh shop (the demo catalog) under each production setup: `make run`'s (`flask
--app merchant serve`: waitress, the worker inside) on SQLite, and deploy/'s (gunicorn with 2
processes and a `flask worker`) on SQLite and, when MERCHANT_TEST_DATABASE_URL is set, on
PostgreSQL (its tables are dropped and recreated). A bare Flask app under the same server (and
the same app making the status poll's one read), and a static file of the shop, are measured in
the same run, so the ratios stay fair on a busy machine. wrk drives every
scenario from its own process (bench/scenario.lua). The catalog and the product page are the
same bytes for every visitor: measured as a first visit (no cookie, nothing cached) and as a
repeat visit (If-None-Match with the page's ETag: a 304). Then the weight of a first visit to
the catalog and the product page as served (Accept-Encoding: br, gzip), whether a repeat visit
needs anything but the HTML, and whether the HTML itself comes back as a 304.

Exits 1 when a budget is missed (BUDGETS below; bench/README.md gives the latest figures).

    python bench/throughput.py [--seconds 5] [--connections 16] [--only SCENARIO]
                               [--server serve|gunicorn]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import requests
import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, ROOT)

from merchant.vendors.payments import sandbox  # noqa: E402

SECRET = "bench-webhook-secret"
SLUG, PACKAGE, METHOD = "tiktok-coins", "70 Coins", "QRIS"
ENCODINGS = "br, gzip"
YEAR = 365 * 24 * 3600
# Share of the bare Flask app's requests/s each page must reach, and the first-load weight.
# The unchanged status poll (an empty 200, HX-Reswap: none) is answered by Flask itself, right
# after the guards, with the session: at least half of what the bare app does. The pages run all
# of Flask's hooks too: 30 % of a bare app for a first visit; a repeat visit is a 304 answered
# before anything is rendered.
RATIO_BUDGETS = {"poll unchanged": 0.50, "product": 0.30, "catalog": 0.30,
                 "product 304": 0.30, "catalog 304": 0.30}
# What a browser sends with a form from the shop's own page (web/cross_origin.py).
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
FIRST_LOAD_BUDGET = 30 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Scenario:
    name: str
    path: str
    expect: int
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    bodies: list[str] = field(default_factory=list)
    body_header: str = ""
    base: str = ""            # another server's base URL (the bare app)
    warm: bool = True


@dataclass
class Result:
    name: str
    rps: float
    p50: float
    p95: float
    p99: float
    unexpected: int
    errors: int
    bare: float = 0.0         # the bare app's requests/s, measured just before this scenario


class Shop:
    """A fresh shop and a bare app beside it, both under the same server: `flask --app merchant
    serve` (waitress, the worker inside: `make run`), or gunicorn with 2 processes and a
    `flask worker` beside it (deploy/merchant-web.service and merchant-worker@.service)."""

    def __init__(self, database_url: str | None, instance: str, server: str = "serve"):
        self.instance, self.server = instance, server
        self.database_url = database_url or f"sqlite:///{os.path.join(instance, 'bench.db')}"
        self.port, self.bare_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.bare = f"http://127.0.0.1:{self.bare_port}"
        self.env = dict(
            os.environ, MERCHANT_INSTANCE_PATH=instance, MERCHANT_SECRET_KEY="bench-secret",
            MERCHANT_SANDBOX_WEBHOOK_SECRET=SECRET, MERCHANT_DATABASE_URL=self.database_url,
            MERCHANT_PUBLIC_URL=self.base, MERCHANT_RATELIMIT_VERIFY='"1000000 per minute"',
            MERCHANT_RATELIMIT_TRACK='"1000000 per minute"',
            # One client and one account press Buy thousands of times: Buy's limits (per
            # client, per account) would answer 429s, which is not what is measured here.
            MERCHANT_RATELIMIT_ORDER='"1000000 per minute"',
            MERCHANT_RATELIMIT_ORDER_ACCOUNT='"1000000 per minute"',
            # The burst comes from one address faster than a vendor sends (1,200 a minute).
            MERCHANT_RATELIMIT_WEBHOOK='"1000000 per minute"', PYTHONUNBUFFERED="1",
        )
        self.processes: list[subprocess.Popen] = []

    def __enter__(self):
        if self.database_url.startswith("postgresql"):
            engine = sa.create_engine(self.database_url)
            meta = sa.MetaData()
            meta.reflect(engine)
            meta.drop_all(engine)
            engine.dispose()
        flask = [sys.executable, "-m", "flask", "--app", "merchant"]
        subprocess.run(flask + ["seed-demo"], env=self.env, cwd=ROOT, check=True,
                       capture_output=True)
        if self.server == "gunicorn":
            gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind"]
            self._start(gunicorn + [f"127.0.0.1:{self.port}", "wsgi:app"], "shop.log")
            self._start(flask + ["worker"], "worker.log")
            self._start(gunicorn + [f"127.0.0.1:{self.bare_port}", "--chdir", BENCH,
                                    "bare_app:app"], "bare.log")
        else:
            self._start(flask + ["serve", "--port", str(self.port)], "shop.log")
            self._start([sys.executable, os.path.join(BENCH, "bare_app.py"),
                         str(self.bare_port)], "bare.log")
        for base, path in ((self.base, "/healthz"), (self.bare, "/")):
            _wait_for(base + path)
        return self

    def _start(self, command: list[str], log: str) -> None:
        out = open(os.path.join(self.instance, log), "wb")
        self.processes.append(subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=out,
                                               stderr=subprocess.STDOUT))
        out.close()

    def __exit__(self, *exc):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


class Customer:
    """A browser session that buys through the shop's real pages."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Accept-Encoding"] = ENCODINGS
        page = self.get(f"/p/{SLUG}").text
        self.package = re.search(
            rf'name="package" value="(\d+)"[^>]*>\s*<span[^>]*>{PACKAGE}', page)
        self.package = self.package.group(1) if self.package else \
            re.search(r'name="package" value="(\d+)"', page).group(1)
        self.token = self.verify()

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(self.base + path, **kwargs)
        response.raise_for_status()
        return response

    def verify(self) -> str:
        response = self.http.post(self.base + f"/p/{SLUG}/verify", data={"username": "bencher"},
                                  headers={"HX-Request": "true", **SAME_ORIGIN})
        response.raise_for_status()
        return re.search(r'name="verification_token" value="([^"]+)"', response.text).group(1)

    def order_form(self, key: str) -> dict:
        return {"username": "bencher", "verification_token": self.token,
                "package": self.package, "method": METHOD, "email": "bench@example.com",
                "idempotency_key": key}

    def buy(self) -> str:
        response = self.http.post(self.base + f"/p/{SLUG}/order",
                                  data=self.order_form(os.urandom(8).hex()), headers=SAME_ORIGIN)
        response.raise_for_status()
        return re.search(r"/o/([A-Z0-9]+)", response.url).group(1)

    def pay(self, ref: str) -> None:
        page = self.get(f"/o/{ref}").text
        gateway_ref = re.search(r"/sandbox/pay/([\w-]+)", page).group(1)
        pay_page = self.get(f"/sandbox/pay/{gateway_ref}").text    # keeps Flask-WTF's token
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', pay_page).group(1)
        self.http.post(self.base + f"/sandbox/pay/{gateway_ref}", headers=SAME_ORIGIN,
                       data={"action": "pay", "csrf_token": csrf}).raise_for_status()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = self.http.get(self.base + f"/o/{ref}/status?since=awaiting_payment",
                                   headers={"HX-Request": "true"})
            if status.status_code == 286:
                return
            time.sleep(0.1)
        raise SystemExit(f"order {ref} was not delivered within 60 s")

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)


def run_wrk(scenario: Scenario, base: str, seconds: int, connections: int,
            workdir: str) -> Result:
    headers_file = os.path.join(workdir, f"{scenario.name}.headers")
    with open(headers_file, "w") as out:
        out.writelines(f"{k}: {v}\n" for k, v in scenario.headers.items())
    env = dict(os.environ, BENCH_METHOD=scenario.method, BENCH_HEADERS=headers_file,
               BENCH_EXPECT=str(scenario.expect), BENCH_BODY_HEADER=scenario.body_header,
               BENCH_BODIES="")
    if scenario.bodies:
        env["BENCH_BODIES"] = os.path.join(workdir, f"{scenario.name}.bodies")
        with open(env["BENCH_BODIES"], "w") as out:
            out.writelines(body + "\n" for body in scenario.bodies)
    url = (scenario.base or base) + scenario.path
    script = os.path.join(BENCH, "scenario.lua")

    def wrk(duration: int) -> dict:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
             "-s", script, url], env=env, capture_output=True, text=True)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
        if line is None:
            raise SystemExit(f"wrk gave no figures for {scenario.name}:\n{done.stdout}"
                             f"{done.stderr}")
        return json.loads(line[len("BENCH "):])

    if scenario.warm:
        wrk(1)
    figures = wrk(seconds)
    return Result(scenario.name, figures["requests"] / (figures["duration_us"] / 1e6),
                  figures["p50_us"] / 1000, figures["p95_us"] / 1000, figures["p99_us"] / 1000,
                  figures["unexpected"], figures["socket_errors"])


def callbacks(database_url: str, limit: int = 20_000) -> list[str]:
    """Signed sandbox 'paid' callbacks for the orders still awaiting payment."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT ref, gateway_ref, total, currency FROM orders "
            "WHERE status = 'awaiting_payment' AND gateway_ref IS NOT NULL LIMIT :n"),
            {"n": limit}).all()
    engine.dispose()
    lines = []
    for number, (ref, gateway_ref, total, currency) in enumerate(rows):
        body = json.dumps({"event_id": f"bench-{number}", "order_ref": ref,
                           "gateway_ref": gateway_ref, "status": "paid", "amount": total,
                           "currency": currency}).encode()
        lines.append(f"{sandbox.sign(SECRET, body)}\t{body.decode()}")
    return lines


def measure(shop: Shop, seconds: int, connections: int, only: set[str]) -> list[Result]:
    customer = Customer(shop.base)
    waiting = customer.buy()
    final = customer.buy()
    customer.pay(final)
    customer.get("/")
    catalog = customer.get("/").text
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', catalog).group(1)
    browser = {"Accept-Encoding": ENCODINGS, "Cookie": customer.cookie}
    # Someone arriving from a link: no cookie, nothing cached; then the same visitor again,
    # sending back the ETag their browser kept.
    first_visit = {"Accept-Encoding": ENCODINGS}
    tags = {path: requests.get(shop.base + path, headers=first_visit).headers["ETag"]
            for path in ("/", f"/p/{SLUG}")}
    htmx = dict(browser, **{"HX-Request": "true"})
    post = dict(browser, **SAME_ORIGIN, **{"Content-Type": "application/x-www-form-urlencoded"})
    order = urlencode(customer.order_form("bench{n}"))
    scenarios = [
        Scenario("bare flask", "/", 200, base=shop.bare),
        Scenario("static file", stylesheet, 200, headers={"Accept-Encoding": ENCODINGS}),
        Scenario("catalog", "/", 200, headers=first_visit),
        Scenario("product", f"/p/{SLUG}", 200, headers=first_visit),
        Scenario("catalog 304", "/", 304, headers=dict(first_visit, **{
            "If-None-Match": tags["/"]})),
        Scenario("product 304", f"/p/{SLUG}", 304, headers=dict(first_visit, **{
            "If-None-Match": tags[f"/p/{SLUG}"]})),
        Scenario("verify", f"/p/{SLUG}/verify", 200, "POST", dict(post, **{"HX-Request": "true"}),
                 ["username=bencher"]),
        Scenario("order creation", f"/p/{SLUG}/order", 303, "POST", post, [order]),
        # Not budgeted: the bare app making the poll's one-row SELECT, what the read alone costs.
        Scenario("bare flask + the read", f"/o/{waiting}/status", 200, base=shop.bare),
        Scenario("poll unchanged", f"/o/{waiting}/status?since=awaiting_payment", 200,
                 headers=htmx),
        Scenario("poll final", f"/o/{final}/status?since=awaiting_payment", 286, headers=htmx),
    ]
    workdir = tempfile.mkdtemp(prefix="wrk-", dir=shop.instance)
    yardstick, rest = scenarios[0], scenarios[1:]

    def paired(scenario: Scenario) -> Result:
        # The machine's load moves: each scenario is compared with the bare app measured
        # right before it.
        bare = run_wrk(yardstick, shop.base, seconds, connections, workdir)
        result = run_wrk(scenario, shop.base, seconds, connections, workdir)
        result.bare = bare.rps
        return result

    results = [run_wrk(yardstick, shop.base, seconds, connections, workdir)]
    results[0].bare = results[0].rps
    wanted = only | {"static file"} | ({"bare flask + the read"} if "poll unchanged" in only
                                       else set())
    results += [paired(s) for s in rest if not only or s.name in wanted]
    if not only or "webhook burst" in only:
        burst = Scenario("webhook burst", "/webhooks/sandbox", 200, "POST",
                         {"Content-Type": "application/json"}, callbacks(shop.database_url),
                         body_header=sandbox.SIGNATURE_HEADER, warm=False)
        results.append(paired(burst))
    return results


@dataclass
class Weight:
    page: str
    bytes: int
    assets: int
    refetched: list[str]
    revalidated: bool         # the HTML itself: a 304 for the ETag of the first visit


def first_load(base: str, path: str) -> Weight:
    """The bytes a first visit transfers (HTML and every asset it names, headers included),
    the assets a repeat visit would fetch again (not cached as immutable for a year), and
    whether the HTML comes back as a 304 on a repeat visit."""
    host = urlsplit(base)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=10)

    def fetch(url: str, **headers) -> tuple[int, http.client.HTTPResponse, bytes]:
        connection.request("GET", url, headers={"Accept-Encoding": ENCODINGS, **headers})
        response = connection.getresponse()
        body = response.read()
        head = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
        return head + len(body), response, body

    size, response, body = fetch(path)
    html = _decode(body, response.getheader("Content-Encoding"))
    tag = response.getheader("ETag")
    revalidated = bool(tag) and fetch(path, **{"If-None-Match": tag})[1].status == 304
    urls = sorted(set(re.findall(r'<(?:link|script|img)[^>]+(?:href|src)="(/[^"]+)"', html)))
    total, refetched = size, []
    for url in urls:
        size, response, _ = fetch(url)
        total += size
        cache = response.getheader("Cache-Control") or ""
        age = re.search(r"max-age=(\d+)", cache)
        if "immutable" not in cache or not age or int(age.group(1)) < YEAR:
            refetched.append(url)
    connection.close()
    return Weight(path, total, len(urls), refetched, revalidated)


def _decode(body: bytes, encoding: str | None) -> str:
    if encoding == "br":
        import brotli
        body = brotli.decompress(body)
    elif encoding == "gzip":
        import gzip
        body = gzip.decompress(body)
    return body.decode()


def report(database: str, results: list[Result], weights: list[Weight]) -> list[str]:
    """Print the tables; return the budgets missed."""
    static = next(r for r in results if r.name == "static file").rps
    print(f"\n### {database}\n")
    print("| scenario | req/s | p50 ms | p95 ms | p99 ms | bare Flask just before | "
          "vs bare Flask | vs static file |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    misses = []
    for r in results:
        odd = f" ({r.unexpected} unexpected answers)" if r.unexpected else ""
        odd += f" ({r.errors} socket errors)" if r.errors else ""
        print(f"| {r.name}{odd} | {r.rps:,.0f} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | "
              f"{r.bare:,.0f} | {r.rps / r.bare:.0%} | {r.rps / static:.0%} |")
        budget = RATIO_BUDGETS.get(r.name)
        if budget and r.rps / r.bare < budget:
            misses.append(f"{database}: {r.name} at {r.rps / r.bare:.0%} of bare Flask "
                          f"(budget {budget:.0%})")
        if r.unexpected or r.errors:
            misses.append(f"{database}: {r.name} had {r.unexpected} unexpected answers and "
                          f"{r.errors} socket errors")
    named = {r.name: r for r in results}
    if {"poll unchanged", "bare flask + the read"} <= named.keys():
        read, poll = named["bare flask + the read"], named["poll unchanged"]
        print(f"\nThe same one-row SELECT holds the bare app to {read.rps / read.bare:.0%} of "
              f"itself; the shop's unchanged poll is {poll.rps / read.rps:.0%} of that.")
    print("\n| first load | bytes as served | assets | fetched again on a repeat visit | "
          "HTML on a repeat visit |")
    print("|---|---:|---:|---|---|")
    for w in weights:
        print(f"| {w.page} | {w.bytes:,} | {w.assets} | "
              f"{', '.join(w.refetched) or 'none (HTML only)'} | "
              f"{'304' if w.revalidated else 'sent again'} |")
        if not w.revalidated:
            misses.append(f"{database}: a repeat visit to {w.page} gets the whole HTML again")
        if w.bytes > FIRST_LOAD_BUDGET:
            misses.append(f"{database}: first load of {w.page} is {w.bytes:,} bytes "
                          f"(budget {FIRST_LOAD_BUDGET:,})")
        if w.refetched:
            misses.append(f"{database}: a repeat visit to {w.page} fetches "
                          f"{len(w.refetched)} assets again")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO",
                        help="measure this scenario (and the yardsticks) only; repeatable")
    parser.add_argument("--server", action="append", choices=("serve", "gunicorn"),
                        help="only under this server: serve (make run) or gunicorn (deploy/)")
    args = parser.parse_args()
    setups = [("SQLite, make run (waitress)", None, "serve"),
              ("SQLite, deploy/ (gunicorn, 2 processes)", None, "gunicorn")]
    if os.environ.get("MERCHANT_TEST_DATABASE_URL"):
        setups.append(("PostgreSQL, deploy/ (gunicorn, 2 processes)",
                       os.environ["MERCHANT_TEST_DATABASE_URL"], "gunicorn"))
    misses = []
    for name, url, server in setups:
        if args.server and server not in args.server:
            continue
        with tempfile.TemporaryDirectory(prefix="merchant-bench-") as instance, \
                Shop(url, instance, server) as shop:
            results = measure(shop, args.seconds, args.connections, set(args.only))
            weights = [first_load(shop.base, "/"), first_load(shop.base, f"/p/{SLUG}")]
            misses += report(name, results, weights)
    for miss in misses:
        print(f"MISSED: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
