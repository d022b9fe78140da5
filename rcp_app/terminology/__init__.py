"""Coded value sets (concepts) used by forms and documents."""
