"""Fixtures: the real app on a real database file (or PostgreSQL), a client, and buying helpers.

Set MERCHANT_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run
the whole suite against PostgreSQL instead of a fresh SQLite file per test. Under pytest-xdist
(`pytest -n 2`) each worker has a database of its own beside that one, `<name>_gw0`,
`<name>_gw1` ..., dropped and made again when the worker starts.

What every test's app would otherwise make again is made once per pytest process: the schema
with the demo catalog (copied into each test's database), compiled templates (a bytecode
cache), the browser (one Chromium, a new context per test); and admin passwords are hashed with
one pbkdf2 round instead of scrypt.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import threading

import catalogs
import flask
import pytest
import sqlalchemy as sa
from fakes.smtp import FakeSmtp
from jinja2 import FileSystemBytecodeCache
from pytest_httpserver import HTTPServer
from werkzeug.serving import make_server

from merchant import create_app
from merchant.core import clock as domain_clock
from merchant.core.extensions import db, limiter
from merchant.core.models import FIRST_CATALOG_VERSION, Order, Package, Product
from merchant.ops import demo, worker
from merchant.vendors.suppliers import sandbox as sandbox_supplier

# gw0, gw1 ... in a pytest-xdist worker; None in a plain `pytest` (and in xdist's controller).
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _worker_database(url: str | None) -> str | None:
    """The worker's own PostgreSQL database beside the one named: `test` -> `test_gw0`."""
    if not url or not XDIST_WORKER:
        return url
    parsed = sa.make_url(url)
    return parsed.set(database=f"{parsed.database}_{XDIST_WORKER}").render_as_string(
        hide_password=False)


TEST_DATABASE_URL = _worker_database(os.environ.get("MERCHANT_TEST_DATABASE_URL"))


