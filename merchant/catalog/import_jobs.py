"""Price imports started from the panel: a preview first, applied when the owner confirms.

start() records an ImportJob and runs its preview in a thread (or at once when the app's
IMPORT_JOBS_INLINE setting is true, as tests do): the price list is fetched and
prices.plan_import says what would change, which the job keeps (status READY). apply() runs
the import of that same list (prices.previewed_list, then prices.import_items, the code
`flask --app merchant import-prices` runs). The panel polls the job row while it runs.

The import itself is one transaction, so the count of items done while it runs is kept in this
process's memory (`progress`); the row records each stage and the outcome, as codes that
stage_text and error_text word in the reader's language (rows from before 0.16.0 hold English
text, shown as written).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from merchant.catalog import prices
from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import ImportJob, utcnow
from merchant.core.transactions import write_unit
from merchant.vendors.suppliers.base import SupplierError

log = logging.getLogger(__name__)

RUNNING, READY, DONE, FAILED = "running", "ready", "done", "failed"
STALE = dt.timedelta(minutes=30)    # a job running longer than this was left by a stopped server
_done: dict[int, int] = {}          # job id -> items imported so far (this process)


# What a job is doing (ImportJob.stage) and why it stopped (ImportJob.error), by code.
STAGES = {
    "waiting": _l("Waiting to start"),
    "applying": _l("Waiting to apply"),
    "fetching": _l("Fetching the %(supplier)s price list"),
    "comparing": _l("Comparing %(count)s products from the %(supplier)s price list"),
    "comparing_cached": _l("Comparing %(count)s products from the %(supplier)s price list "
                           "(cached, at most 5 minutes old)"),
    "importing": _l("Importing %(count)s products from the %(supplier)s price list"),
    "stopped": _l("Stopped"),
}
ERRORS = {
    "server_stopped": _l("The server stopped during this import: start it again."),
    "superseded": _l("Not applied: a newer import was previewed."),
    "unexpected": _l("The import stopped on an unexpected error: the server log has the "
                     "details."),
}


def stage_text(job: ImportJob) -> str:
    """What the job is doing, or what it did (a preview ready, an import done)."""
    if job.status in (READY, DONE) and job.summary:
        return prices.summary_text(job.summary, planned=job.status == READY)
    if job.stage in STAGES:
        return str(STAGES[job.stage]) % {"supplier": job.supplier, "count": job.total}
    return job.stage


def error_text(job: ImportJob) -> str:
    """Why the job stopped: ours in the reader's language, a supplier's as it said it."""
    return str(ERRORS.get(job.error, job.error or ""))


class ImportJobError(ValueError):
    """The import cannot start as asked. The message says what to change."""


def start(supplier: str, markup: str, round_to: int, actor: audit.Actor,
          merge: bool = False) -> ImportJob:
    """Record a new import job and start it (`merge`: see prices.plan_import).
    :raise ImportJobError: for a bad supplier or markup, or while another import is running."""
    if supplier not in prices.importable():
        raise ImportJobError(f"{supplier!r} has no price list to import.")
    try:
        prices.parse_markup(markup)
    except prices.PriceImportError as exc:
        raise ImportJobError(str(exc)) from None
    if round_to < 1:
        raise ImportJobError(_("Round up to must be at least 1."))
    with write_unit():
        # A job left running by a server that stopped would block every later import.
        db.session.execute(
            sa.update(ImportJob)
            .where(ImportJob.status == RUNNING, ImportJob.created_at < utcnow() - STALE)
            .values(status=FAILED, stage="stopped", finished_at=utcnow(),
                    error="server_stopped"))
        _refuse_while_running()
        # One preview waits at a time: applying an older one would undo what the newer shows.
        db.session.execute(
            sa.update(ImportJob).where(ImportJob.status == READY)
            .values(status=FAILED, stage="stopped", finished_at=utcnow(), error="superseded"))
        job = ImportJob(supplier=supplier, markup=markup.strip(), round_to=round_to,
                        merge=merge, stage="waiting", started_by=actor.name)
        db.session.add(job)
        db.session.flush()
        audit.record(actor, "prices.import_start", "import_job", job.id,
                     f"Price import from {supplier} started (markup {markup.strip()}, rounded "
                     f"up to {round_to}{', merged with other suppliers' if merge else ''})")
    _launch(preview, job.id, actor)
    return job


def apply(job_id: int, actor: audit.Actor) -> ImportJob:
    """Import the price list a job previewed. :raise ImportJobError: the job is not waiting
    to be applied (applied already, replaced, failed), or another import is running."""
    with write_unit():
        _refuse_while_running()
        # Conditional, so a double-click applies once.
        claimed = db.session.execute(
            sa.update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == READY)
            .values(status=RUNNING, stage="applying", done=0)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            raise ImportJobError(_("This preview cannot be applied any more: start the import "
                                   "again."))
        job = db.session.get(ImportJob, job_id)
    _launch(run, job_id, actor)
    return job


def _refuse_while_running() -> None:
    running = db.session.scalar(sa.select(ImportJob.id).where(ImportJob.status == RUNNING))
    if running is not None:
        raise ImportJobError(_("Another price import is running: wait for it to finish."))


def _launch(work, job_id: int, actor: audit.Actor) -> None:
    app = current_app._get_current_object()
    if app.config["IMPORT_JOBS_INLINE"]:
        work(app, job_id, actor)
    else:
        threading.Thread(target=work, args=(app, job_id, actor), daemon=True,
                         name=f"import-job-{job_id}").start()


def preview(app: Flask, job_id: int, actor: audit.Actor) -> None:
    """Fetch the price list and record what importing it would change (status READY)."""
    def work(job: ImportJob, markup: prices.Markup) -> None:
        name = job.supplier
        _update(job_id, stage="fetching")
        items, cached, fetched_at = prices.price_list(name)
        _update(job_id, total=len(items), stage="comparing_cached" if cached else "comparing")
        plan = prices.plan_import(name, _counted(job_id, items), markup, job.round_to,
                                  job.merge)
        _update(job_id, status=READY, done=len(items), list_fetched_at=fetched_at,
                stage=prices.describe(plan.summary, planned=True), preview=plan.shown(),
                summary=dataclasses.asdict(plan.summary, dict_factory=_json))
    _guarded(app, job_id, work)


def run(app: Flask, job_id: int, actor: audit.Actor) -> None:
    """Import the previewed price list, recording the outcome on the row."""
    def work(job: ImportJob, markup: prices.Markup) -> None:
        name = job.supplier
        items = prices.previewed_list(name, job.list_fetched_at)
        _update(job_id, total=len(items), stage="importing")
        plan = prices.import_items(name, _counted(job_id, items), markup, job.round_to,
                                   actor=actor, merge=job.merge)
        _update(job_id, status=DONE, stage=prices.describe(plan.summary), done=len(items),
                summary=dataclasses.asdict(plan.summary, dict_factory=_json),
                finished_at=utcnow())
    _guarded(app, job_id, work)


def _guarded(app: Flask, job_id: int, work) -> None:
    """Run `work(job, markup)` in an app context; a failure ends the job with its reason."""
    with app.app_context():
        try:
            job = db.session.get(ImportJob, job_id)
            work(job, prices.parse_markup(job.markup))
        except (prices.PriceImportError, SupplierError) as exc:
            _update(job_id, status=FAILED, stage="stopped", error=str(exc), finished_at=utcnow())
        except Exception:
            log.exception("price import job %s failed", job_id)
            _update(job_id, status=FAILED, stage="stopped", finished_at=utcnow(),
                    error="unexpected")
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
    with write_unit():
        db.session.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(**values))


def _json(pairs) -> dict:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value
            for key, value in pairs}
