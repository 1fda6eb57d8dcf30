"""Spike: the most phone buyers at once the shop holds, in its production setups.

For each setup, a fresh demo shop is started as production runs it:

- postgresql: gunicorn with 2 processes (deploy/merchant-web.service) and 2 `flask worker`
  processes (merchant-worker@1, @2) on a new PostgreSQL database (bench_spike, dropped at the
  end), rate limits counted in Redis as deploy/merchant.env.example says (memory when no Redis
  answers on 127.0.0.1:6379);
- sqlite: `make run`'s server, `flask --app merchant serve` (waitress, the worker inside), on a
  new instance folder.

Then Locust (bench/locustfile.py, its own process) sends 5, 10, 20, 40 ... buyers at once, each
doing the whole phone journey again and again, for a short run per step. A step is held when
every request name's p95 is under 500 ms, no request or journey failed, and every order the
buyers created was delivered exactly once (checked afterwards in the database: delivered, one
move to each status; and in the worker's log: one sandbox supplier delivery per order). A step
missed only on a p95 is run once more (the machine is shared; see bench/README.md, Spike).
Stepping stops at the first step not held. Paid -> delivered (orders.paid_at to delivered_at)
is reported too.

The figure, per setup, is the most buyers held; it must be at least the one in
bench/spike_baseline.json, less its tolerance ("tolerance_rungs": steps of the ladder below it
that still pass), else the exit code is 1. --record writes the figures there instead.

    python bench/spike.py [--setups postgresql,sqlite] [--steps 5,10,20,40,80,160]
                          [--seconds 20] [--locust PATH] [--record] [--keep]
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench")
BASELINE = os.path.join(HERE, "spike_baseline.json")
LOCUSTFILE = os.path.join(HERE, "locustfile.py")
BIN = os.path.dirname(sys.executable)
SECRET = "bench-spike-secret"
P95_MS = 500
STEPS = (5, 10, 15, 20, 30, 40, 60, 80, 120, 160)
# One machine plays every buyer, all from 127.0.0.1: the per-address limits on account checks
# (20 a minute) and Buy presses (10 a minute) would refuse them after the first few journeys.
# Raised, not switched off, so each limited request still does its counting (in Redis for
# PostgreSQL, as in production). The per-account Buy limit is kept: every buyer has its own
# account.
LIMITS = {"RATELIMIT_VERIFY": "1000000 per minute", "RATELIMIT_ORDER": "1000000 per minute"}
POSTGRES_ADMIN_URL = os.environ.get("SPIKE_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATABASE = "bench_spike"
JOURNEY = "JOURNEY"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_average() -> str:
    return "/".join(f"{n:.1f}" for n in os.getloadavg())


class Shop:
    """One production setup on a fresh database, stopped (and its database dropped) on exit."""

    name = ""

    def __init__(self, folder: str):
        self.folder = folder
        self.logs = os.path.join(folder, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: list[tuple[subprocess.Popen, int]] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHANT_")}
        self.env.update(MERCHANT_SECRET_KEY=SECRET, MERCHANT_SANDBOX_WEBHOOK_SECRET=SECRET,
                        MERCHANT_PUBLIC_URL=self.base, MERCHANT_LOG_FORMAT="json",
                        MERCHANT_INSTANCE_PATH=os.path.join(folder, "instance"))
        self.env.update({f"MERCHANT_{key}": value for key, value in LIMITS.items()})
        self.database_url = ""
        self.notes: list[str] = []

    def __enter__(self) -> Shop:
        try:
            self.start()
            self._wait_healthy()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for process, stop in self.processes:
            if process.poll() is None:
                process.send_signal(stop)
        for process, _ in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()

    def flask(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "flask", "--app", "merchant", *args],
                       env=self.env, cwd=ROOT, check=True, capture_output=True)

    def spawn(self, argv: list[str], log: str, stop: int = signal.SIGINT) -> None:
        with open(os.path.join(self.logs, log), "wb") as out:
            process = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=out,
                                       stderr=subprocess.STDOUT)
        self.processes.append((process, stop))

    def _wait_healthy(self) -> None:
        """/healthz answers 200 once the web server is up and a worker has beaten."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            if any(p.poll() is not None for p, _ in self.processes):
                break
            time.sleep(0.2)
        raise SystemExit(f"{self.name}: the shop did not start; see {self.logs}")

    def log_lines(self) -> list[dict]:
        """Every JSON log line of every process."""
        lines = []
        for name in sorted(os.listdir(self.logs)):
            with open(os.path.join(self.logs, name), encoding="utf-8", errors="replace") as log:
                for line in log:
                    if line.startswith("{"):
                        with contextlib.suppress(ValueError):
                            lines.append(json.loads(line))
        return lines

    def tracebacks(self) -> int:
        count = 0
        for name in os.listdir(self.logs):
            with open(os.path.join(self.logs, name), encoding="utf-8", errors="replace") as log:
                count += log.read().count("Traceback")
        return count


