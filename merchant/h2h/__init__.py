"""The H2H API: resellers below the shop ordering from their own sites, bots and scripts.

keys (who is calling, and with what secret), signing (how a request and a callback are signed),
errors (the stable codes), access (the checks every call passes), products (the price list at
the caller's level), orders (placing and reading an order under the reseller's ref_id),
callbacks (telling the reseller's URL of every change), calls (the call log), and the
Digiflazz-compatible door (digiflazz). The HTTP side is merchant/web/api/.
"""
