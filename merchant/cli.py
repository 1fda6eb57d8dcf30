"""flask --app merchant <command>: database, demo catalog, worker, servers."""
from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from urllib.parse import urlsplit

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from werkzeug.serving import is_running_from_reloader, run_simple

from merchant import config
from merchant.alerts import telegram_link
from merchant.catalog import payment_presets, prices, promos
from merchant.core import audit, shop_settings
from merchant.core.extensions import db
from merchant.core.models import Customer, Order, Product
from merchant.core.money import Money, to_minor
from merchant.customers import accounts
from merchant.h2h import keys
from merchant.ops import backup, demo, owner_alerts, upgrades, worker
from merchant.orders import operator_actions
from merchant.staff import admins
from merchant.vendors import telegram
from merchant.vendors.suppliers.base import SupplierError
from merchant.version import __version__
from merchant.web.edge import server

UPGRADE = upgrades.UPGRADE
UNSPECIFIED = ("0.0.0.0", "::")     # listening on every address: not one to open


class OperatorCommand(click.Command):
    """A command whose operator mistakes end in a plain message saying what to do, never a
    traceback: a database without the schema, and the services' own errors."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (prices.PriceImportError, SupplierError) as exc:
            raise click.ClickException(str(exc)) from None
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            advice = _schema_advice(exc)
            if advice is None:
                raise
            raise click.ClickException(advice) from None


def _schema_advice(exc: sa.exc.DBAPIError) -> str | None:
    """What to run when the error is a missing table or column (SQLite or PostgreSQL)."""
    text = str(exc.orig).lower()
    state = getattr(exc.orig, "sqlstate", None)
    if "no such table" in text or state == "42P01":
        return f"The database has no tables yet: run `{UPGRADE}`."
    if "no such column" in text or state == "42703":
        return f"The database schema is older than this version of merchant: run `{UPGRADE}`."
    return None


def _require_schema() -> None:
    """Before a long-running loop, which would log the missing tables every second: one query
    that fails (and is explained by OperatorCommand) when the migrations have not run."""
    db.session.execute(sa.select(Order.id).limit(1))
    db.session.rollback()


# Every command of ours is an OperatorCommand.
command = functools.partial(click.command, cls=OperatorCommand)


def register(app: Flask) -> None:
    for command in (upgrade, version, init_db, seed_demo, run_worker, serve, dev, import_prices,
                    deliver, retry, refund, create_admin, reset_two_factor, setup_link,
                    make_backup, promo, alerts, api_key):
        app.cli.add_command(command)


no_backup_option = click.option(
    "--no-backup", is_flag=True,
    help="Upgrade without the backup otherwise taken first (make your own before).")


@command("upgrade")
@with_appcontext
@no_backup_option
def upgrade(no_backup):
    """Bring the database schema up to this version, after a backup when there is one to
    upgrade; a no-op when it is current."""
    _upgrade(no_backup)
    click.echo("Database ready.")


@command("version")
def version():
    """The version of merchant this is (CHANGELOG.md says what each one changed)."""
    click.echo(f"merchant {__version__}")


def _upgrade(no_backup: bool) -> None:
    """Every pending migration, after a backup of a shop that has data; a failure ends in a
    message naming the backup and what to do, never a half-upgraded database."""
    todo = upgrades.plan()
    if not todo.needed:
        return
    if todo.has_data and not no_backup:
        start = ", ".join(todo.current) or "an unversioned schema"
        click.echo(f"Upgrading the database from {start} to {todo.head} "
                   f"({len(todo.pending)} migrations); backing it up first ...")
    try:
        done = upgrades.upgrade(todo, make_backup=not no_backup)
    except backup.BackupError as exc:
        raise click.ClickException(
            f"No backup could be made before upgrading, so nothing was changed: {exc}\n"
            f"To upgrade without one (after backing up yourself): `{UPGRADE} --no-backup`, "
            "then start the shop again.") from None
    except upgrades.UpgradeError as exc:
        raise click.ClickException(str(exc)) from None
    if done.backup:
        click.echo(f"Backup written to {os.path.dirname(done.backup.database)} "
                   f"({done.backup.database}, {done.backup.pictures} pictures).")
        click.echo(upgrades.restore_advice(done.backup))
    click.echo(f"Upgraded the database to {todo.head}.")


@command("init-db")
@with_appcontext
@no_backup_option
def init_db(no_backup):
    """Create or upgrade the database schema; a shop without payment methods gets its
    gateway's usual set."""
    _upgrade(no_backup)
    click.echo("Database ready.")
    _install_methods()


