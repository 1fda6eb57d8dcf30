"""What search engines read: sitemap.xml, robots.txt, canonical and language links, and the
structured data (schema.org JSON-LD) of a product page.

Every address given out here is absolute, built on PUBLIC_URL: the address customers reach the
shop at, whatever host a request came in on. Each language of a page is its `?lang=` address;
the bare address is the `x-default` (the language the visitor's browser asks for).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from flask import Blueprint, Response, current_app, request, url_for

from merchant import catalog
from merchant.core import money
from merchant.core.i18n import LANGUAGES
from merchant.core.models import Package, Product
from merchant.trust.reviews import Summary
from merchant.web.media import image_url

bp = Blueprint("seo", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# Pages for one customer, machine endpoints and the operator's panel: nothing to index.
PRIVATE_PATHS = ("/admin", "/o/", "/track", "/sandbox", "/webhooks", "/p/*/verify",
                 "/p/*/summary", "/p/*/forget", "/healthz", "/metrics")
IN_STOCK = "https://schema.org/InStock"


def languages() -> tuple[str, ...]:
    return tuple(LANGUAGES)


@bp.app_template_global()
def absolute(path: str) -> str:
    """`path` (from url_for) on the shop's public address."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def alternates(endpoint: str, **values) -> list[tuple[str, str]]:
    """(hreflang, address) for each language of a page, then the x-default."""
    links = [(lang, absolute(url_for(endpoint, **values, lang=lang))) for lang in languages()]
    return links + [("x-default", absolute(url_for(endpoint, **values)))]


@bp.app_template_global()
def page_links(endpoint: str, **values) -> dict:
    """The canonical address of the page being shown (its language kept, any other query
    left out) and its language alternates, for base.html's head."""
    lang = request.args.get("lang")
    lang = lang if lang in languages() else None
    values = {key: value for key, value in values.items() if value}
    return {"canonical": absolute(url_for(endpoint, **values, **({"lang": lang} if lang else {}))),
            "alternates": alternates(endpoint, **values)}


def decimal_price(amount: int, currency: str) -> str:
    """Minor units as the currency's decimal string: 15000 IDR -> '15000', 1250 USD -> '12.50'."""
    digits = money.exponent(currency)
    return f"{Decimal(amount).scaleb(-digits):.{digits}f}"


@bp.app_template_global()
def product_data(product: Product, packages: list[Package], description: str,
                 offers: dict | None = None, reviews: Summary | None = None) -> dict:
    """schema.org Product with one Offer per package on sale, at the flash sale's price while
    it lasts (`offers`: package id -> flash_sales.Offer), and the buyers' aggregateRating once
    there are enough visible reviews (reviews.RATING_SHOWN_FROM)."""
    offers = offers or {}

    def price(package) -> int:
        offer = offers.get(package.id)
        return offer.price if offer is not None and offer.left else package.price
    url = absolute(url_for("shop.product_page", slug=product.slug))
    data = {
        "@context": "https://schema.org", "@type": "Product", "name": product.name,
        "description": description, "url": url, "image": absolute(image_url(product.image)),
        "category": str(catalog.CATEGORIES.get(product.category, "")),
        "offers": [{
            "@type": "Offer", "name": package.name,
            "price": decimal_price(price(package), package.currency),
            "priceCurrency": package.currency, "availability": IN_STOCK,
            "url": absolute(url_for("shop.product_page", slug=product.slug, package=package.id)),
        } for package in packages],
    }
    if reviews is not None and reviews.rich:
        data["aggregateRating"] = {
            "@type": "AggregateRating", "ratingValue": str(reviews.average),
            "reviewCount": reviews.count, "bestRating": 5, "worstRating": 1}
    if product.publisher:
        data["brand"] = {"@type": "Brand", "name": product.publisher}
    return data


@bp.app_template_global()
def faq_data(faq: list[dict]) -> dict:
    """schema.org FAQPage of the product's questions and answers."""
    return {"@context": "https://schema.org", "@type": "FAQPage", "mainEntity": [
        {"@type": "Question", "name": item["q"],
         "acceptedAnswer": {"@type": "Answer", "text": item["a"]}} for item in faq]}


@bp.get("/sitemap.xml")
def sitemap():
    """The catalog and every product on sale, each with its language versions."""
    ET.register_namespace("", SITEMAP_NS)
    ET.register_namespace("xhtml", XHTML_NS)
    urlset = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    pages = [("shop.index", {})] + [("shop.product_page", {"slug": product.slug})
                                    for product in catalog.active_products()]
    for endpoint, values in pages:
        links = alternates(endpoint, **values)
        for _, address in links:
            url = ET.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
            ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = address
            for hreflang, href in links:
                ET.SubElement(url, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=hreflang,
                              href=href)
    body = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/xml")


@bp.get("/robots.txt")
def robots():
    """Crawl the shop, not the orders, the panel or the callbacks; where the sitemap is."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS),
             f"Sitemap: {absolute(url_for('seo.sitemap'))}"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")
