"""What search engines read: sitemap.xml, robots.txt, the product page's head (title,
description, canonical, language links, link previews) and its JSON-LD, with the operator's
guide and FAQ edited in the panel."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import sqlalchemy as sa
from conftest import set_package, set_product

from merchant.core.extensions import db
from merchant.core.models import Package, Product
from tests.catalog.test_admin_catalog import product_form, product_id

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
BASE = "http://shop.test"          # PUBLIC_URL in conftest
DEMO = ("tiktok-coins", "mobile-legends", "free-fire", "pubg-mobile", "genshin-impact")


def json_ld(html: str) -> list[dict]:
    """Every JSON-LD block of a page, parsed as a search engine would."""
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def of_type(html: str, kind: str) -> dict:
    [data] = [block for block in json_ld(html) if block["@type"] == kind]
    return data


def head_links(html: str) -> dict:
    return {"canonical": re.search(r'<link rel="canonical" href="([^"]+)">', html).group(1),
            "alternates": dict(re.findall(
                r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))}


def meta(html: str, key: str) -> str:
    return re.search(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)">',
                     html).group(1)


def test_sitemap_lists_the_catalog_and_every_product_on_sale_in_each_language(app, client):
    set_product(app, "pubg-mobile", active=False)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    urls = {url.find(f"{SITEMAP}loc").text: {
        link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")}
        for url in root.findall(f"{SITEMAP}url")}
    pages = [f"{BASE}/"] + [f"{BASE}/p/{slug}" for slug in DEMO if slug != "pubg-mobile"]
    expected = {}
    for page in pages:
        alternates = {"id": f"{page}?lang=id", "en": f"{page}?lang=en", "x-default": page}
        for address in alternates.values():
            expected[address] = alternates
    assert urls == expected


def test_robots_keeps_crawlers_out_of_orders_panel_and_callbacks(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.text.splitlines()
    assert lines[0] == "User-agent: *"
    disallowed = {line.split(": ", 1)[1] for line in lines if line.startswith("Disallow: ")}
    assert {"/admin", "/o/", "/track", "/sandbox", "/webhooks"} <= disallowed
    assert "/" not in disallowed and not any(path.startswith("/p/") and "*" not in path
                                              for path in disallowed)
    assert f"Sitemap: {BASE}/sitemap.xml" in lines


def test_product_json_ld_offers_every_package_on_sale_at_its_price(app, client):
    set_package(app, "free-fire", "5 Diamonds", active=False)
    page = client.get("/p/free-fire").text
    product = of_type(page, "Product")
    assert product["name"] == "Free Fire" and product["brand"]["name"] == "Garena"
    assert product["url"] == f"{BASE}/p/free-fire"
    # static/ names carry a fingerprint of the file (merchant/web/edge/static_files.py).
    assert re.fullmatch(rf"{BASE}/static/icons/free-fire\.[0-9a-f]{{12}}\.svg", product["image"])
    with app.app_context():
        packages = db.session.scalars(
            sa.select(Package).join(Product).where(Product.slug == "free-fire",
                                                   Package.active)
            .order_by(Package.sort_order)).all()
        expected = [{"@type": "Offer", "name": p.name, "price": str(p.price),
                     "priceCurrency": "IDR", "availability": "https://schema.org/InStock",
                     "url": f"{BASE}/p/free-fire?package={p.id}"} for p in packages]
    assert product["offers"] == expected
    assert "5 Diamonds" not in [offer["name"] for offer in product["offers"]]
    assert {o["name"]: o["price"] for o in product["offers"]}["140 Diamonds"] == "19500"


def test_a_price_in_cents_is_a_decimal_string(app, client):
    set_package(app, "genshin-impact", "60 Genesis Crystals", currency="USD", price=1250)
    set_package(app, "genshin-impact", "330 Genesis Crystals", currency="USD", price=99)
    offers = of_type(client.get("/p/genshin-impact").text, "Product")["offers"]
    assert (offers[0]["price"], offers[0]["priceCurrency"]) == ("12.50", "USD")
    assert (offers[1]["price"], offers[1]["priceCurrency"]) == ("0.99", "USD")
    assert (offers[2]["price"], offers[2]["priceCurrency"]) == ("249000", "IDR")


def test_product_head_defaults_to_a_title_and_description_from_the_catalog(client):
    page = client.get("/p/mobile-legends?package=9&method=QRIS").text
    assert "<title>Mobile Legends top up · Merchant Top-Up</title>" in page
    description = meta(page, "description")
    assert description.startswith("Top up Mobile Legends from Rp 22.000 at Merchant Top-Up")
    links = head_links(page)
    # The chosen package and method are not another page: the canonical address drops them.
    assert links == {"canonical": f"{BASE}/p/mobile-legends", "alternates": {
        "id": f"{BASE}/p/mobile-legends?lang=id", "en": f"{BASE}/p/mobile-legends?lang=en",
        "x-default": f"{BASE}/p/mobile-legends"}}
    assert meta(page, "og:title") == "Mobile Legends top up · Merchant Top-Up"
    assert meta(page, "og:description") == description
    assert meta(page, "og:url") == f"{BASE}/p/mobile-legends"
    assert re.fullmatch(rf"{BASE}/static/icons/mobile-legends\.[0-9a-f]{{12}}\.svg",
                        meta(page, "og:image"))
    assert meta(page, "og:type") == "product"
    assert of_type(page, "Product")["description"] == description


def test_each_language_version_is_its_own_canonical_page(client):
    page = client.get("/p/mobile-legends?lang=id").text
    assert head_links(page)["canonical"] == f"{BASE}/p/mobile-legends?lang=id"
    assert head_links(client.get("/?lang=en").text)["canonical"] == f"{BASE}/?lang=en"
    assert head_links(client.get("/p/mobile-legends?lang=xx").text)["canonical"] == \
        f"{BASE}/p/mobile-legends"


def test_search_results_are_not_indexed_but_categories_are(client):
    search = client.get("/?q=legends").text
    assert '<meta name="robots" content="noindex, follow">' in search
    assert head_links(search)["canonical"] == f"{BASE}/"
    games = client.get("/?category=games").text
    assert 'name="robots"' not in games
    assert head_links(games)["canonical"] == f"{BASE}/?category=games"


def test_operator_writes_title_description_guide_and_faq_in_the_panel(app, owner, client):
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", meta_title="Free Fire diamonds, cheap and instant",
                        meta_description="Diamonds for  Free Fire\nin seconds.",
                        guide="1. Enter your Player ID.\n2. Pay with DANA.",
                        **{"faq-0-q": "Is it safe?", "faq-0-a": "Yes: we only need your ID.",
                           "faq-1-q": "", "faq-1-a": "",
                           "faq-2-q": "Which server?", "faq-2-a": "Indonesia only."})
    response = owner.post(f"/admin/catalog/{pid}/edit", data=form)
    assert response.status_code == 303, response.text

    page = client.get("/p/free-fire").text
    assert "<title>Free Fire diamonds, cheap and instant · Merchant Top-Up</title>" in page
    assert meta(page, "description") == "Diamonds for Free Fire in seconds."
    assert "How to top up Free Fire" in page and "1. Enter your Player ID.\n2. Pay with DANA." \
        in page
    assert "<summary>Is it safe?</summary>" in page and "Indonesia only." in page
    faq = of_type(page, "FAQPage")
    assert faq["mainEntity"] == [
        {"@type": "Question", "name": "Is it safe?",
         "acceptedAnswer": {"@type": "Answer", "text": "Yes: we only need your ID."}},
        {"@type": "Question", "name": "Which server?",
         "acceptedAnswer": {"@type": "Answer", "text": "Indonesia only."}}]
    edit = owner.get(f"/admin/catalog/{pid}/edit").text
    assert 'value="Which server?"' in edit and 'name="faq-3-q"' in edit   # two blank ones
    assert 'name="faq-4-q"' not in edit


def test_a_question_without_its_answer_is_refused(app, owner):
    pid = product_id(app, "free-fire")
    form = product_form(app, "free-fire", **{"faq-0-q": "Is it safe?", "faq-0-a": " "})
    response = owner.post(f"/admin/catalog/{pid}/edit", data=form)
    assert response.status_code == 422
    assert "Write the answer, or clear the question." in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(Product.faq).where(Product.id == pid)) == []


def test_operator_text_cannot_close_the_json_ld_script(app, client):
    hostile = '</script><script>alert(1)</script> & <!-- "quoted"'
    set_product(app, "tiktok-coins", name=f"Coins {hostile}", meta_description=hostile,
                faq=[{"q": hostile, "a": hostile}])
    page = client.get("/p/tiktok-coins").text
    assert "<script>alert(1)" not in page
    product, faq = of_type(page, "Product"), of_type(page, "FAQPage")
    assert product["name"] == f"Coins {hostile}" and product["description"] == hostile
    assert faq["mainEntity"][0]["name"] == hostile
    assert faq["mainEntity"][0]["acceptedAnswer"]["text"] == hostile


def test_no_faq_means_no_faq_page_data(client):
    page = client.get("/p/free-fire").text
    assert [block["@type"] for block in json_ld(page)] == ["Product"]
    assert 'class="box faq"' not in page


def test_the_page_waits_for_no_third_party_asset(client):
    for path in ("/", "/p/mobile-legends"):
        head = client.get(path).text.split("</head>")[0]
        for tag in re.findall(r"<(?:script|link)\b[^>]*>", head):
            if 'rel="canonical"' in tag or 'rel="alternate"' in tag:
                continue
            src = re.search(r'(?:src|href)="([^"]+)"', tag)
            if src:
                assert src.group(1).startswith("/"), tag          # served by the shop itself
            if tag.startswith("<script") and "ld+json" not in tag:
                assert " defer" in tag, tag                       # scripts never block


def test_the_indonesian_pages_speak_indonesian_to_search_engines(client):
    page = client.get("/p/mobile-legends?lang=id").text
    assert "<title>Top up Mobile Legends · Merchant Top-Up</title>" in page
    assert meta(page, "description").startswith("Top up Mobile Legends mulai Rp 22.000 di ")
    assert of_type(page, "Product")["category"] == "Game"
    assert "Cara top up Mobile Legends" in page and "Tanya jawab" in page
    catalog = client.get("/?lang=id").text
    assert "Cari game dan aplikasi" in catalog and ">Pulsa dan paket data</a>" in catalog
    assert meta(catalog, "description").startswith("Top up Mobile Legends, ")
