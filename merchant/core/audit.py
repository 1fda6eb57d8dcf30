"""The audit log: every admin action, who made it, when, and the values before and after.

Operator actions call record() inside the same transaction as the change they make, so an
action and its audit entry are committed together or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from merchant.core.extensions import db
from merchant.core.models import AdminUser, AuditEntry, utcnow


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in admin, or the operator at the shell (CLI)."""
    name: str                       # the admin's email, or "cli"
    admin_id: int | None = None
    role: str = "owner"

    @classmethod
    def of(cls, admin: AdminUser) -> Actor:
        return cls(admin.email, admin.id, admin.role)


CLI = Actor("cli")


# The names of the values in entries (before/after), in the reader's language; the values
# themselves stay as stored. A name not listed is shown as it is.
FIELD_LABELS = {
    "accent_color": _l("accent colour"),
    "account_fields": _l("account fields"),
    "active": _l("on"),
    "allow_unverified": _l("continue without a nickname check"),
    "amount_off": _l("amount off"),
    "api_self_service": _l("customers make their own API keys"),
    "archived_at": _l("archived"),
    "badge": _l("badge"),
    "bonus": _l("bonus"),
    "callback_url": _l("callback URL"),
    "category": _l("category"),
    "claim_window_days": _l("days to report a problem"),
    "code": _l("code"),
    "cost_tolerance": _l("cost tolerance"),
    "currency": _l("currency"),
    "default_locale": _l("default language"),
    "delivery_proof": _l("delivery proof"),
    "email": _l("email"),
    "ends_at": _l("ends"),
    "fallback_cost": _l("fallback cost"),
    "fallback_sku": _l("fallback SKU"),
    "fallback_supplier": _l("fallback supplier"),
    "faq": _l("questions and answers"),
    "featured": _l("featured"),
    "fee_flat": _l("flat fee"),
    "fee_percent_bp": _l("percentage fee"),
    "flag": _l("flag"),
    "gateway": _l("gateway"),
    "guide": _l("how to top up"),
    "help_text": _l("help text"),
    "hints": _l("hints"),
    "icon": _l("icon"),
    "image": _l("picture"),
    "ip_allowlist": _l("allowed IP addresses"),
    "key_id": _l("key ID"),
    "kind": _l("kind"),
    "label": _l("label"),
    "legal_name": _l("registered business name"),
    "logo": _l("logo"),
    "manual": _l("by hand"),
    "max_amount": _l("largest amount"),
    "max_per_contact": _l("uses per customer"),
    "max_uses": _l("uses"),
    "meta_description": _l("search description"),
    "meta_title": _l("search title"),
    "methods": _l("methods"),
    "min_amount": _l("smallest amount"),
    "min_spend": _l("minimum spend"),
    "name": _l("name"),
    "nib": _l("NIB"),
    "note": _l("note"),
    "offer_rule": _l("offer rule"),
    "offers": _l("offers"),
    "percent_bp": _l("percent off"),
    "price": _l("price"),
    "privacy_policy": _l("privacy policy"),
    "product_id": _l("product"),
    "pse_number": _l("PSE registration"),
    "publisher": _l("publisher"),
    "quantity": _l("quantity"),
    "rate_per_minute": _l("calls per minute"),
    "refund_policy": _l("refund policy"),
    "refund_ref": _l("refund reference"),
    "role": _l("role"),
    "shop_name": _l("shop name"),
    "slug": _l("address"),
    "sort_order": _l("position"),
    "starts_at": _l("starts"),
    "state": _l("state"),
    "status": _l("status"),
    "supplier": _l("supplier"),
    "supplier_cost": _l("cost"),
    "supplier_sku": _l("supplier SKU"),
    "support_email": _l("support email"),
    "support_whatsapp": _l("support WhatsApp"),
    "terms": _l("terms"),
    "timezone": _l("time zone"),
    "two_factor": _l("two-step sign-in"),
    "verifier": _l("nickname check"),
    "verifier_code": _l("nickname check code"),
}


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


def record(actor: Actor, action: str, target_type: str, target_id: str | int, summary: str,
           before: dict | None = None, after: dict | None = None) -> None:
    """Add an audit entry inside the caller's transaction."""
    db.session.add(AuditEntry(admin_id=actor.admin_id, actor=actor.name, action=action,
                              target_type=target_type, target_id=str(target_id)[:64],
                              summary=summary[:2000], before=before, after=after,
                              at=utcnow()))


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def entries_for(target_type: str, target_id: str | int) -> list[AuditEntry]:
    """The audit entries about one thing (an order's admin actions), oldest first."""
    return list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.target_type == target_type,
                                    AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id)
    ))


def search(actor: str | None = None, action: str | None = None, target_type: str | None = None,
           target_id: str | None = None, before_id: int | None = None,
           limit: int = 50) -> tuple[list[AuditEntry], int | None]:
    """One page of the log, newest first, and the id to continue from (None on the last page).

    Keyset pagination: the next page starts below the last id shown, so it stays fast deep in
    a long log and no entry is skipped or repeated while new ones arrive.
    """
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditEntry.action.like(escaped + "%", escape="\\"))
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id:
        query = query.where(AuditEntry.target_id == target_id)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    entries = list(db.session.scalars(query))
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, (entries[-1].id if more else None)


def target_types() -> list[str]:
    """The kinds of things the log has entries about (order, product, admin ...).

    A loose index scan (one index seek per distinct value, a recursive CTE that SQLite and
    PostgreSQL both run): SELECT DISTINCT would read the whole index of a long log.
    """
    column = AuditEntry.target_type
    first = sa.select(column).order_by(column).limit(1)
    steps = sa.select(first.scalar_subquery().label("kind")).cte("kinds", recursive=True)
    following = sa.select(column).where(column > steps.c.kind).order_by(column).limit(1)
    steps = steps.union_all(sa.select(following.scalar_subquery()).where(steps.c.kind.is_not(None)))
    return list(db.session.scalars(sa.select(steps.c.kind).where(steps.c.kind.is_not(None))))