class PostgresShop(Shop):
    name = "postgresql"
    setup = "gunicorn (2 processes) + 2 `flask worker`, PostgreSQL"
    # The server and the database the setup makes (bench/h2h_orders.py names its own).
    admin_url = POSTGRES_ADMIN_URL
    database = DATABASE

    def start(self) -> None:
        self._recreate_database()
        self.database_url = sa.make_url(self.admin_url).set(
            database=self.database).render_as_string(hide_password=False)
        self.env["MERCHANT_DATABASE_URL"] = self.database_url
        if _redis_answers():
            self.env.update(MERCHANT_RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                            MERCHANT_RATELIMIT_KEY_PREFIX=f"bench-spike-{os.getpid()}")
        else:
            self.notes.append("no Redis on 127.0.0.1:6379: rate limits counted in memory")
        # merchant-web.service: the schema first, then gunicorn; then the worker units.
        self.flask("upgrade")
        self.flask("seed-demo", "--if-empty")
        self.spawn([os.path.join(BIN, "gunicorn"), "--workers", "2", "--bind",
                    f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "20",
                    "wsgi:app"], "gunicorn.log", stop=signal.SIGTERM)
        for number in (1, 2):
            self.spawn([sys.executable, "-m", "flask", "--app", "merchant", "worker"],
                       f"worker-{number}.log")

    def _recreate_database(self, create: bool = True) -> None:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as db:
                db.execute(sa.text(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"))
                if create:
                    db.execute(sa.text(f"CREATE DATABASE {self.database}"))
        finally:
            engine.dispose()

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        if not os.environ.get("SPIKE_KEEP_DATABASE"):
            self._recreate_database(create=False)


class SqliteShop(Shop):
    name = "sqlite"
    setup = "`flask serve` (waitress, the worker inside), SQLite"

    def start(self) -> None:
        path = os.path.join(self.folder, "instance", "merchant.db")
        self.database_url = f"sqlite:///{path}"
        # `make run`: seed-demo --if-empty, then serve (instance/config.py holds the secrets
        # there; here they come from the environment, as MERCHANT_* values win anyway).
        self.flask("seed-demo", "--if-empty")
        self.spawn([sys.executable, "-m", "flask", "--app", "merchant", "serve", "--host",
                    "127.0.0.1", "--port", str(self.port)], "serve.log")


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class Step:
    users: int
    seconds: int
    load_before: str = ""
    load_after: str = ""
    requests: int = 0
    rps: float = 0.0
    failures: int = 0
    failure_kinds: list[str] = field(default_factory=list)
    p95: dict[str, float] = field(default_factory=dict)
    journeys: int = 0
    orders: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    paid_to_delivered_ms: list[float] = field(default_factory=list)

    @property
    def slow(self) -> dict[str, float]:
        return {name: ms for name, ms in self.p95.items() if ms >= P95_MS}

    @property
    def held(self) -> bool:
        return not self.slow and not self.failures and not self.problems

    @property
    def only_slow(self) -> bool:
        return bool(self.slow) and not self.failures and not self.problems

    def summary(self) -> dict:
        times = sorted(self.paid_to_delivered_ms)
        return {
            "buyers": self.users, "seconds": self.seconds, "held": self.held,
            "requests": self.requests, "requests_per_s": round(self.rps, 1),
            "errors": self.failures, "p95_ms": self.p95, "orders": self.orders["created"],
            "delivered_once": self.orders["delivered once"], "problems": self.problems,
            "paid_to_delivered_ms": {"p50": round(statistics.median(times)),
                                     "p95": round(percentile(times, 95))} if times else None,
            "load_average": {"before": self.load_before, "after": self.load_after},
        }


def percentile(ordered: list[float], pct: float) -> float:
    return ordered[max(0, round(pct / 100 * len(ordered)) - 1)]


def run_locust(shop: Shop, locust: str, users: int, seconds: int, folder: str,
               label: str) -> tuple[str, str]:
    """A headless Locust run against `shop`; the paths of its stats (JSON) and orders file."""
    prefix = os.path.join(folder, label)
    orders = prefix + "-orders.tsv"
    env = dict(os.environ, SPIKE_ORDERS_FILE=orders,
               SPIKE_FAILURES_FILE=prefix + "-failures.txt")
    argv = [locust, "-f", LOCUSTFILE, "--headless", "--host", shop.base, "-u", str(users),
            "-r", str(users), "-t", f"{seconds}s", "--stop-timeout", "90", "--json-file", prefix,
            "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    with open(prefix + "-locust.log", "wb") as log:
        subprocess.run(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                       check=True, timeout=seconds + 180)
    return prefix + ".json", orders


def read_stats(step: Step, stats_json: str, failures_file: str) -> None:
    """Locust's final figures (its JSON file, written after the last journey ended: the CSV is
    written when the run time is up, before the journeys that were under way have finished)."""
    with open(stats_json) as saved:
        entries = json.load(saved)
    started = min((e["start_time"] for e in entries), default=0)
    ended = max((e["last_request_timestamp"] or 0 for e in entries), default=0)
    for entry in entries:
        step.failures += entry["num_failures"]
        if entry["method"] == JOURNEY:
            continue
        step.requests += entry["num_requests"]
        if entry["num_requests"]:
            times = {int(ms): n for ms, n in entry["response_times"].items()}
            step.p95[entry["name"]] = bucket_percentile(times, 95)
    step.rps = step.requests / (ended - started) if ended > started else 0.0
    if os.path.exists(failures_file):
        with open(failures_file, encoding="utf-8") as lines:
            kinds = Counter(line.rstrip("\n") for line in lines)
        step.failure_kinds = [f"{n}x {kind}" for kind, n in kinds.most_common()]


def bucket_percentile(times: dict[int, int], pct: float) -> float:
    """The response time (ms, Locust's buckets) that pct % of the requests were within."""
    needed = math.ceil(sum(times.values()) * pct / 100)
    seen = 0
    for ms in sorted(times):
        seen += times[ms]
        if seen >= needed:
            return ms
    return max(times)


def check_orders(shop: Shop, step: Step, orders_file: str) -> None:
    """Every order the buyers created: delivered, one move to each status, one sandbox
    supplier delivery (its "success" line in the worker's log, which carries the order's ref:
    the supplier's own books are in each worker process's memory)."""
    seen: dict[str, set[str]] = {}
    if os.path.exists(orders_file):
        with open(orders_file, encoding="utf-8") as lines:
            for line in lines:
                ref, what = line.split()
                seen.setdefault(ref, set()).add(what)
    refs = sorted(seen)
    step.orders["created"] = len(refs)
    step.orders["paid"] = sum("paid" in s for s in seen.values())
    step.orders["seen delivered"] = sum("delivered" in s for s in seen.values())
    supplier = Counter(line.get("ref") for line in shop.log_lines()
                       if "Sandbox supplier: success" in str(line.get("message", "")))
    if not refs:
        step.problems.append("no order was created")
        return
    engine = sa.create_engine(shop.database_url)
    try:
        with engine.connect() as db:
            rows = db.execute(sa.text(
                "SELECT ref, status, paid_at, delivered_at FROM orders WHERE ref IN :refs"
            ).bindparams(sa.bindparam("refs", expanding=True)), {"refs": refs}).all()
            moves = db.execute(sa.text(
                "SELECT o.ref, e.to_status, count(*) FROM order_events e JOIN orders o "
                "ON o.id = e.order_id WHERE o.ref IN :refs AND e.to_status IS NOT NULL "
                "GROUP BY o.ref, e.to_status"
            ).bindparams(sa.bindparam("refs", expanding=True)), {"refs": refs}).all()
    finally:
        engine.dispose()
    expected = {"awaiting_payment": 1, "paid": 1, "fulfilling": 1, "delivered": 1}
    per_order: dict[str, dict[str, int]] = {ref: {} for ref in refs}
    for ref, to_status, count in moves:
        per_order[ref][to_status] = count
    by_ref = {row.ref: row for row in rows}
    once = 0
    for ref in refs:
        row = by_ref.get(ref)
        if row is None:
            step.problems.append(f"{ref}: not in the database")
            continue
        wrong = []
        if row.status != "delivered":
            wrong.append(f"status {row.status}")
        if per_order[ref] != expected:
            wrong.append(f"moves {per_order[ref]}")
        if supplier[ref] != 1:
            wrong.append(f"{supplier[ref]} supplier deliveries")
        if wrong:
            step.problems.append(f"{ref}: " + ", ".join(wrong))
        else:
            once += 1
        if row.paid_at and row.delivered_at:
            paid_at, delivered_at = (_moment(row.paid_at), _moment(row.delivered_at))
            step.paid_to_delivered_ms.append((delivered_at - paid_at).total_seconds() * 1000)
    step.orders["delivered once"] = once
    if step.orders["paid"] != len(refs):
        step.problems.append(f"{len(refs) - step.orders['paid']} orders created but not paid "
                             "(a journey cut short)")


def _moment(value) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def run_step(shop: Shop, locust: str, users: int, seconds: int, folder: str,
             label: str) -> Step:
    step = Step(users, seconds, load_before=load_average())
    tracebacks = shop.tracebacks()
    stats, orders = run_locust(shop, locust, users, seconds, folder, label)
    step.load_after = load_average()
    read_stats(step, stats, stats.replace(".json", "-failures.txt"))
    check_orders(shop, step, orders)
    new_tracebacks = shop.tracebacks() - tracebacks
    if new_tracebacks:
        step.problems.append(f"{new_tracebacks} tracebacks in the shop's logs ({shop.logs})")
    return step


def describe(step: Step) -> str:
    worst = max(step.p95.items(), key=lambda item: item[1], default=("-", 0))
    times = sorted(step.paid_to_delivered_ms)
    paid = (f"{statistics.median(times):.0f} / {percentile(times, 95):.0f}" if times else "-")
    verdict = "held" if step.held else "NOT held"
    return (f"| {step.users} | {step.requests} | {step.rps:.1f} | {step.failures} | "
            f"{worst[1]:.0f} ({worst[0]}) | {step.orders['created']} | "
            f"{step.orders['delivered once']} | {paid} | {step.load_before} -> "
            f"{step.load_after} | {verdict} |")


def spike(shop_class, locust: str, steps: list[int], seconds: int, keep: str | None) -> dict:
    folder = tempfile.mkdtemp(prefix=f"spike-{shop_class.name}-")
    held = 0
    results = []
    print(f"\n## {shop_class.name}: {shop_class.setup}\n", flush=True)
    try:
        with shop_class(folder) as shop:
            for note in shop.notes:
                print(f"({note})")
            # Every route once in both processes before anything counts.
            warm = run_step(shop, locust, 2, 10, folder, "warm-up")
            if warm.failures or warm.problems:
                print("(the warm-up failed:)")
                _explain(warm)
            print("| buyers | requests | req/s | errors | worst p95 ms (request) | orders | "
                  "delivered once | paid -> delivered p50 / p95 ms | load average before -> "
                  "after | |")
            print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
            for users in steps:
                step = run_step(shop, locust, users, seconds, folder, f"u{users}")
                print(describe(step), flush=True)
                if step.only_slow:
                    # A shared machine's noise: the same step once more, held if it holds.
                    print(f"(p95 over {P95_MS} ms at {users}: "
                          f"{_format(step.slow)}; running the step once more)", flush=True)
                    results.append({**step.summary(), "rerun": True})
                    step = run_step(shop, locust, users, seconds, folder, f"u{users}-again")
                    print(describe(step), flush=True)
                results.append(step.summary())
                if not step.held:
                    _explain(step)
                    break
                held = users
    finally:
        if keep:
            print(f"(logs and CSV kept in {folder})")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{shop_class.name}: held {held} buyers at once", flush=True)
    return {"held": held, "setup": shop_class.setup, "steps": results}


def _format(times: dict[str, float]) -> str:
    return ", ".join(f"{name} {ms:.0f} ms" for name, ms in times.items())


def _explain(step: Step) -> None:
    if step.slow:
        print(f"- p95 over {P95_MS} ms: {_format(step.slow)}")
    for kind in step.failure_kinds[:10]:
        print(f"- failed: {kind}")
    for problem in step.problems[:10]:
        print(f"- {problem}")
    if len(step.problems) > 10:
        print(f"- ... {len(step.problems) - 10} more")


def find_locust(given: str | None) -> str:
    for candidate in (given, os.environ.get("LOCUST"), os.path.join(BIN, "locust"),
                      shutil.which("locust")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("Locust is not installed: pip install -e '.[bench]' (or 'locust>=2.32,<3' "
                     "in a venv of its own, then --locust PATH or LOCUST=PATH).")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", default="postgresql,sqlite")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)))
    parser.add_argument("--seconds", type=int, default=20, help="each step's run")
    parser.add_argument("--locust", help="the locust command (default: the venv's)")
    parser.add_argument("--record", action="store_true",
                        help=f"write the figures to {os.path.relpath(BASELINE, ROOT)}")
    parser.add_argument("--keep", action="store_true", help="keep the logs and Locust's CSV")
    args = parser.parse_args()
    locust = find_locust(args.locust)
    version = subprocess.run([locust, "--version"], capture_output=True, text=True).stdout
    shops = {cls.name: cls for cls in (PostgresShop, SqliteShop)}
    names = [name.strip() for name in args.setups.split(",") if name.strip()]
    steps = [int(n) for n in args.steps.split(",")]
    print(f"Spike: phone buyers at once, {args.seconds} s per step, held while every request's "
          f"p95 < {P95_MS} ms, 0 errors, every order delivered once "
          f"({version.split(' from ')[0].strip()}; load average {load_average()}, "
          f"{os.cpu_count()} cores)")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print("(Other work is loading this machine: the figures come out lower, by a factor "
              "of 2-6 at load averages of 6-15 on 2 cores; see bench/README.md, Spike.)")
    others = os.getloadavg()[0]     # before anything of ours runs
    figures = {name: spike(shops[name], locust, steps, args.seconds, args.keep)
               for name in names}
    if args.record:
        record(figures, args.seconds)
        return 0
    return compare(figures, busy=others > (os.cpu_count() or 1))


def record(figures: dict, seconds: int) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    baseline = {}
    if os.path.exists(BASELINE):
        with open(BASELINE) as old:
            baseline = json.load(old)
    for name, figure in figures.items():
        baseline[name] = {"held": figure["held"], "setup": figure["setup"],
                          "measured": dt.date.today().isoformat(), "commit": commit,
                          "seconds_per_step": seconds, "steps": figure["steps"]}
    baseline.setdefault("tolerance_rungs", 1)
    with open(BASELINE, "w") as out:
        json.dump(baseline, out, indent=1, sort_keys=True)
        out.write("\n")
    print(f"\nRecorded in {os.path.relpath(BASELINE, ROOT)}")


def allowed(before: int, rungs: int) -> int:
    """The fewest buyers that still pass against `before`: `rungs` steps of the ladder
    below it (the noise of a shared machine; bench/README.md, Spike)."""
    lower = [n for n in STEPS if n < before]
    return lower[-rungs] if rungs and len(lower) >= rungs else (0 if rungs else before)


def compare(figures: dict, busy: bool = False) -> int:
    if not os.path.exists(BASELINE):
        print(f"\nNo {os.path.relpath(BASELINE, ROOT)} to compare with (--record writes it).")
        return 1
    with open(BASELINE) as saved:
        baseline = json.load(saved)
    rungs = int(baseline.get("tolerance_rungs", 0))
    missed = []
    print(f"\n| setup | buyers held | before | at least (tolerance: {rungs} step) | |\n"
          "|---|---|---|---|---|")
    for name, figure in figures.items():
        before = baseline.get(name, {}).get("held")
        least = allowed(before, rungs) if before is not None else None
        ok = least is not None and figure["held"] >= least
        verdict = "ok" if ok else "MISSED"
        if ok and figure["held"] < before:
            verdict = "ok, within the tolerance: run it again on a quieter machine"
        print(f"| {name} | {figure['held']} | {before} | {least} | {verdict} |")
        if not ok:
            missed.append(name)
    if missed:
        print(f"\nFewer buyers held than before on {', '.join(missed)}")
        if busy:
            print("The machine was busy before the run started (load average above its "
                  "cores): the figures fall by a factor of 2-6 then. Run it again on a quiet "
                  "machine before believing this.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