@command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if products exist.")
@click.option("--demo/--no-demo", "demo_catalog", default=True, envvar="MERCHANT_DEMO",
              show_envvar=True,
              help="--no-demo (MERCHANT_DEMO=0): an empty shop, only the payment methods.")
@no_backup_option
def seed_demo(if_empty, demo_catalog, no_backup):
    """Upgrade the schema and add the demo catalog (five games, seven payment methods)."""
    _upgrade(no_backup)
    if not demo_catalog:
        click.echo("No demo catalog (MERCHANT_DEMO=0): add products at /admin/catalog.")
        _install_methods()
        return
    if demo.seed():
        click.echo("Demo catalog created.")
        return
    _install_methods()
    if not if_empty:
        raise click.ClickException("The shop already has products; the demo was not added.")


def _install_methods() -> None:
    """A shop with products but no payment method at all (e.g. after import-prices) could sell
    nothing: give it the configured gateway's set."""
    added = payment_presets.install_defaults()
    if added:
        db.session.commit()
        click.echo(f"Added {added} payment methods for the {current_app.config['GATEWAY']} "
                   "gateway: review their fees at /admin/methods.")


@command("worker")
@with_appcontext
def run_worker():
    """Deliver paid orders, follow pending ones, reconcile and expire payments. Runs until ^C."""
    _require_schema()
    try:
        worker.run(current_app._get_current_object())
    except KeyboardInterrupt:
        pass


@command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST",
              help="0.0.0.0: every address of this machine (a VPS reached from a phone).")
@click.option("--port", default=5000, show_default=True, envvar="PORT")
@click.option("--threads", default=server.THREADS, show_default=True,
              help="Requests served at once.")
def serve(host, port, threads):
    """The production server (waitress) with one worker thread inside: the whole shop in one
    process."""
    _require_schema()
    app = current_app._get_current_object()
    worker.start_thread(app)
    click.echo(f"Serving {app.config['SHOP_NAME']} on http://{host}:{port}")
    _print_setup_link(setup_base(host, port))
    server.run(app, host, port, threads)


@command("dev")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST")
@click.option("--port", default=5000, show_default=True, envvar="PORT")
def dev(host, port):
    """Flask's development server, reloading on code changes, with the worker inside."""
    _require_schema()
    app = current_app._get_current_object()
    if is_running_from_reloader():
        worker.start_thread(app)        # in the reloaded child only, which serves
    else:
        click.echo(f"Serving {app.config['SHOP_NAME']} on http://{host}:{port} (development)")
        _print_setup_link(setup_base(host, port))
    run_simple(host, port, app, threaded=True, use_reloader=True)


@command("import-prices")
@with_appcontext
@click.argument("supplier")
@click.option("--markup", required=True,
              help="Added to the supplier's cost: a percentage like 8% or rupiah like 500.")
@click.option("--round-to", default=100, show_default=True, type=int,
              help="Round each price up to a multiple of this.")
@click.option("--merge", is_flag=True,
              help="Add products of a brand and denomination another supplier sells as more "
                   "offers of those packages.")
def import_prices(supplier, markup, round_to, merge):
    """Create or update products and packages from SUPPLIER's price list (e.g. digiflazz)."""
    parsed = prices.parse_markup(markup)
    items, cached, fetched_at = prices.price_list(supplier)
    age = "cached, fetched at most 5 minutes ago" if cached else "fetched just now"
    click.echo(f"{len(items)} products in the {supplier} price list ({age}).")
    with click.progressbar(items, label="Importing", show_pos=True) as bar:
        plan = prices.import_items(supplier, bar, parsed, round_to, merge=merge)
    click.echo(prices.describe(plan.summary))
    if plan.kept:
        click.echo("Kept these prices set by hand (their cost is updated; clear the mark on "
                   "the package's form in the panel to let imports price them):")
    for kept in plan.kept:
        price, imported, cost = (Money(amount, kept.currency)
                                 for amount in (kept.price, kept.imported, kept.cost))
        click.echo(f"  {kept.name}: {price} (the import's price {imported}, cost {cost})")
    if plan.hand_below_cost:
        click.echo("Repriced these prices set by hand, because the new cost is above them:")
    for change in plan.hand_below_cost:
        click.echo(f"  {change.name}: {Money(change.old, change.currency)} -> "
                   f"{Money(change.new, change.currency)}")


