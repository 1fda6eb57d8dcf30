"""The production setup as subprocesses on the test's database: `flask --app merchant worker`
and gunicorn, configured through MERCHANT_* variables as systemd would (deploy/)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
PASSED_ON = ("SECRET_KEY", "SANDBOX_WEBHOOK_SECRET", "PUBLIC_URL", "DIGIFLAZZ_USERNAME",
             "DIGIFLAZZ_API_KEY", "DIGIFLAZZ_WEBHOOK_SECRET", "DIGIFLAZZ_API_URL")


def environment(app, **settings) -> dict[str, str]:
    """The app's database, instance folder and secrets, plus `settings`, as MERCHANT_* vars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHANT_")}
    env.update({f"MERCHANT_{key}": str(app.config[key]) for key in PASSED_ON
                if app.config.get(key) is not None})
    env.update(MERCHANT_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               MERCHANT_INSTANCE_PATH=app.instance_path, MERCHANT_LOG_FORMAT="json")
    env.update({f"MERCHANT_{key}": str(value) for key, value in settings.items()})
    return env


class Process:
    """A child process whose output goes to a log file (no pipe to fill up)."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path,
                 stop_signal: int = signal.SIGINT):
        self.log_path = log_path
        self.stop_signal = stop_signal
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log,
                                          stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL: no cleanup, no last commit, as when the machine loses power."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 30) -> int:
        """The signal its systemd unit stops it with, then SIGKILL if it does not end in
        time."""
        if self.popen.poll() is None:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.popen.returncode

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return log.read()

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def worker(app, log_path, **settings) -> Process:
    return Process([sys.executable, "-m", "flask", "--app", "merchant", "worker"],
                   environment(app, **settings), log_path)


def answers(port: int, address: str = "127.0.0.1") -> bool:
    """Something listens on `address`:`port`."""
    try:
        socket.create_connection((address, port), timeout=1).close()
    except OSError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(app, log_path, port: int, workers: int = 2, **settings) -> Process:
    return Process([os.path.join(BIN, "gunicorn"), "--workers", str(workers),
                    "--bind", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
                   environment(app, **settings), log_path,
                   # merchant-web.service: gunicorn's graceful stop, requests finish first
                   # (its SIGINT would cut them off mid-answer).
                   stop_signal=signal.SIGTERM)


def eventually(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    """Wait for another process to make `predicate` true (it can only be seen in the shared
    database); fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)
