"""orders: filled in by its area."""
