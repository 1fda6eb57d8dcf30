"""The production WSGI server behind `flask --app merchant serve` (and so `make run`).

waitress: pure Python (nothing to compile), the same on Linux, macOS and Windows, maintained by
the Pylons project. It reads whole requests and buffers responses itself, so a slow phone
connection never holds one of the app's threads while it trickles bytes.
"""
from __future__ import annotations

from flask import Flask
from waitress import serve

THREADS = 8     # app threads; SQLite serialises writers anyway, PostgreSQL's pool is 5 + 10


def run(app: Flask, host: str, port: int, threads: int = THREADS) -> None:
    """Serve `app` until interrupted."""
    serve(app, host=host, port=port, threads=threads, ident="merchant")
