"""The storefront: catalog, product page, account check, price summary, Buy."""
from __future__ import annotations

import hashlib
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from merchant import catalog
from merchant.catalog import accounts, flash_sales, promos
from merchant.catalog import cache as catalog_cache
from merchant.core import shop_settings
from merchant.core.extensions import csrf, limiter
from merchant.core.models import utcnow
from merchant.customers import ledger, levels, saldo, saved_accounts
from merchant.orders import checkout
from merchant.trust import reviews
from merchant.web import page_cache, remembered
from merchant.web.customer_session import current_customer
from merchant.web.htmx import is_htmx, vary
from merchant.web.order_pages import remember

bp = Blueprint("shop", __name__)
csrf.exempt(bp)     # no token in the shared pages: web/cross_origin.py refuses cross-site posts


@bp.get("/")
def index():
    """The catalog: featured products, then a shelf per category; or the products matching a
    search or a category (the grid alone for htmx's instant search)."""
    query = request.args.get("q", "").strip()[:catalog.SEARCH_MAX]
    category = request.args.get("category", "")
    category = category if category in catalog.CATEGORIES else ""
    template = "shop/_catalog.html" if is_htmx() else "shop/index.html"
    now = utcnow()
    if not query:
        sales, until = flash_sales.phase(now)
        page = page_cache.shared(template, lambda: _catalog_context(query, category, now),
                                 {"category": catalog.CATEGORIES, "q": ("",)},
                                 state=sales, until=until)
        if page is not None:
            return page
    return vary(render_template(template, **_catalog_context(query, category, now)))


def _catalog_context(query: str, category: str, now) -> dict:
    products = catalog_cache.active_products(query, category)
    context = {"products": products, "query": query, "category": category,
               "categories": catalog.CATEGORIES, "shelves": None, "flash_shelf": []}
    if not query and not category:
        context["featured"] = [product for product in products if product.featured]
        context["shelves"] = catalog.shelves([p for p in products if not p.featured])
        context["flash_shelf"] = flash_sales.shelf(products, now)
    return context


def _product_or_404(slug: str):
    product = catalog_cache.product_by_slug(slug)
    if product is None:
        abort(404)
    return product


def _summary(product, values, promo_error=None, now=None) -> dict:
    """The price summary's context: the quote for the chosen package, method and promo code
    (or why there is none), at the flash sale's price while it lasts, and the code's offer or
    refusal."""
    package = catalog_cache.find_package(product, values.get("package"))
    method = catalog_cache.find_method(values.get("method"))
    offer = flash_sales.live(now).get(package.id) if package is not None else None
    offer = offer if offer is not None and offer.left else None
    customer = current_customer()
    if values.get("method") == saldo.SALDO and customer is not None and package is not None:
        method = saldo.method(package.currency)
    promo = None
    if promos.normalize(values.get("promo")) and promo_error is None:
        email, whatsapp, _ = checkout.read_contact(values)
        try:
            promo = promos.check(values.get("promo"), product, package,
                                 promos.contacts(email, whatsapp))
        except promos.PromoRefused as exc:
            promo_error = str(exc)
        if promo is not None and offer is not None and not offer.with_promo:
            promo, promo_error = None, str(flash_sales.NO_PROMO)
    context = {"quote": None, "quote_error": None, "promo_error": promo_error,
               "promo_offer": promos.describe(promo) if promo else None,
               "promo_code": promo.code if promo else None}
    if package is not None and method is not None:
        try:
            context["quote"] = catalog.quote(package, method, promo,
                                             levels.price_for(current_customer(), package),
                                             price=offer.price if offer else None)
        except catalog.CatalogError as exc:
            context["quote_error"] = str(exc)
    quote = context["quote"]
    if quote is not None and method.code == saldo.SALDO:
        held = saldo.balance(customer, quote.total.currency)
        if held.amount < quote.total.amount:
            context["quote_error"] = str(ledger.SaldoShort(held, quote.total))
    return context


