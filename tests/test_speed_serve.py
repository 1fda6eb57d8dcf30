"""`make run` serves the shop with the production server (waitress), the worker inside."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import requests

from merchant import ROOT
from tests.conftest import make_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_the_production_server_with_the_worker(tmp_path):
    app = make_app(tmp_path)
    port = free_port()
    env = dict(os.environ, MERCHANT_INSTANCE_PATH=str(tmp_path), MERCHANT_SECRET_KEY="serve",
               MERCHANT_SANDBOX_WEBHOOK_SECRET="serve", PORT=str(port),
               MERCHANT_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "merchant", "serve"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not any("Serving on http" in line for line in lines):   # waitress has bound
            lines.append(server.stdout.readline())
            assert lines[-1], "".join(lines)
        catalog = requests.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert catalog.status_code == 200
        assert "Mobile Legends" in catalog.text
        assert catalog.headers["Server"] == "merchant"      # waitress, not Werkzeug
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert health.json()["database"] == "ok"
    finally:
        server.send_signal(signal.SIGINT)
        output = "".join(lines) + server.communicate(timeout=30)[0]
    assert "/admin/setup/" in output              # the one-time owner link
    assert "development server" not in output.lower()
    assert "Werkzeug" not in output
