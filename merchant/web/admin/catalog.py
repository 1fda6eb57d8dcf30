"""Catalog: products, their packages and pictures, bulk price changes and the price import."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from merchant.catalog import account_presets, import_jobs, prices
from merchant.catalog import edits as catalog_edits
from merchant.core import audit, media, shop_settings
from merchant.core.extensions import db
from merchant.core.models import ImportJob, Package, Product
from merchant.supply import offers
from merchant.web.admin import bp, owner_only, redirect_to
from merchant.web.admin.catalog_forms import (
    FAQ_MAX,
    OFFERS_MAX,
    ConfirmForm,
    ImportForm,
    PackageForm,
    ProductForm,
    RepriceForm,
)
from merchant.web.htmx import is_htmx, vary

# The import job's progress and outcome in the reader's language, on every page that lists jobs.
bp.add_app_template_global(import_jobs.stage_text, "import_stage")
bp.add_app_template_global(import_jobs.error_text, "import_error")


def _actor() -> audit.Actor:
    return audit.Actor.of(current_user)


def _product_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        abort(404)
    return product


@bp.get("/catalog")
@owner_only
def products():
    """Every product, its packages on sale, and a markup for the whole catalog."""
    return _catalog_page(RepriceForm())


def _catalog_page(form: RepriceForm, error: str | None = None, status: int = 200,
                  plan: prices.Repriced | None = None):
    archived = request.args.get("archived") == "1"
    return render_template("admin/catalog/index.html", rows=catalog_edits.products(archived),
                           archived=archived, form=form, error=error, plan=plan), status


@bp.route("/catalog/new", methods=["GET", "POST"])
@owner_only
def products_new():
    """A new product."""
    return _product_form(None)


@bp.route("/catalog/<int:product_id>/edit", methods=["GET", "POST"])
@owner_only
def products_edit(product_id: int):
    """A product's name, address, picture, account fields and nickname check."""
    return _product_form(_product_or_404(product_id))


def _product_form(product: Product | None):
    current = account_presets.matching(product.account_fields) if product else None
    form = ProductForm(obj=product, current_preset=current)
    if request.method == "GET":
        form.preset.data = current or "user_id_zone"
        for spec in product.account_fields if product else []:
            form.hints.append_entry(spec.get("hint", ""))
    specs = product.account_fields if product else []
    for spec, entry in zip(specs, form.hints, strict=False):
        entry.label.text = _("Message when the %(field)s looks wrong",
                             field=spec.get("label", spec["name"]))
    if request.method == "GET":
        # Room for two more questions; empty ones are not saved.
        for _extra in range(min(2, FAQ_MAX - len(form.faq))):
            form.faq.append_entry()
    for number, entry in enumerate(form.faq, start=1):
        entry.form.q.label.text = _("Question %(number)s", number=number)
        entry.form.a.label.text = _("Answer %(number)s", number=number)
    error = None
    if form.validate_on_submit():
        values = form.values()
        try:
            if form.picture.data:
                values["image"] = media.save_image(form.picture.data)
            saved = catalog_edits.save_product(_actor(), product.id if product else None,
                                               values, form.preset.data, form.hints.data)
        except (media.MediaError, catalog_edits.CatalogEditError) as exc:
            error = str(exc)
        else:
            flash(_("%(name)s saved.", name=saved.name))
            return redirect_to(url_for("admin.products_show", product_id=saved.id))
    status = 422 if error or form.errors else 200
    return render_template("admin/catalog/product_form.html", form=form, product=product,
                           error=error), status


@bp.get("/catalog/<int:product_id>")
@owner_only
def products_show(product_id: int):
    """A product with its packages and their prices, costs and margins."""
    return _product_page(_product_or_404(product_id), RepriceForm())


def _product_page(product: Product, form: RepriceForm, error: str | None = None,
                  status: int = 200, plan: prices.Repriced | None = None):
    preset = account_presets.matching(product.account_fields)
    uncosted = [package.name for package in product.packages
                if package.supplier_cost is None and package.archived_at is None]
    packages = [p for p in product.packages if p.archived_at is None]
    return render_template(
        "admin/catalog/product.html", product=product, form=form, error=error, plan=plan,
        packages=packages, offers=offers.offers_by_package(packages),
        archived_packages=[p for p in product.packages if p.archived_at is not None],
        preset=account_presets.PRESETS.get(preset), uncosted=uncosted,
        history=audit.entries_for("product", product.id)[-10:]), status


@bp.route("/catalog/<int:product_id>/packages/new", methods=["GET", "POST"])
@owner_only
def products_package_new(product_id: int):
    """A new package of a product."""
    return _package_form(_product_or_404(product_id), None)


@bp.route("/catalog/packages/<int:package_id>/edit", methods=["GET", "POST"])
@owner_only
def products_package_edit(package_id: int):
    """A package's name, amounts, price, supplier and cost."""
    package = db.session.get(Package, package_id)
    if package is None:
        abort(404)
    return _package_form(package.product, package)


