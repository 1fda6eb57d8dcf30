"""What runs around Flask rather than inside it: the WSGI server and the layers that wrap
`app.wsgi_app`.

Only this package may wrap `app.wsgi_app` (tests/test_architecture.py), and only with the
libraries' public APIs: a request is answered by Flask with every hook the app has, except
what these layers answer or change first.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from merchant.web.edge import static_files


def install(app: Flask) -> None:
    """Wrap the app, innermost layer first; a request meets them in the opposite order.

    1. WhiteNoise answers /static/ from the fingerprinted, pre-compressed build, so a static
       file never runs the app (static_files.py).
    2. ProxyFix, outermost and only with MERCHANT_PROXY_COUNT proxies in front: every layer
       inside it, and Flask's rate limits and secure cookies, see the customer's address and
       scheme from the last that many X-Forwarded-* entries, not the proxy's.
    """
    static_files.init_app(app)
    proxies = int(app.config["PROXY_COUNT"] or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies, x_port=proxies)
