"""The panel on a 360 px phone: every area reachable from a menu, nothing scrolls sideways."""
from __future__ import annotations

import pytest
from conftest import ADMIN_PASSWORD, buy, create_admin, make_app, order_ref, package_id, served
from shoppers import new_customer

from merchant.core import audit, money
from merchant.core.extensions import db
from merchant.core.models import Package
from merchant.customers import adjustments

WIDTH = 360
PAGES = ["/admin/", "/admin/orders", "/admin/orders/{ref}", "/admin/catalog",
         "/admin/catalog/{product}", "/admin/catalog/packages/{package}/edit",
         "/admin/catalog/import", "/admin/methods", "/admin/methods/new", "/admin/promos",
         "/admin/promos/new", "/admin/dashboard", "/admin/settings", "/admin/users",
         "/admin/audit", "/admin/account", "/admin/export", "/admin/alerts",
         "/admin/no-such-page", "/admin/customers/{customer}/saldo"]


@pytest.fixture
def panel(tmp_path):
    """The shop on a real port, with an owner and an order to look at."""
    app = make_app(tmp_path)
    create_admin(app)
    ids = {"ref": order_ref(buy(app.test_client(), app)),
           "package": package_id(app, "tiktok-coins", "70 Coins")}
    with app.app_context():
        ids["product"] = db.session.get(Package, ids["package"]).product_id
    ids["customer"] = new_customer(app)
    with app.app_context():
        adjustments.adjust(ids["customer"], money.Money(25_000, "IDR"), True,
                           "Compensation for the outage of 5 December", "phone", audit.CLI)
    with served(app) as url:
        yield url, ids


@pytest.fixture
def small_phone(browser):
    return browser.new_context(viewport={"width": WIDTH, "height": 740}, is_mobile=True,
                               has_touch=True).new_page()


# What scrolls sideways: the page itself, or a box inside it (a menu or table in a scroller),
# which hides part of the panel off to the right with nothing saying so.
SIDEWAYS = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) found.push(`page ${root.scrollWidth}px`);
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
      found.push(`${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth}px`);
  }
  return found;
}"""


def sign_in(page, url):
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", "owner@example.com")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/admin/")


@pytest.mark.parametrize("lang", ["en", "id"])
def test_no_panel_page_scrolls_sideways_on_a_small_phone(panel, small_phone, lang):
    url, ids = panel
    page = small_phone
    sign_in(page, url)
    page.goto(f"{url}/admin/?lang={lang}")
    wide = {}
    for path in PAGES:
        page.goto(url + path.format(**ids))
        sideways = page.evaluate(SIDEWAYS)
        if sideways:
            wide[path] = sideways
    assert wide == {}, "\n".join(f"{path}: {found}" for path, found in wide.items())


def test_every_area_is_in_the_phone_menu(panel, small_phone):
    url, _ = panel
    page = small_phone
    sign_in(page, url)
    menu = page.locator("details.admin-menu")
    menu.locator("summary").click()
    for area in ["Needs attention", "Orders", "Catalog", "Payment methods", "Promo codes",
                 "Dashboard", "Settings", "Admins", "Audit log", "My account"]:
        link = menu.get_by_role("link", name=area, exact=True)
        box = link.bounding_box()
        assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, area
    menu.get_by_role("link", name="Audit log", exact=True).click()
    page.wait_for_url(f"{url}/admin/audit")
