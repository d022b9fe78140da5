"""/api/v1/cases (being written)."""
