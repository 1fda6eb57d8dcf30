"""Customers who come back: accounts (optional; guests buy as before), their sign-in sessions,
saved game accounts, saldo and price levels."""
