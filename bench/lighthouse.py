"""Lighthouse scores of the shop's product page and catalog, as a phone on a slow network sees
them (Lighthouse's default mobile preset: emulated Moto G Power, simulated slow 4G).

Serves the demo shop (`flask serve` on a fresh SQLite file, on a free port), runs Lighthouse
12.2.3 with Debian's Chromium on each page and prints the SEO, accessibility, performance and
best-practices scores (0-100); exits 1 when SEO or accessibility is under --min, or
performance under --min-performance (both 100 by default).

    bench/tools.sh          # once: Lighthouse 12.2.3 into .bench/ (git-ignored), wrk, chromium
    python bench/lighthouse.py [--lighthouse PATH] [--json DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [("product", "/p/mobile-legends"), ("catalog", "/")]
LANGS = ["en", "id"]
CATEGORIES = ["seo", "accessibility", "performance", "best-practices"]
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
DEFAULT_LIGHTHOUSE = os.path.join(ROOT, ".bench/lighthouse/node_modules/.bin/lighthouse")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_shop(instance: str, port: int) -> subprocess.Popen:
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, MERCHANT_INSTANCE_PATH=instance, MERCHANT_SECRET_KEY="bench",
               MERCHANT_SANDBOX_WEBHOOK_SECRET="bench", MERCHANT_PUBLIC_URL=base)
    flask = [sys.executable, "-m", "flask", "--app", "merchant"]
    subprocess.run(flask + ["seed-demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    shop = subprocess.Popen(flask + ["serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/robots.txt", timeout=1).close()
            return shop
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    shop.terminate()
    raise SystemExit("the shop did not start")


def scores(lighthouse: str, url: str, chrome: str, json_dir: str | None, name: str) -> dict:
    """Lighthouse's category scores for one page, 0-100."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(json_dir or tmp, f"lighthouse-{name}.json")
        subprocess.run([lighthouse, url, "--quiet", "--output=json", f"--output-path={report}",
                        f"--only-categories={','.join(CATEGORIES)}",
                        f"--chrome-flags={CHROME_FLAGS}"],
                       env=dict(os.environ, CHROME_PATH=chrome), check=True)
        with open(report) as file:
            result = json.load(file)
    failed = [audit["id"] for category in result["categories"].values()
              if category["id"] in ("seo", "accessibility")
              for ref in category["auditRefs"] if ref["weight"]
              for audit in [result["audits"][ref["id"]]] if audit["score"] not in (None, 1)]
    return {**{key: round(result["categories"][key]["score"] * 100) for key in CATEGORIES},
            "failed": failed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lighthouse", default=os.environ.get("LIGHTHOUSE", DEFAULT_LIGHTHOUSE))
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    parser.add_argument("--json", help="keep each page's Lighthouse report in this folder")
    parser.add_argument("--min", type=int, default=100,
                        help="lowest SEO and accessibility score that passes")
    parser.add_argument("--min-performance", type=int, default=100,
                        help="lowest performance score that passes (the budget: 100)")
    args = parser.parse_args()
    if args.json:
        os.makedirs(args.json, exist_ok=True)
    lighthouse = shutil.which(args.lighthouse)
    if lighthouse is None:
        raise SystemExit(f"Lighthouse not found at {args.lighthouse}: bench/tools.sh installs "
                         "it, or pass --lighthouse")
    if shutil.which(args.chrome) is None:
        raise SystemExit(f"Chromium not found at {args.chrome}: apt-get install -y chromium")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ok = True
    with tempfile.TemporaryDirectory() as instance:
        shop = start_shop(instance, port)
        try:
            print(f"{'page':<16} {'SEO':>4} {'a11y':>5} {'perf':>5} {'best':>5}  below 100")
            for name, path in PAGES:
                for lang in LANGS:
                    label = f"{name} ({lang})"
                    result = scores(lighthouse, f"{base}{path}?lang={lang}", args.chrome,
                                    args.json, f"{name}-{lang}")
                    print(f"{label:<16} {result['seo']:>4} {result['accessibility']:>5} "
                          f"{result['performance']:>5} {result['best-practices']:>5}  "
                          f"{' '.join(result['failed'])}", flush=True)
                    ok = ok and min(result["seo"], result["accessibility"]) >= args.min \
                        and result["performance"] >= args.min_performance
        finally:
            shop.terminate()
            shop.wait()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