@command("deliver")
@with_appcontext
@click.argument("ref")
@click.option("--proof", required=True, help="What you delivered: a serial number or a note.")
def deliver(ref, proof):
    """Mark order REF delivered by hand (manual supplier, or a failed delivery), with proof."""

    try:
        order = operator_actions.deliver_by_hand(ref, proof, audit.CLI)
    except operator_actions.ActionRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Order {order.ref} marked delivered ({order.package_name} to "
               f"{order.nickname or ', '.join(order.account.values())}).")


@click.command("retry")
@with_appcontext
@click.argument("ref")
@click.option("--fallback", is_flag=True, help="Switch to the package's fallback supplier.")
def retry(ref, fallback):
    """Deliver order REF again after its delivery failed (the worker places it)."""
    try:
        order = operator_actions.retry_delivery(ref, audit.CLI, fallback=fallback)
    except operator_actions.ActionRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Order {order.ref} will be delivered again with {order.supplier} "
               f"(ref_id {order.supplier_ref_id}).")


@click.command("refund")
@with_appcontext
@click.argument("ref")
@click.option("--note", default="", help="Why, or (with --manual) how the money went back.")
@click.option("--manual", is_flag=True,
              help="You gave the money back yourself: record it, the gateway is not asked.")
def refund(ref, note, manual):
    """Refund order REF after its delivery failed, through its gateway or as a manual refund."""
    try:
        order = operator_actions.refund(ref, audit.CLI, note, manual=manual)
    except operator_actions.ActionRefused as exc:
        raise click.ClickException(str(exc)) from None
    how = "by hand" if manual else f"through {order.gateway} (refund {order.refund_ref})"
    click.echo(f"Order {order.ref} refunded {how}.")


@command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(admins.ROLES), default="owner", show_default=True,
              help="owner: everything; staff: orders only.")
def create_admin(email, role):
    """Create an admin for /admin. The password is asked for (or read from stdin when piped)."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        admin = admins.create(email, password, role)
    except admins.AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Admin {admin.email} ({admin.role}) created. Sign in at /admin.")


@command("reset-2fa")
@with_appcontext
@click.argument("email")
def reset_two_factor(email):
    """Turn off an admin's authenticator app and recovery codes (a lost phone): they sign in
    with the password and set up a new app under My account."""
    try:
        admin = admins.by_email(admins.normalize_email(email))
        if admin is None:
            raise click.ClickException(f"There is no admin {email}.")
        admins.reset_two_factor(audit.CLI, admin.id)
    except admins.AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Turned off the authenticator app of {admin.email}: they sign in with the "
               "password, then set up a new app under My account.")


@command("backup")
@with_appcontext
@click.argument("path", type=click.Path())
def make_backup(path):
    """Back up the database and the uploaded pictures into PATH, a new folder. Safe while the
    shop runs."""
    try:
        made = backup.backup(db.engine.url, path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up the database to {made.database} and {made.pictures} pictures to "
               f"{os.path.join(path, backup.MEDIA_DIR)}.")


@command("setup-link")
@with_appcontext
def setup_link():
    """Print a one-time link that creates the shop's owner (only while the shop has no admin)."""
    if not _print_setup_link(current_app.config["PUBLIC_URL"].rstrip("/")):
        raise click.ClickException("This shop has an admin already: sign in at /admin.")


def setup_base(host: str, port: int) -> str:
    """Where the owner opens the setup link: MERCHANT_PUBLIC_URL once it is set (a phone
    cannot open 127.0.0.1 of a VPS), else the address being served."""
    public_url = current_app.config["PUBLIC_URL"]
    if public_url and public_url != config.Defaults.PUBLIC_URL:
        return public_url.rstrip("/")
    return f"http://{host}:{port}"


def _print_setup_link(base: str) -> bool:
    token = admins.new_setup_token()
    if token is None:
        return False
    click.echo(f"No admin yet. Open this link once to set up the shop's owner "
               f"(valid 24 hours):\n    {base}/admin/setup/{token}")
    if urlsplit(base).hostname in UNSPECIFIED:
        click.echo("    (with this machine's address in place of "
                   f"{urlsplit(base).hostname}, or set MERCHANT_PUBLIC_URL)")
    return True


