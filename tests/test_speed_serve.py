"""`make run` serves the shop with the production server (waitress), the worker inside."""
from __future__ import annotations

import contextlib
import http.client
import sys
import threading

import processes
import pytest
import requests
from conftest import buy, make_app, order_ref

from merchant import serving


@pytest.mark.process
def test_serve_runs_the_production_server_with_the_worker(tmp_path):
    app = make_app(tmp_path)
    port = processes.free_port()
    server = processes.Process([sys.executable, "-m", "flask", "--app", "merchant", "serve"],
                               dict(processes.environment(app, LOG_FORMAT="text"),
                                    PORT=str(port)), tmp_path / "serve.log")
    try:
        processes.eventually(lambda: "Serving on http" in server.output(), 60,
                             "waitress has bound")
        catalog = requests.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert catalog.status_code == 200
        assert "Mobile Legends" in catalog.text
        assert catalog.headers["Server"] == "merchant"      # waitress, not Werkzeug
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert health.json()["database"] == "ok"
    finally:
        server.stop()
    output = server.output()
    assert "/admin/setup/" in output              # the one-time owner link
    assert "development server" not in output.lower()
    assert "Werkzeug" not in output


def test_an_unchanged_status_poll_keeps_the_connection(app, client):
    """waitress by itself closes the connection after every 204: a phone polling every 2 s
    would open a new connection (and a TLS handshake) each time."""
    ref = order_ref(buy(client, app))
    cookie = f"session={client.get_cookie('session').value}"
    served = serving.server(app, "127.0.0.1", 0, threads=2)
    def serve():
        with contextlib.suppress(OSError):     # its sockets closed under it on the way out
            served.run()

    thread = threading.Thread(target=serve)
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