def _make_worker_database() -> None:
    """Drop and make the worker's database, connected through the one named (which exists)."""
    named = sa.make_url(os.environ["MERCHANT_TEST_DATABASE_URL"])
    mine = sa.make_url(TEST_DATABASE_URL).database
    admin = sa.create_engine(named, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{mine}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{mine}"')
    admin.dispose()


def pytest_sessionstart(session):
    """An xdist worker's own database, new. Pages render from the compiled catalogs: a missing
    or stale .mo would test old words."""
    if TEST_DATABASE_URL and XDIST_WORKER:
        _make_worker_database()
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A shell starting the suite in the background ignores ^C for it, and the shop's
        # processes the tests start would inherit that: their ^C (how the tests, like the
        # systemd units, stop them) would do nothing, and they would live on, working.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    stale = catalogs.stale()
    if stale:
        pytest.exit("compile the translations first: make translations (or pybabel compile -d "
                    "merchant/translations -D 'messages wtforms'): " + ", ".join(stale),
                    returncode=1)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_app(tmp_path, **overrides):
    """The app on a fresh schema with the demo catalog."""
    app = bare_app(tmp_path, **overrides)
    with app.app_context():
        # What demo.seed() reads besides the code: the shop's language (it writes the catalog
        # and the methods' names in it) and the translations.
        _seeded_database((app.config["DEFAULT_LOCALE"],
                          app.config.get("BABEL_TRANSLATION_DIRECTORIES")))
    return app


class Run:
    """What the apps of this pytest process share (a folder of it; see run_wide below)."""
    folder = None
    templates: FileSystemBytecodeCache | None = None


@pytest.fixture(scope="session", autouse=True)
def run_wide(tmp_path_factory):
    """A folder for this pytest process (each xdist worker has its own): the compiled
    templates every app reads, and the seeded SQLite databases copied into each test's file."""
    Run.folder = tmp_path_factory.mktemp("run")
    (Run.folder / "jinja").mkdir()
    Run.templates = FileSystemBytecodeCache(str(Run.folder / "jinja"))
    yield
    Run.folder = Run.templates = None


def bare_app(tmp_path, **overrides):
    """The app on the test database as it is: no schema made, nothing seeded."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SANDBOX_WEBHOOK_SECRET": "test-sandbox-webhook-secret",
        "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'merchant.db'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_VERIFY": "1000 per minute",
        "RATELIMIT_TRACK": "1000 per minute",
        "RATELIMIT_ORDER": "1000 per minute",
        "RATELIMIT_ORDER_ACCOUNT": "1000 per minute",
        "RATELIMIT_WEBHOOK": "10000 per minute",
        "RATELIMIT_API_REFUSED": "1000 per minute",
        "PUBLIC_URL": "http://shop.test",
        # The suite reads the shop in English; tests of the languages choose theirs.
        "DEFAULT_LOCALE": "en",
        "SANDBOX_SUPPLIER_SLOW_SECONDS": 0.5,
        "SUPPLIER_PENDING_RECHECK_SECONDS": 0.1,
        # The resellers' callback receivers are pytest-httpserver on 127.0.0.1.
        "H2H_CALLBACK_PRIVATE_OK": True,
        # One round instead of scrypt's 50-100 ms a hash (config.check allows it in tests only).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }
    config.update(overrides)
    app = create_app(config, instance_path=str(tmp_path))
    if Run.templates is not None:
        app.jinja_env.bytecode_cache = Run.templates    # each app compiles none of them again
    _made.append(app)
    return app


# The demo shop as demo.seed() leaves it on a new schema, seeded once per pytest process (and
# language, translations) and copied for each app. SQLite: a database file copied with SQLite's
# backup API. PostgreSQL: the rows as COPY data and the sequences' positions, put back in place
# of every row. Either takes about 5 ms, against 0.05 s (SQLite) and 0.15 s (PostgreSQL) for
# drop_all + create_all + seed.
_seeded: dict[tuple, object] = {}   # (database URL or "sqlite", language, ...) -> the copy


def _seeded_database(seed: tuple) -> None:
    if db.engine.dialect.name == "postgresql":
        _seeded_postgresql(seed)
        return
    template = _seeded.get(("sqlite", *seed))
    path = db.engine.url.database
    db.engine.dispose()
    if template is None or Run.folder is None:
        db.drop_all()
        db.create_all()
        demo.seed()
        if Run.folder is not None:
            template = Run.folder / f"seeded-{len(_seeded)}.db"
            _copy_sqlite(path, template)
            _seeded[("sqlite", *seed)] = template
        return
    _copy_sqlite(template, path)


def _copy_sqlite(source, target) -> None:
    """The whole database, through SQLite (the target may be open in another app)."""
    with contextlib.closing(sqlite3.connect(source)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


# PostgreSQL: the schema is made once; a test that changed it (migrations, drop_all) changes its
# fingerprint, and the next app makes it afresh.
SCHEMA_FINGERPRINT = sa.text("""
    SELECT count(*) || ':' || sum(hashtext(c.relname || '.' || a.attname || ':'
                                           || a.atttypid::text || ':' || a.attnotnull::text))
           || ':' || (SELECT coalesce(sum(hashtext(conname || pg_get_constraintdef(oid))), 0)
                      FROM pg_constraint WHERE connamespace = 'public'::regnamespace)
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped""")
SEQUENCES = sa.text("SELECT sequencename, last_value FROM pg_sequences "
                    "WHERE schemaname = 'public' ORDER BY sequencename")
_made_schema: dict[str, str] = {}     # database URL -> its fingerprint right after create_all


def _seeded_postgresql(seed: tuple) -> None:
    url = db.engine.url.render_as_string()
    if url not in _made_schema or _made_schema[url] != db.session.scalar(SCHEMA_FINGERPRINT):
        db.session.rollback()
        db.drop_all()
        db.create_all()
        _made_schema[url] = db.session.scalar(SCHEMA_FINGERPRINT)
        db.session.commit()
    copy = _seeded.get((url, *seed))
    cursor = db.session.connection().connection.driver_connection.cursor()
    # Every row out, in one round trip; then the seeded rows and the sequences' positions.
    cursor.execute("".join(f'DELETE FROM "{table.name}";'
                           for table in reversed(db.metadata.sorted_tables)))
    if copy is None:
        for sequence in db.session.scalars(SEQUENCES).all():     # ids from 1, as in a new schema
            cursor.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
        db.session.execute(FIRST_CATALOG_VERSION)                # as create_all makes it
        db.session.commit()
        demo.seed()
        _seeded[(url, *seed)] = _copy_postgresql()
        return
    rows, positions = copy
    for statement, data in rows:
        with cursor.copy(statement) as copying:
            copying.write(data)
    cursor.execute(positions)
    cursor.close()
    db.session.commit()


def _copy_postgresql() -> tuple[list[tuple[str, bytes]], str]:
    """The seeded rows (a COPY FROM statement and its data for each table that has some) and a
    statement setting every sequence where the seed left it."""
    rows = []
    cursor = db.session.connection().connection.driver_connection.cursor()
    for table in db.metadata.sorted_tables:
        columns = ", ".join(f'"{column.name}"' for column in table.columns)
        with cursor.copy(f'COPY "{table.name}" ({columns}) TO STDOUT') as copying:
            data = b"".join(bytes(chunk) for chunk in copying)
        if data:
            rows.append((f'COPY "{table.name}" ({columns}) FROM STDIN', data))
    positions = "".join(
        f'ALTER SEQUENCE "{name}" RESTART;' if value is None
        else f"SELECT setval('\"{name}\"', {value});"
        for name, value in db.session.execute(SEQUENCES).all())
    cursor.close()
    db.session.commit()
    return rows, positions


def empty_database() -> None:
    """No table at all, as on a machine before the shop's first start (alembic_version
    included, which drop_all leaves)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    else:
        db.drop_all()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


