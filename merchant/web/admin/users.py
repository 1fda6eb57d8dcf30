"""users: filled in by its area."""
