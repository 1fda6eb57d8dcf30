"""Archive, unarchive and delete (owner only): products, packages, payment methods, promo codes.

Archive and Delete each ask first on a page of their own (it works without JavaScript);
Unarchive is one press, as it hides nothing.
"""
from __future__ import annotations

from flask import abort, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from merchant.catalog import archive
from merchant.core import audit
from merchant.web.admin import bp, owner_only, redirect_to


class ConfirmForm(FlaskForm):
    """No fields: the button, with its CSRF token."""


def _row_or_404(kind: str, row_id: int):
    row = archive.find(kind, row_id)
    if row is None:
        abort(404)
    return row


def list_url(kind: str, row, archived: bool = False) -> str:
    """The panel list the row is shown in (its product's page, for a package)."""
    shown = {"archived": 1} if archived else {}
    if kind == "package":
        return url_for("admin.products_show", product_id=row.product_id)
    endpoint = {"product": "admin.products", "method": "admin.methods",
                "promo": "admin.promos"}[kind]
    return url_for(endpoint, **shown)


def _page(kind: str, row, action: str, error: str | None = None, status: int = 200):
    spec = archive.KINDS[kind]
    return render_template("admin/archive.html", kind=kind, row=row, action=action,
                           title=spec.title(row), label=spec.label, error=error,
                           form=ConfirmForm(), back=list_url(kind, row)), status


@bp.route("/archive/<kind>/<int:row_id>", methods=["GET", "POST"])
@owner_only
def archive_row(kind: str, row_id: int):
    """Ask, then archive: hidden from customers and the lists, kept for old orders."""
    row = _row_or_404(kind, row_id)
    if not ConfirmForm().validate_on_submit():
        return _page(kind, row, "archive")
    title = archive.KINDS[kind].title(row)
    archive.archive(kind, row, audit.Actor.of(current_user))
    flash(_("%(name)s is archived: customers no longer see it, old orders keep it.",
            name=title))
    return redirect_to(list_url(kind, row))


@bp.post("/archive/<kind>/<int:row_id>/undo")
@owner_only
def unarchive_row(kind: str, row_id: int):
    """Back in the lists, still off: the owner turns it on when it is ready."""
    row = _row_or_404(kind, row_id)
    if ConfirmForm().validate_on_submit():
        archive.unarchive(kind, row, audit.Actor.of(current_user))
        flash(_("%(name)s is back in the list. It stays off until you turn it on.",
                name=archive.KINDS[kind].title(row)))
    return redirect_to(list_url(kind, row))


@bp.route("/delete/<kind>/<int:row_id>", methods=["GET", "POST"])
@owner_only
def delete_row(kind: str, row_id: int):
    """Ask, then delete for good: refused, with the reason, while an order refers to it."""
    row = _row_or_404(kind, row_id)
    refusal = archive.refusal(kind, row)
    if not ConfirmForm().validate_on_submit():
        return _page(kind, row, "delete", refusal)
    back = list_url(kind, row, archived=row.archived_at is not None)
    try:
        title = archive.delete(kind, row, audit.Actor.of(current_user))
    except archive.ArchiveError as exc:
        return _page(kind, row, "delete", str(exc), 422)
    flash(_("%(name)s is deleted.", name=title))
    return redirect_to(back)
