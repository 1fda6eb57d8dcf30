"""The kinds of alert, what each says when it is raised and when it clears, and the panel page
it links to. Texts are rendered in the current locale (texts.in_shop_language)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from merchant.core.money import Money

DEPOSIT_LOW = "deposit_low"
PACKAGE_UNAVAILABLE = "package_unavailable"
DELIVERY_FAILED = "delivery_failed"
SUPPLIER_FAILURES = "supplier_failures"
WORKER_STOPPED = "worker_stopped"
DAILY_SUMMARY = "daily_summary"


@dataclass(frozen=True)
class Kind:
    name: str
    label: object                                   # lazy: the panel's name for it
    raised: Callable[[dict], str]                   # the message when it opens
    cleared: Callable[[dict], str] | None           # the "recovered" message, if it has one
    page: Callable[[dict], str]                     # the panel path the message links to


def rupiah(amount: int | None, currency: str = "IDR") -> str:
    return Money(int(amount or 0), currency or "IDR").format()


def _deposit_low(p: dict) -> str:
    currency = p.get("currency", "IDR")
    if p.get("balance") is not None and p["balance"] < p.get("pending_cost", 0):
        return _("Deposit at %(supplier)s cannot cover the paid orders waiting: %(balance)s "
                 "left, %(cost)s needed. Top up the deposit.", supplier=p["supplier"],
                 balance=rupiah(p["balance"], currency), cost=rupiah(p["pending_cost"], currency))
    return _("Deposit at %(supplier)s is low: %(balance)s left (your alert is at %(threshold)s). "
             "Top up the deposit.", supplier=p["supplier"],
             balance=rupiah(p.get("balance"), currency),
             threshold=rupiah(p.get("threshold"), currency))


def _deposit_ok(p: dict) -> str:
    return _("Deposit at %(supplier)s is enough again: %(balance)s.", supplier=p["supplier"],
             balance=rupiah(p.get("balance"), p.get("currency", "IDR")))


def _unavailable(p: dict) -> str:
    reason = p.get("reason")
    if reason:
        return _("%(package)s is unavailable to customers: %(reason)s.",
                 package=_package(p), reason=reason)
    return _("%(package)s is unavailable to customers.", package=_package(p))


def _available(p: dict) -> str:
    return _("%(package)s is on sale again.", package=_package(p))


def _package(p: dict) -> str:
    return " ".join(part for part in (p.get("product"), p.get("package")) if part) \
        or str(p.get("package_id", ""))


def _delivery_failed(p: dict) -> str:
    return _("Order %(ref)s (%(package)s) failed for good at %(supplier)s: %(reason)s. Deliver it "
             "by hand, retry or refund it.", ref=p.get("ref", ""), package=_package(p),
             supplier=p.get("supplier", ""), reason=p.get("reason") or _("no reason given"))


def _failures(p: dict) -> str:
    return _("%(failures)s failed attempts at %(supplier)s in the last %(minutes)s minutes. "
             "Check the supplier, or move packages to another one.",
             failures=p.get("failures", 0), supplier=p.get("supplier", ""),
             minutes=p.get("minutes", 0))


def _failures_over(p: dict) -> str:
    return _("Failures at %(supplier)s are back to normal.", supplier=p.get("supplier", ""))


def _worker_stopped(p: dict) -> str:
    return _("The worker has not run for %(minutes)s minutes: paid orders are not delivered. "
             "Start it: flask --app merchant worker.", minutes=p.get("minutes", 0))


def _worker_back(p: dict) -> str:
    return _("The worker runs again; waiting orders are being delivered.")


def _summary(p: dict) -> str:
    currency = p.get("currency", "IDR")
    day = format_date(dt.date.fromisoformat(p["day"]), "full") if p.get("day") else ""
    lines = [_("Summary of %(day)s", day=day),
             _("Orders paid: %(orders)s", orders=p.get("orders", 0)),
             _("Delivered: %(delivered)s", delivered=p.get("delivered", 0)),
             _("Revenue: %(revenue)s", revenue=rupiah(p.get("revenue"), currency)),
             _("Margin: %(margin)s", margin=rupiah(p.get("margin"), currency)),
             _("Failed deliveries: %(failed)s", failed=p.get("failed", 0))]
    if p.get("refunded"):
        lines.append(_("Refunded: %(refunded)s", refunded=p["refunded"]))
    return "\n".join(lines)


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind(DEPOSIT_LOW, _l("Supplier deposit low"), _deposit_low, _deposit_ok,
         lambda p: "/admin/dashboard"),
    Kind(PACKAGE_UNAVAILABLE, _l("Package unavailable and back"), _unavailable, _available,
         lambda p: f"/admin/catalog/packages/{p['package_id']}/edit" if p.get("package_id")
         else "/admin/catalog"),
    Kind(DELIVERY_FAILED, _l("Delivery failed for good"), _delivery_failed, None,
         lambda p: f"/admin/orders/{p.get('ref', '')}"),
    Kind(SUPPLIER_FAILURES, _l("Many supplier failures"), _failures, _failures_over,
         lambda p: "/admin/orders"),
    Kind(WORKER_STOPPED, _l("Worker stopped"), _worker_stopped, _worker_back,
         lambda p: "/admin/"),
    Kind(DAILY_SUMMARY, _l("Daily summary"), _summary, None, lambda p: "/admin/dashboard"),
)}


def get(name: str) -> Kind:
    """:raise KeyError: not a kind of alert."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"not a kind of alert: {name!r}") from None


def link(kind: Kind, params: dict) -> str:
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + kind.page(params)
