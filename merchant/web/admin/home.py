"""Needs attention: the panel's landing page."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from merchant.ops import attention, demo
from merchant.web.admin import bp


@bp.get("/")
def home():
    """What needs the operator now, most urgent first."""
    groups = attention.needs_attention(owner=current_user.is_owner)
    demo_left = current_user.is_owner and bool(demo.leftovers())
    return render_template("admin/home.html", groups=groups, demo_left=demo_left)
