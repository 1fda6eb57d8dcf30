"""Customers (every admin: the list, a customer's page and orders, sign out everywhere; the
owner: a level by hand) and price levels (the owner: definitions and hand prices)."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.core import audit
from merchant.core.extensions import db
from merchant.core.models import Customer, Package, Product
from merchant.core.validation import bounded_id
from merchant.customers import directory, history, levels, sessions
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.customers_forms import (
    CustomerLevelForm,
    HandPriceForm,
    LevelForm,
    PlainForm,
)


def _actor() -> audit.Actor:
    return audit.Actor.of(current_user)



def _level_choices() -> list[tuple[str, str]]:
    return [("", _("No level (retail prices)"))] + \
        [(str(level.id), level.name) for level in levels.all_levels()]


@bp.get("/customers", endpoint="customers")
def customers_list():
    """Accounts, newest first: search by email, number or name; filter by level."""
    query = request.args.get("q", "")
    level = request.args.get("level", "")
    found = directory.search(query, bounded_id(level), no_level=level == "none")
    return render_template("admin/customers/list.html", found=found, query=query,
                           level=level, levels=levels.all_levels())


@bp.get("/customers/<int:customer_id>")
def customer_page(customer_id: int):
    """One customer: contacts, level (set by hand), orders, saldo, sign out everywhere."""
    customer = db.get_or_404(Customer, customer_id)
    form = CustomerLevelForm(data={"level": str(customer.level_id or "")})
    form.level.choices = _level_choices()
    return _customer_page(customer, form)


def _customer_page(customer: Customer, form, status: int = 200):
    return render_template("admin/customers/show.html", customer=customer, level_form=form,
                           plain_form=PlainForm(), orders=history.orders_of(customer),
                           orders_count=history.count_of(customer.id),
                           entries=audit.entries_for("customer", customer.id)), status


@bp.post("/customers/<int:customer_id>/level")
@owner_only
def customer_level(customer_id: int):
    """Move a customer to a level (or none) by hand; audited."""
    customer = db.get_or_404(Customer, customer_id)
    form = CustomerLevelForm()
    form.level.choices = _level_choices()
    if not form.validate_on_submit():
        return _customer_page(customer, form, 422)
    level = levels.get(bounded_id(form.level.data))
    levels.set_level(customer, level, _actor())
    flash(_("Price level saved."))
    return redirect_to(url_for("admin.customer_page", customer_id=customer.id))


@bp.post("/customers/<int:customer_id>/sign-out")
def customer_sign_out(customer_id: int):
    """Sign the customer out on every device (a lost phone, a stolen account); audited."""
    customer = db.get_or_404(Customer, customer_id)
    if PlainForm().validate_on_submit():
        audit.record(_actor(), "customer.sign_out", "customer", customer.id,
                     f"Signed customer {customer.id} out everywhere")
        sessions.end_everywhere(customer)
        flash(_("The customer is signed out on every device."))
    return redirect_to(url_for("admin.customer_page", customer_id=customer.id))


# Price levels ---------------------------------------------------------------------------------

@bp.get("/levels", endpoint="levels")
@owner_only
def levels_list():
    """The levels, their rules and who moves up to them."""
    return render_template("admin/customers/levels.html", levels=levels.all_levels(),
                           describe=levels.describe)


@bp.route("/levels/new", methods=["GET", "POST"])
@owner_only
def levels_new():
    form = LevelForm()
    error = None
    if form.validate_on_submit():
        try:
            levels.create(form.values(), _actor())
        except levels.LevelError as exc:
            error = str(exc)
        else:
            flash(_("Added the level %(name)s.", name=form.name.data))
            return redirect_to(url_for("admin.levels"))
    status = 422 if error or form.errors else 200
    return render_template("admin/customers/level_form.html", form=form, level=None,
                           error=error), status


def _level_or_404(level_id: int):
    level = levels.get(level_id)
    if level is None:
        abort(404)
    return level


def _packages() -> list[tuple[Product, Package]]:
    return list(db.session.execute(
        db.select(Product, Package).join(Package, Package.product_id == Product.id)
        .where(Package.archived_at.is_(None), Product.archived_at.is_(None))
        .order_by(Product.sort_order, Product.name, Package.sort_order, Package.price)).all())


@bp.route("/levels/<int:level_id>", methods=["GET", "POST"])
@owner_only
def levels_edit(level_id: int):
    """Change a level; its price for every package, and prices set by hand."""
    level = _level_or_404(level_id)
    form = LevelForm() if request.method == "POST" else LevelForm.of(level)
    error = None
    if form.validate_on_submit():
        try:
            levels.update(level, form.values(), _actor())
        except levels.LevelError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            flash(_("Saved the level %(name)s.", name=level.name))
            return redirect_to(url_for("admin.levels_edit", level_id=level.id))
    status = 422 if error or form.errors else 200
    return _level_page(level, form, error, status=status)


def _level_page(level, form, error=None, price_error=None, status=200):
    hand = levels.hand_prices_of(level)
    rows = [(product, package, levels.price_of(level, package, hand.get(package.id)),
             hand.get(package.id)) for product, package in _packages()]
    return render_template("admin/customers/level_form.html", form=form, level=level,
                           error=error, price_error=price_error, rows=rows,
                           price_form=HandPriceForm()), status


@bp.post("/levels/<int:level_id>/prices")
@owner_only
def levels_price(level_id: int):
    """Set (or clear, left empty) the level's price for one package by hand."""
    level = _level_or_404(level_id)
    form = HandPriceForm()
    package = db.session.get(Package, bounded_id(request.form.get("package")) or 0)
    if package is None:
        abort(404)
    form.currency.data = package.currency
    if not form.validate_on_submit():
        return _level_page(level, LevelForm.of(level),
                           price_error=next(iter(form.price.errors), None), status=422)
    try:
        levels.set_hand_price(level, package, form.price.data, _actor())
    except levels.LevelError as exc:
        db.session.rollback()
        return _level_page(level, LevelForm.of(level), price_error=str(exc), status=422)
    flash(_("Saved the price of %(package)s.", package=package.name))
    return redirect_to(url_for("admin.levels_edit", level_id=level.id))
