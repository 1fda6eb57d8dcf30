"""`make run` behind a reverse proxy: the embedded server (waitress) takes the customer's address
from the proxy's X-Forwarded-For when MERCHANT_PROXY_COUNT says a proxy is there, so each
customer has their own rate-limit bucket; without the setting a forged header counts for
nothing. The real server in a subprocess, a real forwarding proxy in the test."""
from __future__ import annotations

import contextlib
import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest

from tests import processes

pytestmark = pytest.mark.process

LIMIT = 3
CHECK = "/p/tiktok-coins/verify"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class ForwardingProxy(BaseHTTPRequestHandler):
    """What Caddy or nginx does, in short: pass the request on, adding the address the request
    came from to X-Forwarded-For."""

    upstream: tuple[str, int]

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        forwarded = self.headers.get("X-Forwarded-For")
        peer = self.client_address[0]
        headers["X-Forwarded-For"] = f"{forwarded}, {peer}" if forwarded else peer
        headers["X-Forwarded-Proto"] = "http"
        upstream = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def proxy_to(port: int):
    handler = type("Proxy", (ForwardingProxy,), {"upstream": ("127.0.0.1", port)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextlib.contextmanager
def shop(app, tmp_path, **settings):
    """`flask --app merchant serve` as `make run` starts it, with a small account-check limit."""
    port = processes.free_port()
    env = processes.environment(app, RATELIMIT_VERIFY=f"{LIMIT} per minute",
                                WTF_CSRF_ENABLED="false", **settings)
    server = processes.Process([sys.executable, "-m", "flask", "--app", "merchant", "serve",
                                "--port", str(port)], env, tmp_path / "serve.log")
    try:
        processes.eventually(lambda: processes.answers(port), 30, "the shop to answer")
        yield port
    finally:
        server.stop()


def check(port: int, client_address: str, forged: str | None = None) -> int:
    """One account check sent from `client_address` (any 127.x.y.z is this machine)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                            source_address=(client_address, 0))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"}
    if forged:
        headers["X-Forwarded-For"] = forged
    try:
        connection.request("POST", CHECK, body=urlencode({"username": "demo_user"}),
                           headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_behind_the_proxy_each_customer_has_their_own_limit(app, tmp_path):
    with shop(app, tmp_path, PROXY_COUNT=1) as port, proxy_to(port) as proxy:
        first = [check(proxy, "127.0.0.2") for _ in range(LIMIT + 1)]
        assert first == [200] * LIMIT + [429]
        # Another customer through the same proxy is not blocked by the first one.
        assert check(proxy, "127.0.0.3") == 200
        # The first cannot escape by sending their own X-Forwarded-For: the proxy appends
        # the address it saw, and only that last entry is trusted.
        assert check(proxy, "127.0.0.2", forged="198.51.100.9") == 429


def test_without_the_proxy_setting_a_forged_forwarded_for_is_ignored(app, tmp_path):
    with shop(app, tmp_path) as port:
        statuses = [check(port, "127.0.0.2", forged=f"198.51.100.{n}")
                    for n in range(LIMIT + 1)]
    assert statuses == [200] * LIMIT + [429]