def render_product(product, values=None, errors=None, check=None, status=200, recalled=None,
                   saved=None):
    """The whole product page, from whatever the customer has entered so far (`recalled`: the
    account last checked on this device, already filled in; `saved`: the signed-in customer's
    saved account filled in)."""
    values = dict(values or {})
    context = _product_context(product, values, errors, check, recalled, saved)
    return vary(render_template("shop/product.html", **context), status)


def _product_context(product, values, errors=None, check=None, recalled=None,
                     saved=None, now=None) -> dict:
    if check is None:
        check = accounts.restore(product, values)
    errors = errors or {}
    now = now or utcnow()
    packages = catalog_cache.active_packages(product)
    live = flash_sales.live(now)
    offers = {p.id: live[p.id] for p in packages if p.id in live}
    customer = current_customer()
    level = levels.get(customer.level_id) if customer else None
    return {"product": product, "packages": packages,
            "methods": catalog_cache.active_methods(), "values": values, "errors": errors,
            "check": check, "recalled": recalled, "offers": offers,
            "reviews": reviews.summary(product.id),
            # The sale prices this page shows: the purchase holds the buyer to them.
            "flash_shown": ",".join(str(o.item_id) for o in offers.values() if o.left),
            "customer": customer, "level": level,
            # A guest's page (the shared one) shows what each level would pay; a signed-in
            # customer's shows their own level's prices.
            "level_prices": levels.prices_for(level, packages),
            "level_offers": levels.offers(packages) if customer is None else {},
            "saved_accounts": saved_accounts.for_product(customer, product.id),
            "saved": saved,
            # A signed-in customer may pay with saldo: the method shows the balance.
            "saldo_balance": saldo.balance(customer, shop_settings.current().currency)
            if customer is not None else None,
            **_summary(product, values, errors.get("promo"), now)}


@bp.get("/p/<slug>")
def product_page(slug):
    """A product: account fields, packages, payment methods, contact, Buy; the account last
    checked on this device filled in when the customer has typed none."""
    product = _product_or_404(slug)
    values = request.args.to_dict()
    recalled = None
    names = [spec["name"] for spec in product.account_fields]
    customer = current_customer()
    if customer is not None and not any(values.get(name) for name in names):
        saved = _saved_choice(customer, product, values.pop("saved", None))
        if saved is not None:
            _fill(product, values, saved.account)
        return render_product(product, values, saved=saved)
    if not any(values.get(name) for name in names):
        recalled = remembered.recall(product)
    if recalled is None and current_customer() is None:
        # Nothing of this visitor's on the page: the copy every visitor gets.
        now = utcnow()
        sales, until = flash_sales.phase(now)
        page = page_cache.shared("shop/product.html",
                                 lambda: _product_context(product, {}, now=now),
                                 state=sales, until=until)
        if page is not None:
            return page
    if recalled:
        _fill(product, values, recalled["account"])
    return render_product(product, values, recalled=recalled)


def _fill(product, values: dict, account: dict) -> None:
    names = [spec["name"] for spec in product.account_fields]
    values.update({name: str(account.get(name, "")) for name in names})
    values.update({accounts.confirm_name(spec): str(account.get(spec["name"], ""))
                   for spec in accounts.confirm_fields(product)})


def _saved_choice(customer, product, chosen):
    """The saved account to fill in: the one chosen (?saved=<id>), else the newest."""
    saved = saved_accounts.for_product(customer, product.id)
    return next((s for s in saved if str(s.id) == str(chosen)), saved[0] if saved else None)


@bp.post("/p/<slug>/forget")
def forget(slug):
    """Forget the account remembered on this device for this product."""
    product = _product_or_404(slug)
    response = redirect(url_for("shop.product_page", slug=product.slug), code=303)
    remembered.forget(response, product)
    return response


def _verify_limit():
    return current_app.config["RATELIMIT_VERIFY"]