_made: list = []


@pytest.fixture(autouse=True)
def close_apps():
    """Every app a test made gives its database connections back when the test ends, and the
    limiter forgets its default limit: it is one object for every app of the process and keeps
    the first default it is given (RATELIMIT_DEFAULT), which later tests' apps must not inherit."""
    yield
    while _made:
        made = _made.pop()
        with made.app_context():
            db.session.remove()
            db.engine.dispose()
    limiter.limit_manager.set_default_limits([])


@pytest.fixture
def clock():
    """A clock that stands still until the test advances it; every thread reads it."""
    with domain_clock.installed(domain_clock.FakeClock()) as fake:
        yield fake


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


class VendorServer(HTTPServer):
    """pytest-httpserver's server, knowing how many requests it is still answering."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.answering = 0
        self.changed = threading.Condition()

    def application(self, request):
        with self.changed:
            self.answering += 1
        try:
            return super().application(request)       # logs the request once answered
        finally:
            with self.changed:
                self.answering -= 1
                self.changed.notify_all()

    def clear_when_answered(self, seconds: float = 30) -> None:
        """Clear handlers and log once no request is being answered: a slow answer a test's
        client gave up on (a vendor timeout) is not logged into the next test's requests."""
        with self.changed:
            assert self.changed.wait_for(lambda: self.answering == 0, seconds), \
                "the fake vendor was still answering a request"
        self.clear()


@pytest.fixture(scope="module")
def threaded_server():
    """A vendor's fake server, threaded so a 'slow' handler does not block other requests
    (a timed-out request still sleeps while the retry is answered)."""
    server = VendorServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def vendor_server(threaded_server):
    """The threaded server with no handlers and an empty request log; a fake installs its own."""
    threaded_server.clear_when_answered()
    yield threaded_server
    threaded_server.clear_when_answered()


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 that keeps what it received (tests/fakes/smtp.py)."""
    server = FakeSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def fresh_sandbox_supplier():
    """The sandbox supplier's books are per process; each test starts with empty ones."""
    sandbox_supplier.LEDGER.__init__()
    yield


@contextlib.contextmanager
def flask_requests(app):
    """The requests Flask itself handled while the block ran (their paths): what a layer in
    front of Flask (the status poll) answered is not among them."""
    seen: list[str] = []

    def started(sender, **extra):
        seen.append(flask.request.path)

    flask.request_started.connect(started, app)
    try:
        yield seen
    finally:
        flask.request_started.disconnect(started, app)


def package_id(app, slug: str, name: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Package.id).join(Product).where(Product.slug == slug, Package.name == name)
        )


