"""The production WSGI server behind `flask --app merchant serve` (and so `make run`).

waitress: pure Python (nothing to compile), the same on Linux, macOS and Windows, maintained by
the Pylons project. It reads whole requests and buffers responses itself, so a slow phone
connection never holds one of the app's threads while it trickles bytes. Only its public API
is used: waitress.serve and waitress.create_server with documented arguments.

Keep-alive and bodiless answers: waitress 3.0 closes the connection after any answer without a
Content-Length, so after every 204 and 304 (which must not carry one), while a 200 with
`Content-Length: 0` keeps it. So the order page's unchanged status poll, sent every 2 s by
every open order page, is an empty 200 that tells htmx to swap nothing (`HX-Reswap: none`,
web/order_pages.py), and the proxy in front (Caddy keeps its upstream connections) or the
phone itself keeps its connection between polls.
"""
from __future__ import annotations

import contextlib

import waitress
from flask import Flask

THREADS = 8     # app threads; SQLite serialises writers anyway, PostgreSQL's pool is 5 + 10
# Open connections waitress keeps (its default is 100). Every phone keeps its connection open
# between requests, so at 100 buyers the 101st waited a minute for a free one (bench/spike.py
# at 120 buyers); an idle connection costs waitress a socket and a few KB, not a thread. Kept
# well under 1024, the file descriptors select() can watch and a common per-process limit.
CONNECTION_LIMIT = 500

# What a reverse proxy tells (werkzeug's ProxyFix reads the same four in web/edge/__init__.py).
FORWARDED = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"}


def proxy_settings(proxies: int) -> dict:
    """waitress deletes X-Forwarded-* from every peer it was not told to trust, so behind a
    proxy ProxyFix would never see them and all customers would share the proxy's rate-limit
    bucket. With MERCHANT_PROXY_COUNT proxies in front it trusts the last that many entries,
    from any peer: the same trust as ProxyFix under gunicorn (the proxy is what reaches us;
    keep HOST at 127.0.0.1 behind one). Without proxies the headers stay deleted."""
    if not proxies:
        return {}
    return {"trusted_proxy": "*", "trusted_proxy_count": proxies,
            "trusted_proxy_headers": FORWARDED}


def settings(app: Flask, host: str, port: int, threads: int = THREADS) -> dict:
    """waitress's arguments for serving `app` (its documented settings)."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    return {"host": host, "port": port, "threads": threads, "ident": "merchant",
            "connection_limit": CONNECTION_LIMIT, **proxy_settings(proxies)}


def server(app: Flask, host: str, port: int, threads: int = THREADS):
    """The waitress server for `app`, bound and ready for .run() (.close() stops it)."""
    return waitress.create_server(app, **settings(app, host, port, threads))


def run(app: Flask, host: str, port: int, threads: int = THREADS) -> None:
    """Serve `app` until interrupted."""
    with contextlib.suppress(KeyboardInterrupt):
        waitress.serve(app, **settings(app, host, port, threads))
