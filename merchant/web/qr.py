"""QR codes drawn on the server as inline SVG (segno), so no script or image host is needed."""
from __future__ import annotations

import segno


def svg(payload: str, scale: int = 4) -> str:
    """An <svg> element for the payload, sized for a phone screen and a second phone's camera."""
    code = segno.make(payload, error="m")
    return code.svg_inline(scale=scale, border=2, dark="#111", light="#fff",
                           svgclass="qr", lineclass=None, omitsize=True)
