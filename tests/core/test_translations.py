"""Every string the code shows is translated: the catalogs are complete and up to date, and
every customer page in Bahasa Indonesia shows no word that skipped the catalog."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import catalogs
import pytest
import sqlalchemy as sa
from babel import dates as babel_dates
from babel.messages.catalog import Catalog
from conftest import (
    buy,
    create_admin,
    delivered_order,
    failed_order,
    get_order,
    make_app,
    order_ref,
    package_id,
    sandbox_pay,
    set_product,
    sign_in,
    verify,
    work,
)
from flask import render_template_string
from shoppers import buy_with_saldo, new_customer, paid_deposit, signed_in

from merchant import orders
from merchant.catalog import promos
from merchant.core import audit, money, shop_settings
from merchant.core.extensions import babel, db
from merchant.core.models import (
    AuditEntry,
    Customer,
    Deposit,
    Order,
    OrderEvent,
    Package,
    PaymentMethod,
    Product,
    Promo,
    WebhookEvent,
)
from merchant.vendors import payments, suppliers, verifiers
from merchant.web.admin import methods_forms

TRACK_LIMIT = 2
OWNER_EMAIL = "pemilik@tokoku.co.id"
WTFORMS_PO = next(po for po in catalogs.po_files() if po.stem == "wtforms")
STATUSES = ["awaiting", "paid", "fulfilling", "delivered", "expired", "payment_failed",
            "fulfillment_failed", "refunded"]


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    """The messages in the code and templates now, extracted as `make messages` does."""
    return catalogs.extract(tmp_path_factory.mktemp("pot") / "messages.pot")


@pytest.mark.parametrize("po", catalogs.po_files(), ids=lambda po: "/".join(po.parts[-3::2]))
def test_every_message_is_translated_and_the_catalog_is_up_to_date(code, po):
    messages = catalogs.wtforms_messages() if po.stem == "wtforms" else code
    assert catalogs.problems(messages, catalogs.load(po)) == []


def test_a_message_missing_untranslated_fuzzy_or_gone_is_reported():
    code, po = Catalog(), Catalog(locale="id")
    for text in ("Pay", "Track order", "Delivered", "Waiting for payment"):
        code.add(text)
    code.add(("%(count)s package", "%(count)s packages"))
    po.add("Pay", "Bayar")
    po.add("Track order", "")
    po.add("Delivered", "Terkirim", flags=["fuzzy"])
    po.add(("%(count)s package", "%(count)s packages"), ("",))
    po.add("Old words", "Kata lama")
    assert catalogs.problems(code, po) == [
        "not translated: 'Track order'",
        "fuzzy: 'Delivered'",
        "not in the catalog (run make messages): 'Waiting for payment'",
        "not translated: '%(count)s package'",
        "no longer in the code (run make messages): 'Old words'",
    ]


# --- Every page in Bahasa Indonesia ----------------------------------------------------------
# The pages and partials a customer can reach, each in the state that shows its words. Paths are
# filled from the scenario (`{awaiting}` is an order's reference ...). The admin panel joins by
# adding its pages with who="owner" (the scenario signs the owner in).

@dataclass(frozen=True)
class Page:
    name: str
    path: str
    status: int = 200
    method: str = "GET"
    data: dict | None = None
    htmx: bool = False
    who: str = "buyer"          # buyer, stranger (no session) or owner (signed in to the panel)
    repeat: int = 1             # sent this many times from one address (rate limits)


CUSTOMER_PAGES = [
    Page("catalog", "/"),
    Page("catalog category", "/?category=games"),
    Page("catalog search", "/?q=legends"),
    Page("catalog search, nothing", "/?q=zzzz"),
    Page("catalog search partial", "/?q=free", htmx=True),
    Page("product", "/p/mobile-legends", who="stranger"),
    Page("product, remembered account", "/p/tiktok-coins"),
    Page("product, uncheckable game", "/p/genshin-impact", who="stranger"),
    Page("product with a summary", "/p/tiktok-coins?package={package}&method=QRIS"),
    Page("product, Buy refused", "/p/mobile-legends/order", 422, "POST", {"user_id": "12"}),
    Page("verify partial, found", "/p/tiktok-coins/verify", method="POST", htmx=True,
         data={"username": "demo_user"}),
    Page("verify partial, not found", "/p/tiktok-coins/verify", 422, "POST", htmx=True,
         data={"username": "missing_user"}),
    Page("verify partial, invalid", "/p/mobile-legends/verify", 422, "POST", htmx=True,
         data={"user_id": "12", "zone_id": ""}),
    Page("verify partial, confirmed", "/p/genshin-impact/verify", method="POST", htmx=True,
         data={"uid": "812345678", "confirm_uid": "812345678", "server": "Asia"}),
    Page("verify page without JavaScript", "/p/mobile-legends/verify", 422, "POST",
         {"user_id": "00012345", "zone_id": "2345"}),
    Page("summary partial", "/p/tiktok-coins/summary?package={package}&method=QRIS",
         htmx=True),
    Page("summary partial, nothing chosen", "/p/tiktok-coins/summary", htmx=True),
    Page("summary partial, promo code", "/p/tiktok-coins/summary?package={package}&method=QRIS"
         "&promo=save10", htmx=True),
    Page("summary partial, promo code refused", "/p/tiktok-coins/summary?package={package}"
         "&method=QRIS&promo=nosuch", htmx=True),
    Page("summary partial, discount at the method's smallest amount",
         "/p/tiktok-coins/summary?package={package}&method=QRIS&promo=all-off", htmx=True),
    Page("product, promo code refused without JavaScript",
         "/p/tiktok-coins/summary?package={package}&method=QRIS&promo=gone"),
    Page("order with a discount", "/o/{discounted}"),
    *[Page(f"order {status}", f"/o/{{{status}}}") for status in STATUSES],
    Page("order status partial", "/o/{delivered}/status", 286, htmx=True),
    Page("track", "/track"),
    Page("track, not found", "/track", 422, "POST", {"ref": "MNOPE2345", "contact": "x@y.z"}),
    Page("too many tries", "/track", 429, "POST", {"ref": "MNOPE2345", "contact": "x@y.z"},
         repeat=TRACK_LIMIT + 1),
    Page("not found", "/no-such-page", 404),
    Page("not found partial", "/p/no-such-game/summary", 404, htmx=True),
    Page("wrong method", "/p/tiktok-coins/order", 405),
    Page("terms", "/terms"),
    Page("refund policy", "/refund-policy"),
    Page("sandbox pay page", "/sandbox/pay/{awaiting_gateway_ref}"),
    Page("sandbox pay page, paid", "/sandbox/pay/{delivered_gateway_ref}"),
    Page("saldo", "/saldo", who="customer"),
    Page("saldo, signed out", "/saldo", 401, who="stranger"),
    Page("saldo, deposit refused", "/saldo/deposit", 422, "POST",
         {"amount": "5.000", "method": "QRIS"}, who="customer"),
    Page("saldo deposit", "/saldo/d/{deposit}", who="customer"),
    Page("product paid with saldo", "/p/tiktok-coins?package={package}&method=SALDO",
         who="customer"),
    Page("order refunded to saldo", "/o/{saldo_refunded}", who="customer"),
]
# The operator panel, signed in as the owner.
ADMIN_PAGES = [
    Page("admin sign-in", "/admin/login", who="stranger"),
    Page("admin needs attention", "/admin/", who="owner"),
    Page("admin orders", "/admin/orders", who="owner"),
    Page("admin orders, filtered", "/admin/orders?status=delivered&q=zzzz", who="owner"),
    Page("admin orders, bad filter", "/admin/orders?date_from=2026-12-02&date_to=2026-11-01",
         422, who="owner"),
    *[Page(f"admin order {status}", f"/admin/orders/{{{status}}}", who="owner")
      for status in ("delivered", "fulfillment_failed", "refunded", "awaiting")],
    Page("admin order refunded to saldo", "/admin/orders/{saldo_refunded}", who="owner"),
    Page("admin customer saldo", "/admin/customers/{customer_id}/saldo", who="owner"),
    Page("admin saldo adjustment refused", "/admin/customers/{customer_id}/saldo", 422,
         "POST", {"direction": "take", "amount": "1.000.000", "reason": "Dewi", "key": "k"},
         who="owner"),
    Page("admin order with a discount", "/admin/orders/{discounted}", who="owner"),
    Page("admin catalog", "/admin/catalog", who="owner"),
    Page("admin product", "/admin/catalog/{product_id}", who="owner"),
    Page("admin product form", "/admin/catalog/{product_id}/edit", who="owner"),
    Page("admin new product", "/admin/catalog/new", who="owner"),
    Page("admin new package", "/admin/catalog/{product_id}/packages/new", who="owner"),
    Page("admin package form", "/admin/catalog/packages/{package}/edit", who="owner"),
    Page("admin package refused", "/admin/catalog/packages/{package}/edit", 422, "POST",
         {"name": "", "price": "-1"}, who="owner"),
    Page("admin import prices", "/admin/catalog/import", who="owner"),
    Page("admin payment methods", "/admin/methods", who="owner"),
    Page("admin new payment method", "/admin/methods/new", who="owner"),
    Page("admin payment method", "/admin/methods/{method_id}", who="owner"),
    Page("admin promo codes", "/admin/promos", who="owner"),
    Page("admin new promo code", "/admin/promos/new", who="owner"),
    Page("admin promo code", "/admin/promos/{promo_id}", who="owner"),
    Page("admin promo code below cost", "/admin/promos/new", 422, "POST",
         {"code": "HALF", "kind": "percent", "value": "50", "currency": "IDR",
          "product": "", "min_spend": "0", "active": "y"}, who="owner"),
    Page("admin dashboard", "/admin/dashboard", who="owner"),
    Page("admin export", "/admin/export", who="owner"),
    Page("admin settings", "/admin/settings", who="owner"),
    Page("admin admins", "/admin/users", who="owner"),
    Page("admin my account", "/admin/account", who="owner"),
    Page("admin audit log", "/admin/audit", who="owner"),
]
PAGES = CUSTOMER_PAGES + ADMIN_PAGES


def data_strings(app) -> list[str]:
    """Everything on the pages that the shop's data says, not the code."""
    with app.app_context():
        values = [shop_settings.current().shop_name, "Bahasa Indonesia", "English",
                  shop_settings.current().terms, shop_settings.current().refund_policy]
        for product in db.session.scalars(sa.select(Product)):
            values += [product.name, product.publisher, product.help_text, product.guide,
                       product.meta_title, product.meta_description]
            values += [text for item in product.faq or () for text in (item["q"], item["a"])]
            values += [option for spec in product.account_fields
                       for option in spec.get("options") or ()]
        for package in db.session.scalars(sa.select(Package)):
            values += [package.name, package.badge]
        values += [method.name for method in db.session.scalars(sa.select(PaymentMethod))]
        values += [promo.code for promo in db.session.scalars(sa.select(Promo))]
        # What the panel shows as recorded: providers, codes, histories, audit entries.
        values += [OWNER_EMAIL, audit.CLI.name, "help@example.com",
                   shop_settings.current().timezone, *money.EXPONENTS, *payments.ADAPTERS,
                   *suppliers.ADAPTERS, *verifiers.ADAPTERS]
        values += [os.path.basename(icon).removesuffix(".svg")
                   for icon in methods_forms.icon_choices()]
        # Babel's own names of months and days, in the page's language.
        values += [name for width in ("abbreviated", "wide") for names in (
            babel_dates.get_month_names(width, locale="id"),
            babel_dates.get_day_names(width, locale="id")) for name in names.values()]
        # The WTForms messages come translated from its own catalog.
        values += [text for message in catalogs.load(WTFORMS_PO) if message.id
                   for text in ([message.string] if isinstance(message.string, str)
                                else message.string)]
        for package in db.session.scalars(sa.select(Package)):
            values += [package.supplier_sku, package.supplier, package.fallback_sku]
        for product in db.session.scalars(sa.select(Product)):
            values += [product.slug, product.verifier, product.verifier_code]
        for method in db.session.scalars(sa.select(PaymentMethod)):
            values += [method.code, method.gateway, method.icon]
        for event in db.session.scalars(sa.select(OrderEvent)):
            values += [event.detail, event.source]
        for entry in db.session.scalars(sa.select(AuditEntry)):
            values += [entry.action, entry.summary, entry.target_type, entry.target_id,
                       *[str(key) for key in (entry.before or {}) | (entry.after or {})],
                       *[str(value) for value in ((entry.before or {}) | (entry.after or {}))
                         .values()]]
        for webhook in db.session.scalars(sa.select(WebhookEvent)):
            values += [webhook.provider, webhook.event_id, webhook.outcome]
        for deposit in db.session.scalars(sa.select(Deposit)):
            values += [deposit.ref, deposit.payment_method_name, deposit.gateway_ref]
        for customer in db.session.scalars(sa.select(Customer)):
            values += [customer.name, customer.email, customer.whatsapp]
        for order in db.session.scalars(sa.select(Order)):
            values += [order.ref, order.payment_method_name, order.nickname, order.email,
                       order.delivery_proof, order.gateway_ref, order.supplier_ref,
                       order.refund_ref, *order.account, *order.account.values()]
    return [value for value in values if value]


