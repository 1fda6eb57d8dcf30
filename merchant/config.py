"""Configuration: these defaults, then instance/config.py, then MERCHANT_* environment variables.

Every key below can be set as `MERCHANT_<KEY>` in the environment (values are parsed as JSON
where they look like JSON, so `MERCHANT_PAYMENT_EXPIRY_MINUTES=15` is a number).
"""
from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

import click
from flask import Flask

from merchant.vendors import registry

# Environment names that read better than the Flask-SQLAlchemy key they set.
ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}


class ConfigError(click.ClickException, RuntimeError):
    """The operator's configuration cannot work. The message says what to set.

    A ClickException too, so `flask --app merchant <command>` prints just the message (no
    traceback) and exits 1 when the app cannot be made.
    """


class Defaults:
    SECRET_KEY = None                       # required: signs sessions and verification tokens
    SQLALCHEMY_DATABASE_URI = None          # default: sqlite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}    # a server's pool pre-pings (load below)

    SHOP_NAME = "Merchant Top-Up"
    SHOP_TIMEZONE = "Asia/Jakarta"
    DEFAULT_LOCALE = "id"                   # the shop's language until its owner picks one: id, en
    PUBLIC_URL = "http://127.0.0.1:5000"    # base of callback and return URLs given to vendors

    GATEWAY = "sandbox"                     # serves every payment method without its own gateway
    SANDBOX_WEBHOOK_SECRET = None           # required while the sandbox gateway is in use
    SANDBOX_ENABLED = None                  # /sandbox pay pages; None: on while GATEWAY is sandbox

    PAYMENT_EXPIRY_MINUTES = 30
    VERIFICATION_MAX_AGE = 30 * 60          # seconds a verified account stays valid for Buy
    HTTP_TIMEOUT = 10                       # seconds, every call to a vendor

    WORKER_POLL_SECONDS = 1.0
    FULFILLMENT_LEASE_SECONDS = 60          # re-check a claimed order after this (its worker died)
    SUPPLIER_PENDING_RECHECK_SECONDS = 2
    SUPPLIER_RETRY_BASE_SECONDS = 15        # transient supplier errors: retry after 15, 30, 60 s
    SUPPLIER_MAX_ATTEMPTS = 8
    SANDBOX_SUPPLIER_SLOW_SECONDS = 5
    SUPPLIER_BALANCE_CHECK_SECONDS = 300    # how often the worker asks suppliers for the deposit
    OUTBOX_LEASE_SECONDS = 300              # a listener call longer than this may run twice
    OUTBOX_RETRY_BASE_SECONDS = 10          # a failed listener: again after 10, 20, 40 s ...
    OUTBOX_RETRY_MAX_SECONDS = 3600         # ... at most an hour apart
    OUTBOX_MAX_ATTEMPTS = 10                # then it is given up and left for the operator

    # The H2H API (merchant/h2h/): the replay window, each key's calls per minute unless the
    # owner sets another, the callbacks' timeout and pauses (then given up), how long the call
    # log is kept, and whether callbacks may go to private addresses (tests, a LAN reseller).
    H2H_REPLAY_WINDOW_SECONDS = 300
    H2H_RATE_PER_MINUTE = 120
    H2H_CALLBACK_TIMEOUT = 5
    H2H_CALLBACK_PAUSES = (60, 300, 900, 3600, 10800, 21600)
    H2H_CALLBACK_PRIVATE_OK = False
    H2H_CALL_LOG_DAYS = 14

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_VERIFY = "20 per minute"      # account checks per client IP
    RATELIMIT_TRACK = "10 per minute"       # order look-ups per client IP
    RATELIMIT_ADMIN_LOGIN = "10 per minute"  # admin sign-in attempts per client IP and per email
    RATELIMIT_ORDER = "10 per minute"       # Buy presses per client IP
    RATELIMIT_ORDER_ACCOUNT = "5 per minute"  # ... and per game account
    RATELIMIT_WEBHOOK = "1200 per minute"   # callbacks per sending address (vendors burst)
    RATELIMIT_API_REFUSED = "30 per minute"  # H2H calls refused for their key or signature, per IP
    PROXY_COUNT = 0                         # reverse proxies in front whose X-Forwarded-* to trust
    MAX_CONTENT_LENGTH = 1024 * 1024        # request bodies (the panel: UPLOAD_MAX_BYTES more)
    WEBHOOK_MAX_BYTES = 64 * 1024           # callback bodies, refused before they are read
    # Off: Flask-Limiter would put its Retry-After (the limit's reset) on every answer of a limited
    # route, a 503's own "5" included; a 429 gets one in web/guards.py.
    RATELIMIT_HEADERS_ENABLED = False
    # werkzeug's scrypt for admin passwords. Only the test suite sets a cheap method
    # ("pbkdf2:sha256:1"): refused unless TESTING, and admins.py reads it only while TESTING.
    PASSWORD_HASH_METHOD = "scrypt"
    ADMIN_IDLE_MINUTES = 60                 # an admin session ends after this long unused
    ADMIN_SESSION_HOURS = 12                # ... and this long after signing in, whatever
    CUSTOMER_SESSION_DAYS = 30              # a customer stays signed in this long on one phone
    CUSTOMER_CODE_MINUTES = 10              # a sign-in code works this long ...
    CUSTOMER_CODE_TRIES = 5                 # ... for this many wrong guesses
    RATELIMIT_CUSTOMER_CODE = "5 per 10 minutes"   # codes sent per client IP and per contact
    RATELIMIT_CUSTOMER_SIGN_IN = "10 per minute"   # codes or passwords tried per client IP
    LEVEL_REVIEW_SECONDS = 300              # how often the worker moves customers up by spend
    SALDO_DEPOSIT_MIN = 10_000              # the smallest saldo deposit, minor units
    SALDO_DEPOSIT_MAX = 10_000_000          # the largest
    NEEDS_ATTENTION_MINUTES = 10            # paid but undelivered for longer: on the admin list
    UPLOAD_MAX_BYTES = 2 * 1024 * 1024      # product pictures and logos
    IMPORT_JOBS_INLINE = False              # panel price imports in the request (tests)
    WTF_CSRF_TIME_LIMIT = None              # the token lives as long as the session

    # Receipts (merchant/receipts). No SMTP_HOST: no email; no FONNTE_TOKEN: no WhatsApp.
    SMTP_HOST = None
    SMTP_PORT = None                        # default: 587 starttls, 465 ssl, 25 none
    SMTP_SECURITY = "starttls"              # starttls, ssl (TLS from the start) or none
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_FROM = None                        # required with SMTP_HOST: "Shop <receipts@...>"
    SMTP_TIMEOUT = 10                       # seconds per SMTP command (a hung server: retried)
    FONNTE_TOKEN = None                     # the Fonnte device token
    FONNTE_URL = "https://api.fonnte.com/send"
    FONNTE_TIMEOUT = 10                     # seconds for Fonnte's answer
    RECEIPT_LEASE_SECONDS = 120             # a worker that died mid-send is taken over after this
    RECEIPT_MAX_ATTEMPTS = 8                # sends refused (or unreachable) before giving up

    # Owner alerts (merchant/alerts). No TELEGRAM_BOT_TOKEN: no Telegram (WhatsApp and email
    # use the receipts' settings above).
    TELEGRAM_BOT_TOKEN = None               # from @BotFather
    TELEGRAM_API_URL = "https://api.telegram.org"
    TELEGRAM_TIMEOUT = 10                   # seconds for Telegram's answer
    TELEGRAM_WEBHOOK = False                # True after `flask alerts telegram-webhook`: no polling
    ALERT_LEASE_SECONDS = 120               # a worker that died mid-send is taken over after this
    ALERT_RETRY_BASE_SECONDS = 30           # an alert not sent: again after 30, 60, 120 s ...
    ALERT_RETRY_MAX_SECONDS = 3600          # ... at most an hour apart
    ALERT_MAX_ATTEMPTS = 10                 # then it is given up
    ALERT_WORKER_STOPPED_SECONDS = 300      # no worker heartbeat this long: "worker stopped"
    ALERT_CHECK_SECONDS = 30                # how often a worker checks the time-driven alerts
    SESSION_COOKIE_SAMESITE = "Lax"
    LOG_FORMAT = "text"                     # or "json": one JSON object a line (logs.py)
    METRICS_TOKEN = None                    # Bearer token for /metrics; unset: /metrics is 404
    SESSION_COOKIE_SECURE = None            # None: Secure when PUBLIC_URL is https
    REMEMBER_COOKIE_SECURE = None           # the same, for Flask-Login's cookie


