"""Pieces shared by every feature: audit log, errors, transactions, formatting.

Access rules live in rcp_app/access.
"""