def data_remover(app):
    """A function that takes the shop's data out of a page's text."""
    data = sorted(data_strings(app), key=len, reverse=True)

    def without(text: str) -> str:
        for value in data:
            text = text.replace(value, " ")
        # The sandbox verifier's nicknames (DESIGN.md): Player- and four hex digits.
        return re.sub(r"Player-[0-9A-F]{4}", " ", text)
    return without


class Shop:
    """A shop with an order in every status, and the clients that look at it."""

    def __init__(self, app):
        self.app = app
        self.buyer, self.stranger = app.test_client(), app.test_client()
        self.values = {"package": package_id(app, "tiktok-coins", "70 Coins")}
        set_product(app, "genshin-impact", verifier="none")      # typed twice, never checked
        for status in STATUSES:
            self.values[status] = self._order_in(status)
        self._promo_codes()
        for status in ("awaiting", "delivered"):
            self.values[f"{status}_gateway_ref"] = get_order(
                app, self.values[status]).gateway_ref
        with app.app_context():
            shop_settings.update({"terms": "Tanpa kata sandi.",
                                  "refund_policy": "Dana kembali penuh."}, audit.CLI)
        self.owner = app.test_client()
        create_admin(app, OWNER_EMAIL)
        assert sign_in(self.owner, OWNER_EMAIL).status_code == 303
        with app.app_context():
            self.values["product_id"] = db.session.scalar(
                sa.select(Product.id).where(Product.slug == "tiktok-coins"))
            self.values["method_id"] = db.session.scalar(
                sa.select(PaymentMethod.id).where(PaymentMethod.code == "QRIS"))
            self.values["promo_id"] = db.session.scalar(
                sa.select(Promo.id).where(Promo.code == "SAVE10"))
        self._saldo()
        self.clients = {"buyer": self.buyer, "stranger": self.stranger, "owner": self.owner,
                        "customer": self.customer}
        self.visits = 0

    def _saldo(self) -> None:
        """A signed-in customer who deposited, and whose saldo order failed and came back."""
        self.values["customer_id"] = new_customer(self.app, "dewi@tokoku.co.id", "Dewi")
        self.customer = signed_in(self.app, self.values["customer_id"])
        self.values["deposit"] = paid_deposit(self.customer, "50.000")
        self.values["saldo_refunded"] = order_ref(
            buy_with_saldo(self.customer, self.app, username="saldo_fail"))
        work(self.app)

    def _promo_codes(self) -> None:
        """A code that applies, one that takes all it may, one used up; an order with one."""
        with self.app.app_context():
            for code, percent, max_uses in (("SAVE10", 1000, None), ("ALL-OFF", 10_000, None),
                                            ("GONE", 1000, 1)):
                promos.create({"code": code, "percent_bp": percent, "amount_off": None,
                               "currency": "IDR", "product_id": None, "min_spend": 0,
                               "starts_at": None, "ends_at": None, "max_uses": max_uses,
                               "max_per_contact": None, "active": True,
                               "allow_below_cost": True}, audit.CLI)
        token = verify(self.buyer, "tiktok-coins", username="user_promo")
        response = self.buyer.post("/p/tiktok-coins/order", data={
            "username": "user_promo", "verification_token": token, "method": "QRIS",
            "package": self.values["package"], "email": "promo@example.com", "promo": "gone"})
        self.values["discounted"] = order_ref(response)

    def _order_in(self, status: str) -> str:
        if status == "delivered":
            return delivered_order(self.buyer, self.app)
        if status in ("fulfillment_failed", "refunded"):
            ref = failed_order(self.buyer, self.app)
            if status == "refunded":
                self._move(ref, orders.REFUNDED)
            return ref
        ref = order_ref(buy(self.buyer, self.app, username=f"user_{status}"))
        if status in ("paid", "fulfilling"):
            sandbox_pay(self.buyer, self.app, ref)
        if status in ("fulfilling", "expired", "payment_failed"):
            self._move(ref, {"fulfilling": orders.FULFILLING, "expired": orders.EXPIRED,
                             "payment_failed": orders.PAYMENT_FAILED}[status])
        return ref

    def _move(self, ref: str, to: str) -> None:
        with self.app.app_context():
            assert orders.transition(get_order(self.app, ref).id, to, source="admin")

    def visit(self, page: Page, language: str):
        path = page.path.format(**self.values)
        path += ("&" if "?" in path else "?") + f"lang={language}"
        headers = {"HX-Request": "true"} if page.htmx else {}
        # Each visit from its own address, so the rate limits count only its own requests.
        self.visits += 1
        address = {"REMOTE_ADDR": f"10.0.{self.visits // 250}.{self.visits % 250}"}
        if page.who == "owner":     # a signed-in session is bound to its address ("strong")
            address = {}
        for _ in range(page.repeat):
            forget_loaded_catalogs()        # this app's catalogs, not another's
            response = self.clients[page.who].open(path, method=page.method, data=page.data,
                                                   headers=headers, environ_base=address)
        assert response.status_code == page.status, (page.name, response.text[:2000])
        return response.text


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("shop"), RATELIMIT_TRACK=f"{TRACK_LIMIT} per minute")
    yield Shop(app)
    close(app)


