"""Schema upgrades that never take a running shop down.

When there are migrations to apply to a database that holds a shop, a backup is written first
(backup.py: SQLite's online backup, pg_dump for PostgreSQL) and named, with how to restore it.
Each migration then runs in its own transaction (migrations/env.py), so one that fails leaves
the database at the revision before it and the next upgrade starts clean.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass

import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from merchant.core.extensions import db
from merchant.ops import backup

log = logging.getLogger(__name__)

UPGRADE = "flask --app merchant upgrade"


class UpgradeError(Exception):
    """The upgrade did not finish; the message says where the database is and what to do."""


@dataclass(frozen=True)
class Plan:
    current: tuple[str, ...]     # the database's revision(s); () for one never migrated
    head: str
    pending: tuple[str, ...]     # revisions to apply, oldest first
    has_data: bool               # any table of ours: worth a backup

    @property
    def needed(self) -> bool:
        return bool(self.pending)


@dataclass(frozen=True)
class Done:
    plan: Plan
    backup: backup.Backup | None


def _config():
    return current_app.extensions["migrate"].migrate.get_config()


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def current_revisions() -> tuple[str, ...]:
    with db.engine.connect() as connection:
        # transactional_ddl as env.py runs them (else Alembic logs that SQLite has none).
        context = MigrationContext.configure(connection, opts={"transactional_ddl": True})
        return tuple(context.get_current_heads())


def plan() -> Plan:
    """What an upgrade to the newest revision would do to this database."""
    scripts = _scripts()
    head = scripts.get_current_head()
    current = current_revisions()
    pending = [script.revision for script in
               scripts.iterate_revisions(head, current or "base")]
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    return Plan(current, head, tuple(reversed(pending)), bool(tables))


def upgrade(todo: Plan | None = None, make_backup: bool = True,
            backup_folder: str | None = None) -> Done:
    """Back up (when there is a shop to lose), then apply every pending migration of `todo`
    (the plan() the caller already has, or a new one).

    :raise backup.BackupError: no backup could be made; nothing was changed.
    :raise UpgradeError: a migration failed; the database is at the last one that worked.
    """
    todo = plan() if todo is None else todo
    if not todo.needed:
        return Done(todo, None)
    saved = None
    if make_backup and todo.has_data:
        saved = backup.backup(db.engine.url, backup_folder or default_backup_folder(todo))
    try:
        command.upgrade(_config(), "head")
    except Exception as exc:
        log.exception("upgrade to %s failed", todo.head)
        raise UpgradeError(_failure(todo, exc, saved)) from exc
    return Done(todo, saved)


def default_backup_folder(todo: Plan) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = os.path.join(current_app.instance_path, "backups",
                          f"before-upgrade-{stamp}-{todo.head}")
    again = 1
    while os.path.exists(folder + (f"-{again}" if again > 1 else "")):
        again += 1          # a retry within the same second keeps the first backup too
    return folder + (f"-{again}" if again > 1 else "")


def _failure(todo: Plan, exc: Exception, saved: backup.Backup | None) -> str:
    now = current_revisions()
    where = ", ".join(now) if now else "no revision (an empty database)"
    lines = [f"The upgrade to revision {todo.head} stopped: {exc}",
             f"The database is still at {where}: the migration that failed was rolled back "
             "whole, and the ones before it are complete."]
    if saved:
        lines.append(f"The backup taken before the upgrade is {saved.database}.")
        lines.append(restore_advice(saved))
    lines.append(f"Fix the cause and run `make run` (or `{UPGRADE}`) again: it goes on from "
                 "there.")
    return "\n".join(lines)


def restore_advice(saved: backup.Backup) -> str:
    """How to put a backup back, for the database it was made from."""
    folder = os.path.dirname(saved.database)
    if saved.database.endswith(backup.SQLITE_FILE):
        target = db.engine.url.database
        return (f"To go back to it: stop the shop, then `cp {saved.database} {target}`, "
                f"delete {target}-wal and {target}-shm if they exist, and copy "
                f"{os.path.join(folder, backup.MEDIA_DIR)}/ back to the instance folder's "
                "media/.")
    return (f"To go back to it: stop the shop, restore it into a new database (`createdb "
            f"NEW && pg_restore --no-owner -d NEW {saved.database}`), point "
            f"MERCHANT_DATABASE_URL at NEW and copy {os.path.join(folder, backup.MEDIA_DIR)}/ "
            "back to the instance folder's media/.")
