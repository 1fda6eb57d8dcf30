"""The audit log: every admin action, who made it, when, and the values before and after.

Operator actions call record() inside the same transaction as the change they make, so an
action and its audit entry are committed together or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .extensions import db
from .models import AdminUser, AuditEntry


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


def record(actor: Actor, action: str, target_type: str, target_id: str | int, summary: str,
           before: dict | None = None, after: dict | None = None) -> None:
    """Add an audit entry inside the caller's transaction."""
    db.session.add(AuditEntry(admin_id=actor.admin_id, actor=actor.name, action=action,
                              target_type=target_type, target_id=str(target_id)[:64],
                              summary=summary[:2000], before=before, after=after))


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