@pytest.fixture(scope="module")
def pseudo_shop(tmp_path_factory, code):
    """The shop with the pseudo catalog in place of the Indonesian one."""
    translations = tmp_path_factory.mktemp("pseudo")
    catalogs.write_pseudo(code, translations)
    forget_loaded_catalogs()
    app = make_app(tmp_path_factory.mktemp("pseudo-shop"),
                   BABEL_TRANSLATION_DIRECTORIES=str(translations),
                   RATELIMIT_TRACK=f"{TRACK_LIMIT} per minute")
    yield Shop(app)
    close(app)
    forget_loaded_catalogs()


def close(app):
    """The module's app gives its connections back (the suite's per-test cleanup ran early)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def forget_loaded_catalogs():
    """Flask-Babel keeps loaded catalogs for the process (one Babel object for every app)."""
    domain = vars(babel).get("domain_instance")     # a cached_property, made on first use
    if domain is not None:
        domain.cache.clear()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_word_on_the_page_goes_through_the_catalog(pseudo_shop, page):
    html = pseudo_shop.visit(page, "id")
    assert catalogs.unmarked_words(html, data_remover(pseudo_shop.app)) == []


def test_an_unwrapped_word_is_caught(pseudo_shop):
    """The check itself: a sentence the code forgot to wrap, beside wrapped ones and data."""
    with pseudo_shop.app.test_request_context("/?lang=id"):
        html = render_template_string(
            '{% extends "base.html" %}{% block main %}<h1>{{ _("Track order") }}</h1>'
            '<p title="Tap here">{{ name }} Nothing to see</p>{% endblock %}',
            name="Mobile Legends")
    assert catalogs.unmarked_words(html, data_remover(pseudo_shop.app)) == [
        "Tap", "here", "Nothing", "to", "see"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_page_renders_in_both_languages(shop, page):
    translated = {message.id for message in catalogs.load(catalogs.po_files()[0])
                  if message.id and message.string and message.string != message.id
                  and isinstance(message.id, str) and "%(" not in message.id
                  and " " in message.id}
    indonesian = data_remover(shop.app)(catalogs.visible_text(shop.visit(page, "id")))
    assert [text for text in translated if text in indonesian] == []
    english = shop.visit(page, "en")
    assert ('<html lang="en">' in english) == (not page.htmx)