@click.group("promo")
def promo():
    """Promo codes: create, list, disable (also in the panel at /admin/promos)."""


WHEN = click.DateTime(["%Y-%m-%d", "%Y-%m-%d %H:%M"])


@promo.command("create", cls=OperatorCommand)
@with_appcontext
@click.argument("code")
@click.option("--percent", help="Percentage off the package price, like 10 or 12.5.")
@click.option("--flat", help="Amount off in the shop's currency, like 5000.")
@click.option("--product", help="Only for this product (its slug).")
@click.option("--min-spend", default="0", help="The package price must be at least this.")
@click.option("--starts", type=WHEN, help="From this day (or 'YYYY-MM-DD HH:MM'), shop time.")
@click.option("--ends", type=WHEN, help="Until the end of this day (or this minute), shop time.")
@click.option("--max-uses", type=click.IntRange(min=1), help="Uses in all.")
@click.option("--max-per-contact", type=click.IntRange(min=1),
              help="Uses per email and per WhatsApp number.")
@click.option("--allow-below-cost", is_flag=True,
              help="Sell at a loss on purpose: the code may take packages below their cost.")
def promo_create(code, percent, flat, product, min_spend, starts, ends, max_uses,
                 max_per_contact, allow_below_cost):
    """Add the promo code CODE: --percent or --flat, with optional limits."""
    if (percent is None) == (flat is None):
        raise click.UsageError("Give either --percent or --flat.")
    currency = shop_settings.current().currency
    try:
        percent_bp = promos.percent_to_bp(percent) if percent is not None else None
        amount_off = to_minor(flat, currency) if flat is not None else None
        spend = to_minor(min_spend, currency)
    except ValueError as exc:
        raise click.BadParameter(f"{exc} is not a percentage (0-100) or an amount in "
                                 f"{currency}.") from None
    product_id = None
    if product:
        product_id = db.session.scalar(sa.select(Product.id).where(Product.slug == product))
        if product_id is None:
            raise click.BadParameter(f"no product has the slug {product}.", param_hint="--product")
    if ends is not None and (ends.hour, ends.minute) == (0, 0):
        ends += dt.timedelta(days=1)        # a day given: the code works all that day
    values = {"code": code, "percent_bp": percent_bp, "amount_off": amount_off,
              "currency": currency, "product_id": product_id, "min_spend": spend,
              "starts_at": shop_settings.to_utc(starts),
              "ends_at": shop_settings.to_utc(ends),
              "max_uses": max_uses, "max_per_contact": max_per_contact, "active": True,
              "allow_below_cost": allow_below_cost}
    try:
        created = promos.create(values, audit.CLI)
    except promos.PromoError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Promo code {created.code} created: {promos.describe(created)}.")


@promo.command("list", cls=OperatorCommand)
@with_appcontext
def promo_list():
    """Every promo code with its discount, uses and state."""
    rows = promos.all_promos()
    if not rows:
        click.echo("No promo codes yet.")
    for row in rows:
        limit = f"/{row.max_uses}" if row.max_uses is not None else ""
        product = f" {row.product.slug}" if row.product else ""
        click.echo(f"{row.code:<16} {promos.describe(row):<16} used {row.uses}{limit:<6} "
                   f"{promos.state(row)}{product}")


@promo.command("disable", cls=OperatorCommand)
@with_appcontext
@click.argument("code")
def promo_disable(code):
    """Stop the promo code CODE (orders placed with it keep their price)."""
    found = promos.find(code)
    if found is None:
        raise click.ClickException(f"There is no promo code {promos.normalize(code)}.")
    if not promos.set_active(found, False, audit.CLI):
        click.echo(f"Promo code {found.code} was already off.")
        return
    click.echo(f"Promo code {found.code} is off.")


@click.group("alerts")
def alerts():
    """The owner's alerts: the check for cron, the Telegram webhook."""


@alerts.command("check", cls=OperatorCommand)
@with_appcontext
def alerts_check():
    """Raise "worker stopped" when no worker ran for ALERT_WORKER_STOPPED_SECONDS, queue the
    daily summary when due, and send the queued alerts. Run it every minute from cron or a
    systemd timer: a dead worker can neither notice that nor send anything."""
    tried = owner_alerts.check_and_send()
    click.echo(f"Alerts checked; {tried} message(s) sent or tried.")


