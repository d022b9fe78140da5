"""Decisions captured live during an RCP meeting."""
