"""`make run` serves the shop with the production server (waitress), the worker inside."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading

import requests

from merchant import ROOT, serving
from tests.conftest import buy, make_app, order_ref


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


def test_an_unchanged_status_poll_keeps_the_connection(app, client):
    """waitress by itself closes the connection after every 204: a phone polling every 2 s
    would open a new connection (and a TLS handshake) each time."""
    ref = order_ref(buy(client, app))
    cookie = f"session={client.get_cookie('session').value}"
    served = serving.server(app, "127.0.0.1", 0, threads=2)
    thread = threading.Thread(target=served.run)
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", served.effective_port, timeout=30)
    try:
        answers, ports = [], set()
        for _ in range(3):
            connection.request("GET", f"/o/{ref}/status?since=awaiting_payment",
                               headers={"Cookie": cookie})
            ports.add(connection.sock.getsockname()[1])     # a new one after a close
            answer = connection.getresponse()
            answer.read()
            answers.append((answer.status, answer.getheader("Connection")))
        assert answers == [(204, None)] * 3
        assert len(ports) == 1

        connection.request("GET", f"/o/{ref}/status?since=awaiting_payment",
                           headers={"Cookie": cookie, "Connection": "close"})
        answer = connection.getresponse()
        assert (answer.status, answer.getheader("Connection")) == (204, "close")
    finally:
        connection.close()
        served.close()
        thread.join(10)