@alerts.command("telegram-webhook", cls=OperatorCommand)
@with_appcontext
def alerts_telegram_webhook():
    """Have Telegram post the bot's messages to this shop (MERCHANT_PUBLIC_URL must be public
    HTTPS); then set MERCHANT_TELEGRAM_WEBHOOK=true so the worker stops polling."""
    try:
        url = telegram_link.set_webhook()
    except (telegram.TelegramError, telegram.Unreachable, telegram.AnswerLost) as exc:
        raise click.ClickException(f"Telegram did not take the webhook: {exc}") from None
    click.echo(f"Telegram now posts to {url}. Set MERCHANT_TELEGRAM_WEBHOOK=true.")


@click.group("api-key")
def api_key():
    """Resellers' keys to the H2H API: create, list, revoke (also on the customer's page in
    the panel)."""


def _customer_by_contact(contact: str) -> Customer:
    """The account with this email address or WhatsApp number. :raise click.BadParameter:"""
    found = accounts.read_contact(contact)
    customer = accounts.find(found) if found else None
    if customer is None:
        raise click.BadParameter(f"no customer has the email address or WhatsApp number "
                                 f"{contact}.", param_hint="--customer")
    return customer


@api_key.command("create", cls=OperatorCommand)
@with_appcontext
@click.option("--customer", "contact", required=True,
              help="The reseller's email address or WhatsApp number.")
@click.option("--sandbox", is_flag=True,
              help="A sandbox key: test orders on play saldo, nothing delivered.")
@click.option("--label", default="", help="A name for the key, like 'Website'.")
@click.option("--allow", default="",
              help='Addresses or networks it may be used from: "203.0.113.7 198.51.100.0/24".')
@click.option("--callback", default="", help="Where order results are posted.")
@click.option("--rate", type=click.IntRange(min=1, max=6000),
              help="Calls per minute (default: MERCHANT_H2H_RATE_PER_MINUTE).")
def api_key_create(contact, sandbox, label, allow, callback, rate):
    """Make an API key for a customer; its secret is printed this once."""
    customer = _customer_by_contact(contact)
    try:
        key, secret = keys.create(customer, label=label, sandbox=sandbox, ip_allowlist=allow,
                                  callback_url=callback, rate_per_minute=rate, actor=audit.CLI,
                                  created_by=audit.CLI.name)
    except keys.KeyRefused as exc:
        raise click.ClickException(str(exc)) from None
    kind = "sandbox" if key.sandbox else "live"
    click.echo(f"Made the {kind} API key for {customer.email or customer.whatsapp}.")
    click.echo(f"Key ID: {key.key_id}")
    click.echo(f"Secret: {secret}")
    click.echo("Copy the secret now: it is shown only this once (the shop keeps only its "
               "fingerprint).")


@api_key.command("list", cls=OperatorCommand)
@with_appcontext
@click.option("--customer", "contact", help="Only this reseller's keys (email or WhatsApp).")
def api_key_list(contact):
    """API keys with their account, kind, allowlist and state (never their secrets)."""
    if contact:
        found = keys.of_customer(_customer_by_contact(contact).id)
    else:
        found = keys.every_key()
    if not found:
        click.echo("No API keys.")
    for key in found:
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M} UTC" if key.revoked_at else "active"
        used = f"used {key.last_used_at:%Y-%m-%d %H:%M} UTC" if key.last_used_at else "never used"
        owner = key.customer.email or key.customer.whatsapp
        click.echo(f"{key.key_id}  {owner}  {'sandbox' if key.sandbox else 'live'}  "
                   f"{key.rate_per_minute}/min  {state}  {used}  {key.label or '-'}  "
                   f"allow: {key.ip_allowlist or 'any'}  callback: {key.callback_url or '-'}")


@api_key.command("revoke", cls=OperatorCommand)
@with_appcontext
@click.argument("key_id")
def api_key_revoke(key_id):
    """Stop the key KEY_ID at once: its next call is refused."""
    key = keys.by_key_id(key_id.strip())
    if key is None:
        raise click.ClickException(f"There is no API key {key_id}.")
    if not keys.revoke(key, audit.CLI):
        click.echo(f"API key {key.key_id} was revoked already.")
        return
    click.echo(f"API key {key.key_id} revoked: calls with it are refused from now on.")
