"""flask --app merchant <command>: database, demo catalog, worker, dev server."""
from __future__ import annotations

import click
from flask import Flask, current_app
from werkzeug.serving import run_simple

from . import demo, worker
from .extensions import db


def register(app: Flask) -> None:
    for command in (init_db, seed_demo, run_worker, serve):
        app.cli.add_command(command)


@click.command("init-db")
def init_db():
    """Create the database tables that do not exist yet."""
    db.create_all()
    click.echo("Database ready.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if products exist.")
def seed_demo(if_empty):
    """Create the tables and the demo catalog (five games, seven payment methods)."""
    db.create_all()
    if demo.seed():
        click.echo("Demo catalog created.")
    elif not if_empty:
        raise click.ClickException("The shop already has products; the demo was not added.")


@click.command("worker")
def run_worker():
    """Deliver paid orders, follow pending ones, reconcile and expire payments. Runs until ^C."""
    try:
        worker.run(current_app._get_current_object())
    except KeyboardInterrupt:
        pass


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, envvar="PORT")
def serve(host, port):
    """The development server with one worker thread inside: the whole shop in one process."""
    app = current_app._get_current_object()
    worker.start_thread(app)
    click.echo(f"Serving {app.config['SHOP_NAME']} on http://{host}:{port}")
    run_simple(host, port, app, threaded=True)
