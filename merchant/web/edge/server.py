"""The production WSGI server behind `flask --app merchant serve` (and so `make run`).

waitress: pure Python (nothing to compile), the same on Linux, macOS and Windows, maintained by
the Pylons project. It reads whole requests and buffers responses itself, so a slow phone
connection never holds one of the app's threads while it trickles bytes.
"""
from __future__ import annotations

import logging

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import create_server
from waitress.task import WSGITask

THREADS = 8     # app threads; SQLite serialises writers anyway, PostgreSQL's pool is 5 + 10


class _BodilessKeepAliveTask(WSGITask):
    """waitress 3.0 closes the connection after any answer without a Content-Length, so also
    after a 204 or 304, which by definition end at their headers and must not carry one. The
    status poll's answer is a 204 every 2 s per open order page: each would cost a new
    connection (a new TLS handshake for a phone when no proxy sits in front). HTTP/1.1
    bodiless answers keep the connection unless the client asked to close it."""

    _keep_alive = False

    def build_response_header(self):
        asked_to_close = self.request.headers.get("CONNECTION", "").lower() == "close"
        self._keep_alive = self.version == "1.1" and not self.has_body and not asked_to_close
        try:
            return super().build_response_header()
        finally:
            self._keep_alive = False

    def set_close_on_finish(self) -> None:
        if not self._keep_alive:
            super().set_close_on_finish()


class _Channel(HTTPChannel):
    task_class = _BodilessKeepAliveTask


# What a reverse proxy tells (werkzeug's ProxyFix reads the same four in web/guards.py).
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


def server(app: Flask, host: str, port: int, threads: int = THREADS):
    """The waitress server for `app`, bound and ready for .run() (.close() stops it)."""
    made = create_server(app, host=host, port=port, threads=threads, ident="merchant",
                         **proxy_settings(int(app.config.get("PROXY_COUNT") or 0)))
    made.channel_class = _Channel
    return made


def run(app: Flask, host: str, port: int, threads: int = THREADS) -> None:
    """Serve `app` until interrupted."""
    logging.basicConfig()       # as waitress.serve: its own messages need a handler
    made = server(app, host, port, threads)
    made.print_listen("Serving on http://{}:{}")
    try:
        made.run()
    except KeyboardInterrupt:
        pass
    finally:
        made.close()
