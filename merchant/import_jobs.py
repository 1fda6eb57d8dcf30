"""Price imports started from the panel: the CLI's import, run in a background thread.

start() records an ImportJob and runs it in a thread (or at once when the app's
IMPORT_JOBS_INLINE setting is true, as tests do); the panel polls the job row. The work is the
same code `flask --app merchant import-prices` runs: prices.price_list, then prices.import_items.

The import itself is one transaction, so the count of items done while it runs is kept in this
process's memory (`progress`); the row records each stage and the outcome.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _

from . import audit, orders, prices
from .extensions import db
from .models import ImportJob, utcnow
from .suppliers.base import SupplierError

log = logging.getLogger(__name__)

RUNNING, DONE, FAILED = "running", "done", "failed"
STALE = dt.timedelta(minutes=30)    # a job running longer than this was left by a stopped server
_done: dict[int, int] = {}          # job id -> items imported so far (this process)


class ImportJobError(ValueError):
    """The import cannot start as asked. The message says what to change."""


def start(supplier: str, markup: str, round_to: int, actor: audit.Actor) -> ImportJob:
    """Record a new import job and start it. :raise ImportJobError: for a bad supplier or
    markup, or while another import is running."""
    if supplier not in prices.importable():
        raise ImportJobError(f"{supplier!r} has no price list to import.")
    try:
        prices.parse_markup(markup)
    except prices.PriceImportError as exc:
        raise ImportJobError(str(exc)) from None
    if round_to < 1:
        raise ImportJobError(_("Round up to must be at least 1."))
    with orders.write_unit():
        # A job left running by a server that stopped would block every later import.
        db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.status == RUNNING, ImportJob.created_at < utcnow() - STALE)
            .values(status=FAILED, stage="Stopped", finished_at=utcnow(),
                    error="The server stopped during this import: start it again."))
        running = db.session.scalar(sa.select(ImportJob.id).where(ImportJob.status == RUNNING))
        if running is not None:
            raise ImportJobError(_("Another price import is running: wait for it to finish."))
        job = ImportJob(supplier=supplier, markup=markup.strip(), round_to=round_to,
                        stage="Waiting to start", started_by=actor.name)
        db.session.add(job)
        db.session.flush()
        audit.record(actor, "prices.import_start", "import_job", job.id,
                     f"Price import from {supplier} started (markup {markup.strip()}, rounded "
                     f"up to {round_to})")
    app = current_app._get_current_object()
    if app.config["IMPORT_JOBS_INLINE"]:
        run(app, job.id, actor)
    else:
        threading.Thread(target=run, args=(app, job.id, actor), daemon=True,
                         name=f"import-job-{job.id}").start()
    return job


def run(app: Flask, job_id: int, actor: audit.Actor) -> None:
    """Do one import job to the end, recording its stages and outcome on the row."""
    with app.app_context():
        try:
            job = db.session.get(ImportJob, job_id)
            name, markup, round_to = job.supplier, prices.parse_markup(job.markup), job.round_to
            _update(job_id, stage=f"Fetching the {name} price list")
            items, cached, _ = prices.price_list(name)
            _update(job_id, total=len(items), stage=f"Importing {len(items)} products from the "
                    f"{name} price list" + (" (cached, at most 5 minutes old)" if cached else ""))
            summary = prices.import_items(name, _counted(job_id, items), markup, round_to,
                                          actor=actor)
        except (prices.PriceImportError, SupplierError) as exc:
            _update(job_id, status=FAILED, stage="Stopped", error=str(exc), finished_at=utcnow())
        except Exception:
            log.exception("price import job %s failed", job_id)
            _update(job_id, status=FAILED, stage="Stopped", finished_at=utcnow(),
                    error="The import stopped on an unexpected error: the server log has the "
                          "details.")
        else:
            _update(job_id, status=DONE, stage=prices.describe(summary), done=len(items),
                    summary=dataclasses.asdict(summary, dict_factory=_json),
                    finished_at=utcnow())
        finally:
            _done.pop(job_id, None)
            db.session.remove()


def progress(job: ImportJob) -> int:
    """Items done so far: counted in memory while this process runs the job."""
    return max(job.done, _done.get(job.id, 0))


def recent(limit: int = 10) -> list[ImportJob]:
    """The latest import jobs, newest first."""
    return list(db.session.scalars(sa.select(ImportJob).order_by(ImportJob.id.desc())
                                   .limit(limit)))


def _counted(job_id: int, items):
    _done[job_id] = 0
    for item in items:
        yield item
        _done[job_id] += 1


def _update(job_id: int, **values) -> None:
    with orders.write_unit():
        db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(**values))


def _json(pairs) -> dict:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in pairs}
