"""Webhook events queued in the outbox (being written)."""
