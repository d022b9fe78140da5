"""/api/v1/decisions (being written)."""
