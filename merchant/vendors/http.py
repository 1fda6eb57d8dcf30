"""The HTTP transport every vendor adapter shares: one session, one timeout, one error wording.

Each adapter still builds its own request (URL, auth, body) and reads its vendor's reply; this
module only sends it and turns transport trouble into the adapter's own error for the operator.
"""
from __future__ import annotations

from collections.abc import Mapping

import requests


class VendorAdapter:
    """Base of gateways, suppliers and verifiers: the app's settings and an HTTP session."""

    #: settings (without the MERCHANT_ prefix) this adapter cannot work without
    required_settings: tuple[str, ...] = ()

    def __init__(self, settings: Mapping, session: requests.Session | None = None):
        self.settings = settings
        self.session = session

    @classmethod
    def missing_settings(cls, settings: Mapping) -> list[str]:
        """The MERCHANT_* variables this adapter needs that `settings` lacks."""
        return [f"MERCHANT_{key}" for key in cls.required_settings if not settings.get(key)]

    @property
    def http(self) -> requests.Session:
        """The session given at construction (shared by the app), or one made on first use."""
        if self.session is None:
            self.session = requests.Session()
        return self.session

    @property
    def timeout(self) -> float:
        """Seconds to wait for a vendor's answer (the HTTP_TIMEOUT setting)."""
        return float(self.settings.get("HTTP_TIMEOUT", 10))


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A callback's header by name, whatever the case of the mapping's keys (werkzeug's
    Headers, or a plain dict in tests and scripts)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def send(session: requests.Session, method: str, url: str, *, vendor: str, what: str,
         timeout: float, error: type[Exception], **kwargs) -> requests.Response:
    """Send one request and return the response, whatever its HTTP status.

    :raise error: the vendor did not answer within `timeout` or could not be reached; the
        message names `vendor` and `what` was being sent.
    """
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise error(f"{vendor} {what}: no answer within {timeout:g} s") from exc
    except requests.RequestException as exc:
        # Only the kind of failure: its text holds the URL, whose query may carry a signature.
        raise error(f"{vendor} {what}: could not reach {vendor} ({type(exc).__name__})") from exc
