"""/api/v1/webhooks (being written)."""
