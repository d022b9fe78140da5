"""EXPLAIN ANALYZE of the main statements one request issued (those reading patients or cases)."""

from __future__ import annotations

import re

from flask import Flask

from rcp_app.extensions import db

from .measure import Probe

_MAIN = re.compile(r"\bFROM (patients|cases)\b")
_SPACES = re.compile(r"\s+")


def main_statements(probe: Probe) -> list[tuple[str, object, int]]:
    """(statement, parameters of its first run, times run), in order of first run."""
    seen: dict[str, list] = {}
    for statement, parameters in probe.statements:
        if statement.lstrip().upper().startswith("SELECT") and _MAIN.search(statement):
            seen.setdefault(statement, [statement, parameters, 0])[2] += 1
    return [tuple(entry) for entry in seen.values()]


def explain(app: Flask, probe: Probe) -> list[str]:
    lines: list[str] = []
    with app.app_context(), db.engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        for statement, parameters, times in main_statements(probe):
            repeated = f"  [exécutée {times} fois dans la requête]" if times > 1 else ""
            lines.append("  » " + _SPACES.sub(" ", statement).strip()[:150] + " …" + repeated)
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            for row in rows:
                lines.append("      " + (row[0] if postgres else str(row[-1])))
        conn.rollback()
    return lines
