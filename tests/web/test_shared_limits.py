"""Two web processes (deploy/ runs two) share one rate limit through Redis, as
deploy/merchant.env.example sets it: the limit holds for the shop, not per process. Needs the
Redis server at 127.0.0.1:6379."""
from __future__ import annotations

import contextlib
import sys
import uuid

import pytest
import requests

from tests import processes

pytestmark = pytest.mark.process

REDIS = "redis://127.0.0.1:6379/0"
LIMIT = 20


@contextlib.contextmanager
def web_processes(app, tmp_path, count: int, **settings):
    """`count` separate `flask --app merchant serve` processes on the same shop."""
    ports = [processes.free_port() for _ in range(count)]
    env = processes.environment(app, RATELIMIT_VERIFY=f"{LIMIT} per minute",
                                WTF_CSRF_ENABLED="false", **settings)
    started = [processes.Process([sys.executable, "-m", "flask", "--app", "merchant", "serve",
                                  "--port", str(port)], env, tmp_path / f"web{port}.log")
               for port in ports]
    try:
        for port, process in zip(ports, started, strict=True):
            processes.eventually(lambda port=port, process=process: processes.answers(port)
                                 or process.popen.poll() is not None, 30, "the shop to answer")
            assert process.popen.poll() is None, process.output()
        yield ports
    finally:
        for process in started:
            process.stop()


def test_two_web_processes_share_the_account_check_limit_through_redis(app, tmp_path):
    if not processes.answers(6379):
        pytest.skip("no Redis server at 127.0.0.1:6379 (apt install redis-server)")
    # A key prefix of its own: other tests (and runs) on the same Redis count apart.
    prefix = f"merchant-test-{uuid.uuid4().hex}"
    with web_processes(app, tmp_path, 2, RATELIMIT_STORAGE_URI=REDIS,
                       RATELIMIT_KEY_PREFIX=prefix) as ports:
        statuses = [requests.post(f"http://127.0.0.1:{ports[n % 2]}/p/tiktok-coins/verify",
                                  data={"username": "demo_user"},
                                  headers={"HX-Request": "true"}, timeout=30).status_code
                    for n in range(45)]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 45 - LIMIT
