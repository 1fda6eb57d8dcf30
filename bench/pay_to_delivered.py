"""Measures what a customer feels on the embedded default shop.

1. Pay -> Delivered: the time from pressing Pay on the sandbox checkout to the order's status
   block saying Delivered, over N purchases, against `serve` (dev server + worker thread) on a
   fresh SQLite file. Polls the status route every 50 ms; a browser polls every 2 s, so add up
   to 2 s for what a person sees.
2. First-load weight of the product page: the HTML plus every stylesheet, script and image it
   references, raw and gzip-compressed (what a mobile connection carries with compression on).

    python bench/pay_to_delivered.py [--purchases 20]
"""
from __future__ import annotations

import argparse
import gzip
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_shop(instance: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, MERCHANT_INSTANCE_PATH=instance, MERCHANT_SECRET_KEY="bench",
               MERCHANT_SANDBOX_WEBHOOK_SECRET="bench", MERCHANT_RATELIMIT_VERIFY='"10000/minute"')
    flask = [sys.executable, "-m", "flask", "--app", "merchant"]
    subprocess.run(flask + ["seed-demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    shop = subprocess.Popen(flask + ["serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return shop
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("the shop did not start")


def one_purchase(base: str) -> float:
    session = requests.Session()
    page = session.get(f"{base}/p/tiktok-coins").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    package = re.search(r'name="package" value="(\d+)"', page).group(1)
    check = session.post(f"{base}/p/tiktok-coins/verify", headers={"HX-Request": "true"},
                         data={"csrf_token": csrf, "username": "demo_user"}).text
    token = re.search(r'name="verification_token" value="([^"]+)"', check).group(1)
    order = session.post(f"{base}/p/tiktok-coins/order", data={
        "csrf_token": csrf, "username": "demo_user", "verification_token": token,
        "package": package, "method": "QRIS", "email": "bench@example.com",
        "idempotency_key": os.urandom(8).hex()})
    ref = re.search(r"/o/([A-Z0-9]+)", order.url).group(1)
    pay_url = base + re.search(r'href="(/sandbox/pay/[^"]+)"', order.text).group(1)
    pay_page = session.get(pay_url).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', pay_page).group(1)
    started = time.perf_counter()
    session.post(pay_url, data={"csrf_token": csrf, "action": "pay"}, allow_redirects=False)
    while "Delivered" not in session.get(f"{base}/o/{ref}/status").text:
        if time.perf_counter() - started > 30:
            raise SystemExit(f"order {ref} not delivered within 30 s")
        time.sleep(0.05)
    return time.perf_counter() - started


def page_weight(base: str, path: str) -> tuple[int, int, int]:
    html = requests.get(base + path).content
    assets = set(re.findall(rb'(?:href|src)="(/static/[^"]+)"', html))
    raw, packed = len(html), len(gzip.compress(html))
    for asset in assets:
        body = requests.get(base + asset.decode()).content
        raw += len(body)
        packed += len(gzip.compress(body))
    return raw, packed, len(assets) + 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--purchases", type=int, default=20)
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as instance:
        shop = start_shop(instance, port)
        try:
            times = sorted(one_purchase(base) for _ in range(args.purchases))
            raw, packed, requests_count = page_weight(base, "/p/tiktok-coins")
        finally:
            shop.terminate()
            shop.wait(10)
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    median = statistics.median(times)
    print(f"Pay -> Delivered over {len(times)} purchases: median {median * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")
    print(f"Product page first load: {requests_count} requests, {raw/1024:.1f} KiB raw, "
          f"{packed/1024:.1f} KiB gzip")


if __name__ == "__main__":
    main()