def verify(client, slug: str, **account) -> str:
    """Check an account through the verify route; returns the verification token."""
    response = client.post(f"/p/{slug}/verify", data=account, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    return re.search(r'name="verification_token" value="([^"]+)"', response.text).group(1)


def buy(client, app, slug="tiktok-coins", package="70 Coins", method="QRIS",
        email="buyer@example.com", key=None, **account):
    """Verify the account and press Buy. Returns the response (303 to the order page)."""
    account = account or {"username": "demo_user"}
    token = verify(client, slug, **account)
    form = {**account, "verification_token": token, "package": package_id(app, slug, package),
            "method": method, "email": email, "idempotency_key": key or os.urandom(8).hex()}
    return client.post(f"/p/{slug}/order", data=form)


def order_ref(response) -> str:
    assert response.status_code == 303, response.text
    return re.search(r"/o/([A-Z0-9]+)", response.headers["Location"]).group(1)


def get_order(app, ref: str) -> Order:
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        db.session.expunge(order)
        return order


def sandbox_pay(client, app, ref: str, action: str = "pay"):
    """Press a button on the sandbox gateway's pay page."""
    gateway_ref = get_order(app, ref).gateway_ref
    return client.post(f"/sandbox/pay/{gateway_ref}", data={"action": action})


def work(app, passes: int = 1) -> None:
    """Run the worker's jobs, as `flask worker` would, `passes` times."""
    for _ in range(passes):
        with app.app_context():
            worker.run_once()


def paid_order(client, app, username: str, status: str) -> str:
    """A TikTok order bought for `username`, paid on the sandbox and given one worker pass;
    asserts it reached `status` (usernames ending in `fail` fail their delivery)."""
    ref = order_ref(buy(client, app, username=username))
    sandbox_pay(client, app, ref)
    work(app)
    assert get_order(app, ref).status == status
    return ref


def failed_order(client, app, username="buyer_fail") -> str:
    """A paid order the sandbox supplier rejected."""
    return paid_order(client, app, username, "fulfillment_failed")


def delivered_order(client, app) -> str:
    return paid_order(client, app, "happy_gamer", "delivered")


def history(app, ref: str) -> list[tuple]:
    """The order's events as (from, to, source, detail)."""
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.ref == ref))
        return [(e.from_status, e.to_status, e.source, e.detail) for e in order.events]


def set_package(app, slug: str, name: str, **values) -> None:
    """Change a demo package (its supplier, SKU, cost, fallback ...) for a test."""
    with app.app_context():
        package = db.session.get(Package, package_id(app, slug, name))
        for key, value in values.items():
            setattr(package, key, value)
        db.session.commit()


def set_product(app, slug: str, **values) -> None:
    """Change a demo product (its verifier, allow_unverified ...) for a test."""
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.slug == slug))
        for key, value in values.items():
            setattr(product, key, value)
        db.session.commit()


ADMIN_PASSWORD = "correct horse battery"


def create_admin(app, email="owner@example.com", role="owner", password=ADMIN_PASSWORD) -> None:
    from merchant.staff import admins
    with app.app_context():
        admins.create(email, password, role)


def sign_in(client, email="owner@example.com", password=ADMIN_PASSWORD):
    """Sign in through the real form; returns the response (303 into the panel when it worked)."""
    return client.post("/admin/login", data={"email": email, "password": password})


@pytest.fixture
def owner(app):
    """A test client signed in as the shop's owner."""
    create_admin(app)
    client = app.test_client()
    assert sign_in(client).status_code == 303
    return client


@pytest.fixture
def staff(app):
    """A test client signed in as a staff admin (orders only)."""
    create_admin(app, "staff@example.com", role="staff")
    client = app.test_client()
    assert sign_in(client, "staff@example.com").status_code == 303
    return client


@contextlib.contextmanager
def served(app):
    """The app on a real port with one worker thread, as `make run` serves it; yields its URL.
    Both are stopped and joined on the way out."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    worker_thread, stop = worker.start_thread(app)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop.set()
        worker_thread.join(10)
        server.shutdown()
        thread.join(10)
        server.server_close()


CHROMIUM = os.environ.get("MERCHANT_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for this pytest process (each xdist worker starts its own)."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium):
    """The run's Chromium for one test: open contexts with browser.new_context(...); each is
    closed (its cookies, storage and pages gone) when the test ends."""
    yield chromium
    for context in chromium.contexts:
        context.close()


def pytest_collection_modifyitems(items):
    """A test that drives Chromium is a browser test: `-m "not browser"` leaves it out."""
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