@bp.post("/p/<slug>/verify")
@limiter.limit(_verify_limit)
def verify(slug):
    """Check the account: the nickname, or a specific error (partial for htmx)."""
    product = _product_or_404(slug)
    form = request.form
    names = [spec["name"] for spec in product.account_fields] + \
        [accounts.confirm_name(spec) for spec in accounts.confirm_fields(product)]
    if is_htmx() and form.get("auto") and not all((form.get(n) or "").strip() for n in names):
        # Checked on blur while other fields are still empty: say nothing yet.
        return vary(render_template("shop/_account_check.html", product=product, check=None))
    check = accounts.check(product, form)
    key_owner()        # before Buy, so that two quick taps on it share their owner
    status = 200 if check.ok else 422
    if is_htmx():
        response = vary(render_template("shop/_account_check.html", product=product,
                                        check=check), status)
    else:
        response = render_product(product, form, errors=check.errors, check=check,
                                  status=status)
    if check.ok:
        remembered.remember(response, product, check)
    return response


def key_owner() -> str:
    """This browser's secret that its idempotency keys are bound to, made by its first
    account check (or Show total): the pages themselves leave the session alone."""
    return session.setdefault("key_owner", secrets.token_hex(16))


def _buyer() -> str:
    """Who a Buy's idempotency key belongs to: the session's secret; for a first post
    without one (a game with no account check), this connection's address and browser,
    which two quick taps share and a stranger elsewhere does not."""
    owner = session.get("key_owner")
    if owner:
        return owner
    return f"anonymous\n{request.remote_addr}\n{request.user_agent.string}"


@bp.errorhandler(429)
def too_many_checks(error):
    """Rate limit hit (account checks, Buy presses): say so where the customer looks."""
    product = catalog_cache.product_by_slug((request.view_args or {}).get("slug", ""))
    if product is None:
        return error
    if request.endpoint == "shop.place_order":
        return render_product(product, request.form, status=429, errors={
            "payment": _("Too many orders in a short time. Wait a minute, then press Buy "
                         "again.")})
    check = accounts.AccountCheck(accounts.LIMITED, {})
    if is_htmx():
        return vary(render_template("shop/_account_check.html", product=product, check=check),
                    429)
    return render_product(product, request.form, check=check, status=429)


@bp.route("/p/<slug>/summary", methods=["GET", "POST"])
def summary(slug):
    """Package price, promo discount, method fee and total (partial for htmx; the no-JS
    button posts the form, so its contact details and keys stay out of the address)."""
    product = _product_or_404(slug)
    values = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        key_owner()
    if is_htmx():
        return vary(render_template("shop/_summary.html", **_summary(product, values)))
    return render_product(product, values)


def _order_limit():
    return current_app.config["RATELIMIT_ORDER"]


def _order_account_limit():
    return current_app.config["RATELIMIT_ORDER_ACCOUNT"]


def _account_key() -> str:
    """The game account a Buy is for: the product and its account fields, as typed."""
    slug = (request.view_args or {}).get("slug", "")
    product = catalog_cache.product_by_slug(slug)
    names = [spec["name"] for spec in product.account_fields] if product else []
    account = "\n".join((request.form.get(n) or "").strip().lower() for n in names)
    return "order-account:" + hashlib.sha256(f"{slug}\n{account}".encode()).hexdigest()


@bp.post("/p/<slug>/order")
@limiter.limit(_order_limit)
@limiter.limit(_order_account_limit, key_func=_account_key)
def place_order(slug):
    """Create the order and send the customer to its page (remembered by this browser)."""
    product = _product_or_404(slug)
    customer = current_customer()
    try:
        order = checkout.place_order(product, request.form, key_owner=_buyer(),
                                     customer=customer)
    except checkout.PurchaseError as exc:
        return render_product(product, request.form, errors=exc.errors, status=422)
    if customer is not None and request.form.get("save_account"):
        saved_accounts.save_from_order(customer, order)
    remember(order)
    return redirect(url_for("orders.show", ref=order.ref), code=303)
