"""Running the shop: the worker, the supplier balance watch, Needs attention, sales figures,
metrics, backups, schema upgrades and the demo catalog."""
