"""Reviews (owner only): every buyer's review, newest first; hide one (with a reason, kept in
the audit log) or show it again. Nobody edits what a buyer wrote."""
from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.core.audit import Actor
from merchant.core.validation import bounded_id
from merchant.trust import reviews
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.reviews_forms import HideReviewForm, ShowReviewForm


@bp.get("/reviews", endpoint="reviews")
@owner_only
def reviews_list():
    """The reviews, newest first, each with its order and whether it is shown."""
    return _page()


def _page(status: int = 200, error: str | None = None, hide: HideReviewForm | None = None,
          failed: int | None = None):
    rows, older = reviews.listing(bounded_id(request.args.get("before", "")))
    return render_template("admin/reviews/list.html", rows=rows, error=error, failed=failed,
                           hide=hide or HideReviewForm(formdata=None),
                           show=ShowReviewForm(formdata=None),
                           older_url=url_for("admin.reviews", before=older) if older else None
                           ), status


@bp.post("/reviews/<int:review_id>/hide")
@owner_only
def reviews_hide(review_id):
    """Hide a review from the product page, saying why."""
    form = HideReviewForm()
    if not form.validate_on_submit():
        return _page(422, hide=form, failed=review_id)
    try:
        reviews.hide(review_id, Actor.of(current_user), form.reason.data)
    except reviews.ReviewRefused as exc:
        return _page(422, error=str(exc), hide=form, failed=review_id)
    flash(_("The review is hidden: the product page no longer shows or counts it."))
    return redirect_to(url_for("admin.reviews"))


@bp.post("/reviews/<int:review_id>/show")
@owner_only
def reviews_show(review_id):
    """Show a hidden review again."""
    form = ShowReviewForm()
    if not form.validate_on_submit():
        return _page(422)
    try:
        reviews.show_again(review_id, Actor.of(current_user))
    except reviews.ReviewRefused as exc:
        return _page(422, error=str(exc))
    flash(_("The review is shown on the product page again."))
    return redirect_to(url_for("admin.reviews"))
