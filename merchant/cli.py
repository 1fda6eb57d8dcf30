"""flask --app merchant <command>: database, demo catalog, worker, dev server."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from . import admins, demo, manual_delivery, prices, worker
from .suppliers import ADAPTERS
from .suppliers.base import SupplierError


def register(app: Flask) -> None:
    for command in (init_db, seed_demo, run_worker, serve, import_prices, deliver, create_admin,
                    setup_link):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema (the same as `flask db upgrade`)."""
    upgrade()
    click.echo("Database ready.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if products exist.")
def seed_demo(if_empty):
    """Upgrade the schema and add the demo catalog (five games, seven payment methods)."""
    upgrade()
    if demo.seed():
        click.echo("Demo catalog created.")
    elif not if_empty:
        raise click.ClickException("The shop already has products; the demo was not added.")


@click.command("worker")
@with_appcontext
def run_worker():
    """Deliver paid orders, follow pending ones, reconcile and expire payments. Runs until ^C."""
    try:
        worker.run(current_app._get_current_object())
    except KeyboardInterrupt:
        pass


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, envvar="PORT")
def serve(host, port):
    """The development server with one worker thread inside: the whole shop in one process."""
    app = current_app._get_current_object()
    worker.start_thread(app)
    click.echo(f"Serving {app.config['SHOP_NAME']} on http://{host}:{port}")
    _print_setup_link(f"http://{host}:{port}")
    run_simple(host, port, app, threaded=True)


@click.command("import-prices")
@with_appcontext
@click.argument("supplier")
@click.option("--markup", required=True,
              help="Added to the supplier's cost: a percentage like 8% or rupiah like 500.")
@click.option("--round-to", default=100, show_default=True, type=int,
              help="Round each price up to a multiple of this.")
def import_prices(supplier, markup, round_to):
    """Create or update products and packages from SUPPLIER's price list (e.g. digiflazz)."""

    if supplier not in ADAPTERS:
        raise click.ClickException(f"Unknown supplier {supplier!r}; use one of "
                                   f"{', '.join(ADAPTERS)}.")
    try:
        parsed = prices.parse_markup(markup)
        items, cached, fetched_at = prices.price_list(supplier)
    except (prices.PriceImportError, SupplierError) as exc:
        raise click.ClickException(str(exc)) from None
    age = "cached, fetched at most 5 minutes ago" if cached else "fetched just now"
    click.echo(f"{len(items)} products in the {supplier} price list ({age}).")
    try:
        with click.progressbar(items, label="Importing", show_pos=True) as bar:
            summary = prices.import_items(supplier, bar, parsed, round_to)
    except prices.PriceImportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Added {summary.added}, changed {summary.changed}, "
               f"deactivated {summary.deactivated}, unchanged {summary.unchanged} packages"
               + (f"; {summary.products_added} new products (check their account fields "
                  "and nickname check)" if summary.products_added else "") + ".")


@click.command("deliver")
@with_appcontext
@click.argument("ref")
@click.option("--proof", required=True, help="What you delivered: a serial number or a note.")
def deliver(ref, proof):
    """Mark a manual-delivery order REF as delivered, with its proof."""

    try:
        order = manual_delivery.mark_delivered(ref, proof, source="admin")
    except manual_delivery.DeliveryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Order {order.ref} marked delivered ({order.package_name} to "
               f"{order.nickname or ', '.join(order.account.values())}).")


@click.command("create-admin")
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


@click.command("setup-link")
@with_appcontext
def setup_link():
    """Print a one-time link that creates the shop's owner (only while the shop has no admin)."""
    if not _print_setup_link(current_app.config["PUBLIC_URL"].rstrip("/")):
        raise click.ClickException("This shop has an admin already: sign in at /admin.")


def _print_setup_link(base: str) -> bool:
    token = admins.new_setup_token()
    if token is None:
        return False
    click.echo(f"No admin yet. Open this link once to set up the shop's owner "
               f"(valid 24 hours):\n    {base}/admin/setup/{token}")
    return True
