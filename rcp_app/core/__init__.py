"""Pieces shared by every feature: audit log, errors, permissions, formatting."""
