"""`flask --app merchant backup PATH`, and a restore from it into a fresh database."""
from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
import sqlalchemy as sa
from conftest import TEST_DATABASE_URL, delivered_order, failed_order, get_order, history
from PIL import Image
from werkzeug.datastructures import FileStorage

from merchant import create_app
from merchant.core import media
from merchant.core.extensions import db
from merchant.core.models import Order, OrderEvent
from merchant.ops import backup


def store_picture(app) -> str:
    data = io.BytesIO()
    Image.new("RGB", (300, 300), "teal").save(data, "PNG")
    data.seek(0)
    with app.test_request_context():
        return media.save_image(FileStorage(data, "logo.png"))


def run_backup(app, path):
    return app.test_cli_runner().invoke(args=["backup", str(path)])


def restore(folder, instance) -> str:
    """The README's restore steps, done by the test: the database URL to open afterwards."""
    shutil.copytree(os.path.join(folder, "media"), os.path.join(instance, "media"))
    if not TEST_DATABASE_URL:
        shutil.copy(os.path.join(folder, "merchant.db"), os.path.join(instance, "merchant.db"))
        return f"sqlite:///{os.path.join(instance, 'merchant.db')}"
    url = sa.make_url(TEST_DATABASE_URL)
    fresh = url.set(database=f"{url.database}_restored")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{fresh.database}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{fresh.database}"'))
    admin.dispose()
    libpq = fresh.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", libpq,
                    os.path.join(folder, "merchant.pgdump")], check=True)
    return fresh.render_as_string(hide_password=False)


def open_shop(url, instance):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret-key",
                       "SANDBOX_WEBHOOK_SECRET": "test-sandbox-webhook-secret",
                       "SQLALCHEMY_DATABASE_URI": url}, instance_path=str(instance))


@pytest.mark.process
def test_a_backup_restores_into_a_fresh_database_with_orders_history_and_pictures(
        client, app, tmp_path):
    delivered, failed = delivered_order(client, app), failed_order(client, app)
    picture = store_picture(app)
    folder = tmp_path / "backup-1"

    result = run_backup(app, folder)
    assert result.exit_code == 0, result.output
    assert "1 pictures" in result.output

    instance = tmp_path / "restored"
    instance.mkdir()
    restored = open_shop(restore(folder, instance), instance)
    try:
        with restored.app_context():
            refs = set(db.session.scalars(sa.select(Order.ref)))
            assert refs == {delivered, failed}
            events = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent))
        with app.app_context():
            assert events == db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent))
        order = get_order(app, delivered)
        shop = restored.test_client()
        page = shop.get(f"/o/{delivered}?t={order.view_token}", follow_redirects=True)
        assert page.status_code == 200 and order.delivery_proof in page.text
        with shop.get("/" + picture) as served:                   # /media/<name>
            assert served.status_code == 200 and served.data[:4] == b"RIFF"
        assert history(restored, delivered) == history(app, delivered)
    finally:
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.process
def test_a_backup_while_an_order_is_being_written_holds_only_what_was_committed(
        client, app, tmp_path):
    ref = delivered_order(client, app)
    with app.app_context():
        order_id = get_order(app, ref).id
        writer = db.engine.connect()
        transaction = writer.begin()
        writer.execute(sa.insert(OrderEvent).values(order_id=order_id, source="operator",
                                                    detail="written during the backup"))
        try:
            result = run_backup(app, tmp_path / "backup")     # does not wait for the writer
        finally:
            transaction.commit()
            writer.close()
    assert result.exit_code == 0, result.output
    instance = tmp_path / "restored"
    instance.mkdir()
    restored = open_shop(restore(tmp_path / "backup", instance), instance)
    try:
        details = [d for *_, d in history(restored, ref)]
        assert details == [d for *_, d in history(app, ref)][:-1]
        assert "written during the backup" not in details
    finally:
        with restored.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_backup_never_overwrites_an_earlier_one(app, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "merchant.db").write_text("last week's backup")
    result = run_backup(app, tmp_path / "old")
    assert result.exit_code == 1
    assert "is not an empty folder: choose a new path" in result.output
    assert (tmp_path / "old" / "merchant.db").read_text() == "last week's backup"


def test_without_pg_dump_the_message_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backup.BackupError, match="pg_dump was not found: install the "
                                                 "PostgreSQL client tools"):
        backup.backup(sa.make_url("postgresql+psycopg://shop@db.internal/merchant"),
                      str(tmp_path / "backup"))
