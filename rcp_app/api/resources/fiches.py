"""/api/v1/fiches (being written)."""
