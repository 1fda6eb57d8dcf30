"""Supply: which suppliers can deliver a package, and whether any of them can now.

A package has an ordered list of offers (offers.py). The worker's supply pass (sync.py) keeps,
from each supplier's price list and balance on the supplier's own schedule, what every offer's
product looks like (status, stock, cut-off window, price) and what each deposit can still
cover (deposits.py). availability.py reads those rows (never a supplier) to say whether a
package sells and why not; the checkout reserves the deposit an order will use under a row
lock. transitions.py records a deposit turning short or recovering and a package turning
unavailable or available again. windows.py holds the suppliers' safe windows for re-sending
a ref_id.
"""
