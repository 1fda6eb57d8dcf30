"""Needs attention: the panel's landing page."""
from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/")
def home():
    """What needs the operator now."""
    return render_template("admin/home.html")
