"""The outside services the shop talks to: payment gateways, suppliers and account verifiers,
each an adapter over one shared HTTP transport, built from the settings by `registry`.

Vendors know nothing of orders: they take and return plain values.
"""
