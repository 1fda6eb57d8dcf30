"""dashboard: filled in by its area."""
