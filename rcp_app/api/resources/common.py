"""What every resource shares: the problem document's schema, 404s."""

from __future__ import annotations

from flask import abort

from ...core.errors import problem
from ..spec import Problem

__all__ = ["Problem", "not_found"]


def not_found(detail: str) -> None:
    abort(problem(404, detail))