def _package_form(product: Product, package: Package | None):
    currency = package.currency if package else (
        product.packages[0].currency if product.packages else shop_settings.current().currency)
    form = PackageForm(obj=package, currency=currency)
    if request.method == "GET":
        for rank, offer in enumerate(offers.offers_of(package) if package else [], start=1):
            form.offers.append_entry({"rank": rank, "supplier": offer.supplier,
                                      "sku": offer.sku})
            form.offers[-1].form.cost.data = offer.cost
        form.prepare_offers()
    error = None
    if form.validate_on_submit():
        try:
            saved = catalog_edits.save_package(_actor(), product.id,
                                               package.id if package else None, form.values(),
                                               below_cost_ok=form.below_cost.data)
        except (prices.BelowCost, catalog_edits.CatalogEditError) as exc:
            error = str(exc)
        else:
            flash(_("%(product)s %(package)s saved.", product=product.name, package=saved.name))
            for warning in catalog_edits.cost_warnings(saved):
                flash(warning)
            return redirect_to(url_for("admin.products_show", product_id=product.id))
    status = 422 if error or form.errors else 200
    # Room for two more offers (rows without a supplier are not saved).
    for _extra in range(min(2, OFFERS_MAX - len(form.offers))):
        form.offers.append_entry()
    form.prepare_offers()
    warnings = catalog_edits.cost_warnings(package) if package else []
    return render_template("admin/catalog/package_form.html", form=form, product=product,
                           package=package, currency=currency, error=error,
                           warnings=warnings, clear_form=ConfirmForm()), status


@bp.post("/catalog/packages/<int:package_id>/hand-price")
@owner_only
def products_package_hand_price(package_id: int):
    """Clear a package's "price set by hand" mark: price imports set its price again."""
    package = db.session.get(Package, package_id)
    if package is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        catalog_edits.clear_hand_price(_actor(), package.id)
        flash(_("Price imports will set the price of %(package)s again.", package=package.name))
    else:
        flash(_("This form was open too long. Reload the page and try again."))
    return redirect_to(url_for("admin.products_package_edit", package_id=package.id))


@bp.post("/catalog/reprice")
@bp.post("/catalog/<int:product_id>/reprice")
@owner_only
def products_reprice(product_id: int | None = None):
    """Supplier cost plus a markup, rounded up: for the ticked packages of a product, all of
    its packages, or (without a product) the whole catalog. "Preview" shows the new prices
    and changes nothing."""
    product = _product_or_404(product_id) if product_id else None
    form = RepriceForm()
    error = plan = None
    if form.validate_on_submit():
        packages = catalog_edits.packages(product, form.packages.data)
        markup = prices.parse_markup(form.markup.data)
        try:
            if request.form.get("preview"):
                plan = prices.plan_reprice(packages, markup, form.round_to.data)
            else:
                result = prices.reprice(packages, markup, form.round_to.data, _actor(),
                                        below_cost_ok=form.below_cost.data)
        except (prices.BelowCost, prices.PriceImportError) as exc:
            error = str(exc)
        else:
            if plan is None:
                flash(result.describe())
                return redirect_to(url_for("admin.products_show", product_id=product.id)
                                   if product else url_for("admin.products"))
    status = 200 if plan else 422
    if product:
        return _product_page(product, form, error, status, plan)
    return _catalog_page(form, error, status, plan)


@bp.route("/catalog/import", methods=["GET", "POST"])
@owner_only
def products_import():
    """Import a supplier's price list: products by brand, packages by SKU, cost plus markup."""
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        try:
            job = import_jobs.start(form.supplier.data, form.markup.data, form.round_to.data,
                                    _actor(), merge=form.merge.data)
        except import_jobs.ImportJobError as exc:
            error = str(exc)
        else:
            return redirect_to(url_for("admin.products_import_job", job_id=job.id))
    status = 422 if error or form.errors else 200
    return render_template("admin/catalog/import.html", form=form, error=error,
                           jobs=import_jobs.recent()), status


@bp.get("/catalog/import/<int:job_id>")
@owner_only
def products_import_job(job_id: int):
    """One import's progress, then its preview to apply; htmx polls the block every second
    while it runs and stops at 286."""
    return _import_job_page(_import_job_or_404(job_id))


@bp.post("/catalog/import/<int:job_id>/apply")
@owner_only
def products_import_apply(job_id: int):
    """Apply the changes an import's preview showed."""
    job = _import_job_or_404(job_id)
    error = None
    if ConfirmForm().validate_on_submit():
        try:
            import_jobs.apply(job.id, _actor())
        except import_jobs.ImportJobError as exc:
            error = str(exc)
        else:
            return redirect_to(url_for("admin.products_import_job", job_id=job.id))
    db.session.refresh(job)
    return _import_job_page(job, error or _("This form was open too long. Reload the page and "
                                            "try again."), 422)


def _import_job_or_404(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None:
        abort(404)
    return job


def _import_job_page(job: ImportJob, error: str | None = None, status: int = 200):
    running = job.status == import_jobs.RUNNING
    context = {"job": job, "running": running, "done": import_jobs.progress(job),
               "preview": job.preview if job.status == import_jobs.READY else None,
               "apply_form": ConfirmForm(), "error": error}
    if is_htmx():
        return vary(render_template("admin/catalog/_import_job.html", **context),
                    status if status != 200 else (200 if running else 286))
    return vary(render_template("admin/catalog/import_job.html", **context), status)
