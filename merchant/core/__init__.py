"""What every feature stands on: the tables, the extensions, short write transactions, the
outbox and the workers' wake-up, the clock, money, input rules, logs, languages, the audit log,
the shop's own settings with its time zone, and the versioned cache the shop's pages read.

Nothing here imports a feature, a vendor or the web.
"""
