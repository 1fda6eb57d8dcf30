"""settings: filled in by its area."""
