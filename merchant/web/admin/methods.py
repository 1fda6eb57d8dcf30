"""methods: filled in by its area."""
