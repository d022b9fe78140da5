"""Small page helpers shared by the browser tests."""

from __future__ import annotations

from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.extensions import db
from tests.support.factories import Factories

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures skip the tests (or fail them under CI=true)
    expect = None


def open_patient(page, query: str, birth_name: str, birth_date: str) -> None:
    """Search the patient list for ``query`` and open the row of that name and birth date."""
    page.goto("/patients")
    search = page.get_by_label("Nom, prénom ou matricule INS")
    search.fill(query)
    search.press("Enter")
    row = page.get_by_role("row").filter(has_text=birth_date)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=birth_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Identité du patient")


def scope_demo_coordinator(app, rcp_id: int, username: str = "coordination") -> None:
    """Let a demo secretariat account run an RCP the test made: coordinators see only the RCPs
    they run (rcp_app/access), and the demo scopes them to the demo establishments only."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
    Factories(app).coordinator_scope(user_id, rcp_id=rcp_id)
