"""Flash sales (owner only): the list, schedule one, change it, turn it off."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from merchant.catalog import flash_sales
from merchant.core import audit
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.flash_sales_forms import FlashSaleForm
from merchant.web.admin.promos_forms import ActiveForm

# flash_sales.state() -> what the list and the form show
STATE_LABELS = {"on": _l("On"), "off": _l("Off"), "scheduled": _l("Scheduled"),
                "ended": _l("Ended"), "sold out": _l("Sold out")}


def _sale_or_404(sale_id: int):
    sale = flash_sales.get(sale_id)
    if sale is None:
        abort(404)
    return sale


@bp.get("/flash-sales", endpoint="flash_sales")
@owner_only
def flash_sales_list():
    """Every sale: its times, packages, units sold and whether it runs."""
    return render_template("admin/flash_sales/index.html", sales=flash_sales.all_sales(),
                           state=flash_sales.state, states=STATE_LABELS,
                           active_form=ActiveForm())


@bp.route("/flash-sales/new", methods=["GET", "POST"])
@owner_only
def flash_sales_new():
    form = FlashSaleForm()
    return _edit(form, None)


@bp.route("/flash-sales/<int:sale_id>", methods=["GET", "POST"])
@owner_only
def flash_sales_edit(sale_id: int):
    sale = _sale_or_404(sale_id)
    return _edit(FlashSaleForm.of(sale), sale)


def _edit(form: FlashSaleForm, sale):
    packages = flash_sales.packages_for_sale()
    error, actor = None, audit.Actor.of(current_user)
    if form.is_submitted():
        items_ok = form.read_items(request.form, packages)
        if form.validate_on_submit() and items_ok:
            try:
                if sale is None:
                    sale = flash_sales.create(form.values(), form.items, actor)
                    flash(_("Scheduled the flash sale %(name)s.", name=sale.name))
                else:
                    flash_sales.update(sale, form.values(), form.items, actor)
                    flash(_("Saved the flash sale %(name)s.", name=sale.name))
                return redirect_to(url_for("admin.flash_sales"))
            except flash_sales.FlashSaleError as exc:
                for name, message in exc.errors.items():
                    if name == "items":
                        form.item_errors.append(message)
                    else:
                        getattr(form, name).errors = [message]
                error = _("Nothing was saved: %(why)s", why=exc)
    status = 422 if error or form.errors or form.item_errors else 200
    return render_template(
        "admin/flash_sales/form.html", form=form, sale=sale, error=error, packages=packages,
        state=flash_sales.state(sale) if sale else None, states=STATE_LABELS,
        held={item.package_id: item.sold for item in sale.items} if sale else {},
        orders=flash_sales.recent_orders(sale) if sale else [],
        history=audit.entries_for("flash_sale", sale.id) if sale else []), status


@bp.post("/flash-sales/<int:sale_id>/active")
@owner_only
def flash_sales_active(sale_id: int):
    """Turn a sale on or off (orders placed in it keep their price)."""
    sale = _sale_or_404(sale_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        flash(_("Choose on or off."))
    else:
        flash_sales.set_active(sale, form.active.data == "1", audit.Actor.of(current_user))
        flash(_("%(method)s is on.", method=sale.name) if sale.active
              else _("%(method)s is off.", method=sale.name))
    return redirect_to(url_for("admin.flash_sales"))
