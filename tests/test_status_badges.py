"""Status badges: one CSS class per status, the same on every page, text always present, and
WCAG AA contrast (4.5:1) for every badge colour of static/css/app.css."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rcp_app.cases.status import STATUS_LABELS
from tests.support.case_data import world

CSS = Path(__file__).resolve().parents[1] / "static" / "css" / "app.css"
# UI.md's statuses (brouillon, soumis, inscrit, discuté, enregistré, reporté, validé, signé,
# envoyé, échec) and the other workflow statuses of the coming issues.
PREPARED = (
    "draft",
    "submitted",
    "withdrawn",
    "scheduled",
    "postponed",
    "refused",
    "discussed",
    "registered",
    "validated",
    "signed",
    "superseded",
    "pending",
    "sent",
    "failed",
    "acknowledged",
    "late",
)
_RULE = re.compile(r"\.badge\.([\w-]+)\s*\{([^}]*)\}")


def _badge_rules() -> dict[str, dict[str, str]]:
    rules = {}
    for name, body in _RULE.findall(CSS.read_text(encoding="utf-8")):
        declarations = dict(
            (key.strip(), value.strip())
            for key, _, value in (part.partition(":") for part in body.split(";"))
            if key.strip()
        )
        rules[name] = declarations
    return rules


def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula():
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_every_status_has_its_class():
    rules = _badge_rules()
    for status in (*STATUS_LABELS, *PREPARED):
        assert f"status-{status}" in rules, status


def test_every_badge_colour_has_enough_contrast():
    """Every .badge rule with a background: its text (white unless set) at 4.5:1 at least."""
    checked = 0
    for name, rule in _badge_rules().items():
        background = rule.get("background") or rule.get("background-color")
        if not background or not background.startswith("#"):
            continue
        text = rule.get("color", "#fff")
        ratio = contrast(text, background)
        assert ratio >= 4.5, f".badge.{name}: {text} on {background} = {ratio:.2f}:1"
        checked += 1
    assert checked >= len(PREPARED)


def test_status_colours_are_distinct_within_cases():
    rules = _badge_rules()
    colours = [rules[f"status-{s}"]["background"] for s in STATUS_LABELS]
    assert len(set(colours)) == len(colours)


def test_the_same_badge_on_every_page(app, client, make, login):
    """List, case page, patient page and home page show one badge markup for a status."""
    user = login("physician")
    ids = world(app, make)
    case = make.case(
        rcp_id=ids["rcp"],
        session_id=ids["session"],
        patient_id=ids["patient"],
        created_by_id=user.id,
    )
    badge = '<span class="badge status-badge status-draft">Brouillon</span>'
    for url in ("/dossiers", f"/dossiers/{case.id}", f"/patients/{ids['patient']}", "/"):
        html = client.get(url).get_data(as_text=True)
        assert badge in html, url
        assert "case-draft" not in html
