"""export: filled in by its area."""
