"""The owner's changes to payment methods: add, edit, turn on and off. Each one is audited.

The panel's form checks the shape of the values (a code of capitals, max >= min ...); this
module checks what needs the shop's state: the code is free, the gateway is configured here
and has a channel for the method.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from merchant.catalog import payment_presets
from merchant.core import audit, shop_settings
from merchant.core.extensions import db
from merchant.core.models import PaymentMethod
from merchant.vendors import payments, registry

# The columns the owner edits, as a method's audit snapshot.
FIELDS = ("code", "name", "kind", "gateway", "icon", "fee_flat", "fee_percent_bp", "currency",
          "min_amount", "max_amount", "sort_order", "active")


class MethodError(ValueError):
    """The change cannot be made. `errors` maps a form field to the reason, in plain words."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def all_methods(archived: bool = False) -> list[PaymentMethod]:
    """Every method not archived (or, `archived`, every archived one), as the product page
    orders them, inactive ones too."""
    kept = PaymentMethod.archived_at.is_not(None) if archived \
        else PaymentMethod.archived_at.is_(None)
    return list(db.session.scalars(sa.select(PaymentMethod).where(kept)
                                   .order_by(PaymentMethod.sort_order, PaymentMethod.name)))


def get(method_id: int) -> PaymentMethod | None:
    return db.session.get(PaymentMethod, method_id)


def snapshot(method: PaymentMethod) -> dict:
    return {name: getattr(method, name) for name in FIELDS}


def serving_gateway(own: str | None) -> str:
    """The gateway that takes a method's payments: `own` (the method's gateway), or the shop's
    GATEWAY when the method has none."""
    return own or current_app.config["GATEWAY"]


def refusal(gateway: str, code: str) -> str | None:
    """Why payments for method `code` cannot be taken through `gateway` in this shop, in the
    owner's language (the panel, Needs attention; never the customer); None when they can."""
    readiness = registry.ready(registry.GATEWAY, gateway)
    if not readiness:
        return readiness.said()
    return payments.unserved(gateway, code, current_app.config)


def method_refusal(method: PaymentMethod) -> str | None:
    """Why customers cannot pay with `method` through its serving gateway; None when they can."""
    return refusal(serving_gateway(method.gateway), method.code)


def problems(values: dict, method: PaymentMethod | None = None) -> dict[str, str]:
    """Why these values cannot be saved (field -> reason); empty when they can."""
    errors = {}
    taken = db.session.scalar(sa.select(PaymentMethod.id).where(
        PaymentMethod.code == values["code"],
        PaymentMethod.id != (method.id if method else -1)))
    if taken is not None:
        errors["code"] = _("Another payment method already has the code %(code)s.",
                           code=values["code"])
    reason = refusal(serving_gateway(values.get("gateway")), values["code"])
    if reason:
        errors["gateway"] = reason
    return errors


def create(values: dict, actor: audit.Actor) -> PaymentMethod:
    """Add a method with `values` (the keys of FIELDS). :raise MethodError: see problems()."""
    errors = problems(values)
    if errors:
        raise MethodError(errors)
    method = PaymentMethod(**{name: values[name] for name in FIELDS})
    db.session.add(method)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:       # the same code added at the same moment elsewhere
        db.session.rollback()
        raise MethodError({"code": f"Another payment method already has the code "
                                   f"{values['code']}."}) from None
    audit.record(actor, "method.create", "payment_method", method.id,
                 f"Added the payment method {method.name} ({method.code})",
                 after=snapshot(method))
    db.session.commit()
    return method


def add_preset(code: str, actor: audit.Actor) -> PaymentMethod:
    """Add the shop gateway's preset method `code`, last in the list.

    :raise MethodError: no such preset for the gateway, or the shop has that code already.
    """
    gateway = current_app.config["GATEWAY"]
    preset = next((p for p in payment_presets.missing(gateway) if p.code == code), None)
    if preset is None:
        raise MethodError({"code": f"{code} is not one of the {gateway} methods this shop "
                                   "lacks: it is there already, or add it as a custom method."})
    last = db.session.scalar(sa.select(sa.func.max(PaymentMethod.sort_order))) or 0
    method = payment_presets.build(preset, shop_settings.current().currency, last + 1)
    return create(snapshot(method), actor)


def update(method: PaymentMethod, values: dict, actor: audit.Actor) -> PaymentMethod:
    """Change a method to `values`. :raise MethodError: see problems()."""
    errors = problems(values, method)
    if errors:
        raise MethodError(errors)
    before = snapshot(method)
    for name in FIELDS:
        setattr(method, name, values[name])
    old, new = audit.changes(before, snapshot(method))
    if new:
        audit.record(actor, "method.update", "payment_method", method.id,
                     f"Changed the payment method {method.code}: " + ", ".join(sorted(new)),
                     before=old, after=new)
    db.session.commit()
    return method


def set_active(method: PaymentMethod, active: bool, actor: audit.Actor) -> bool:
    """Offer the method to customers or stop offering it. Returns whether anything changed.

    :raise MethodError: turning on a method its gateway cannot take payments for.
    """
    if method.active == active:
        return False
    if active:
        errors = problems(snapshot(method), method)
        if errors:
            raise MethodError(errors)
    method.active = active
    audit.record(actor, "method.enable" if active else "method.disable", "payment_method",
                 method.id, f"{'Turned on' if active else 'Turned off'} {method.code}",
                 before={"active": not active}, after={"active": active})
    db.session.commit()
    return True