def load(app: Flask, overrides: dict | None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment and `overrides`."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("MERCHANT")
    if overrides:
        app.config.update(overrides)
    for alias, key in ALIASES.items():
        if app.config.get(alias):
            app.config[key] = app.config.pop(alias)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        path = os.path.join(app.instance_path, "merchant.db")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # A dropped server connection is replaced before use. A file has no server to lose:
        # pinging it would only double every read.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    https = urlsplit(str(app.config.get("PUBLIC_URL") or "")).scheme == "https"
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(key) is None:
            app.config[key] = https
    check(app.config)


def check(config) -> None:
    """Refuse to start with settings that cannot work, naming what to set."""
    check_gateway(config)
    if config.get("LOG_FORMAT") not in ("text", "json"):
        raise ConfigError(f"merchant cannot start: MERCHANT_LOG_FORMAT is "
                          f"{config.get('LOG_FORMAT')!r}; use text or json.")
    if config.get("DEFAULT_LOCALE") not in ("id", "en"):
        raise ConfigError(f"merchant cannot start: MERCHANT_DEFAULT_LOCALE is "
                          f"{config.get('DEFAULT_LOCALE')!r}; use id (Bahasa Indonesia) or en "
                          "(English).")
    if config.get("PASSWORD_HASH_METHOD") not in (None, "scrypt") and not config.get("TESTING"):
        raise ConfigError(f"merchant cannot start: MERCHANT_PASSWORD_HASH_METHOD is "
                          f"{config.get('PASSWORD_HASH_METHOD')!r}; remove it (admin passwords "
                          "are hashed with scrypt; another method is for the test suite only).")
    missing = []
    if not config.get("SECRET_KEY"):
        missing.append("MERCHANT_SECRET_KEY")
    if config.get("SANDBOX_ENABLED") and not config.get("SANDBOX_WEBHOOK_SECRET"):
        missing.append("MERCHANT_SANDBOX_WEBHOOK_SECRET")
    check_receipts(config)
    if missing:
        raise ConfigError(
            "merchant cannot start: set " + ", ".join(missing)
            + " in the environment or in instance/config.py"
            + " (for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )


def check_receipts(config) -> None:
    """Email receipts that are switched on must be able to work."""
    from merchant.receipts.email import missing_settings

    problems = missing_settings(config)
    if problems:
        raise ConfigError("merchant cannot start: MERCHANT_SMTP_HOST is set for email receipts, "
                          "but " + "; ".join(problems) + ".")


def check_gateway(config) -> None:
    """The selected gateway must exist, be fully configured and reachable by its vendor.

    Also settles SANDBOX_ENABLED when it was left unset: the sandbox pay pages are on only while
    the sandbox is the shop's gateway, so a live shop never shows a "pretend to pay" button.
    """

    name = config.get("GATEWAY")
    if config.get("SANDBOX_ENABLED") is None:
        config["SANDBOX_ENABLED"] = name == "sandbox"
    readiness = registry.ready(registry.GATEWAY, name, config)
    if readiness.problem == registry.UNKNOWN:
        raise ConfigError(f"merchant cannot start: MERCHANT_GATEWAY is {name!r}. "
                          f"{readiness.reason} Use one of "
                          f"{', '.join(registry.names(registry.GATEWAY))}.")
    if name == "sandbox":
        return                  # its one setting is checked with SECRET_KEY, saying how to make one
    if config.get("SANDBOX_ENABLED"):
        raise ConfigError(
            f"merchant cannot start: MERCHANT_SANDBOX_ENABLED is on while MERCHANT_GATEWAY is "
            f"{name}: its pretend Pay button would hand out real top-ups. Remove "
            "MERCHANT_SANDBOX_ENABLED (to try a real gateway beside the sandbox, keep "
            "MERCHANT_GATEWAY=sandbox and give that gateway to a method in /admin/methods)."
        )
    if not readiness:
        raise ConfigError(
            f"merchant cannot start: MERCHANT_GATEWAY is {name}. {readiness.reason} Copy the "
            f"values from your {name} dashboard into the environment or instance/config.py."
        )
    public_url = str(config.get("PUBLIC_URL") or "")
    if not _public(public_url):
        raise ConfigError(
            f"merchant cannot start: MERCHANT_PUBLIC_URL is {public_url!r}, but {name} must "
            "reach the shop there to confirm payments, and customers return to it from the "
            "payment page. Set it to the shop's public address, e.g. https://shop.example.com."
        )


def _public(url: str) -> bool:
    """An http(s) URL whose host is not this machine (loopback) or unspecified."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or host == "localhost":
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return not host.endswith(".localhost")
    return not (address.is_loopback or address.is_unspecified)
