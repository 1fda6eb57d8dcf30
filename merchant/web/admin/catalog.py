"""catalog: filled in by its area."""
