"""Establishments, health professionals (RPPS) and the RCP directory."""
