"""The yardstick: a bare Flask app answering a fixed string, under the shop's own server.

    python bench/bare_app.py PORT
"""
from __future__ import annotations

import os
import sys

from flask import Flask

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from merchant.web.edge import server  # noqa: E402

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"


if __name__ == "__main__":
    server.run(app, "127.0.0.1", int(sys.argv[1]))
