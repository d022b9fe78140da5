"""The one edit-version check (core/conflict.py::check_version), used by every edit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rcp_app.core.conflict import check_version
from rcp_app.core.errors import Conflict

PACKAGE = Path(__file__).resolve().parents[1] / "rcp_app"


@pytest.mark.parametrize("expected", [3, "3", " 3 "])
def test_the_version_the_form_was_built_from_passes(expected):
    check_version(expected, 3, "refusé")


@pytest.mark.parametrize("expected", [2, "4", None, "", "abc", "3.0", "-3", True])
def test_a_stale_missing_or_unreadable_version_is_refused(expected):
    with pytest.raises(Conflict, match="^Modifié entre-temps.$"):
        check_version(expected, 3, "Modifié entre-temps.")


def test_the_refusal_may_be_the_operation_s_own_exception():
    class Stale(Conflict):
        pass

    with pytest.raises(Stale):
        check_version("1", 2, Stale("périmé"))


def test_no_operation_compares_versions_by_hand():
    """``parse_version(x) != obj.version`` written again somewhere would skip the rule."""
    by_hand = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "core" / "conflict.py":
            continue  # the check itself
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Call) and getattr(side.func, "id", "") == "parse_version"
                for side in (node.left, *node.comparators)
            ):
                by_hand.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert by_hand == []
