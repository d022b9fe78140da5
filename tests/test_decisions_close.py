"""Closing a session: undecided cases need a choice; constant queries on the meeting page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.meetings.models import AgendaItem
from tests.meetings_support import audits, case_row, item_ids, notifications, session_row
from tests.test_cases_completeness import count_queries

READY = {
    "proposal_code": "387713003",
    "file_complete": "yes",
    "quorum_status": "ORG-133",
    "outcome": "discussed",
}


@pytest.fixture
def world(make):
    rcp = make.rcp()
    session = make.session(rcp.id, status="in_progress", starts_at=utcnow() - timedelta(hours=1))
    following = make.session(rcp.id, starts_at=utcnow() + timedelta(days=14))
    items = [make.agenda_item(session.id) for _ in range(3)]
    return {"rcp": rcp, "session": session, "next": following, "items": items}


def _decide(client, world, item, **changes):
    base = f"/seances/{world['session'].id}/reunion/{item.id}"
    assert (
        client.post(base + "/decision", json={**READY, **changes, "version": 0}).status_code == 200
    )
    client.post(base + "/prete")


def test_closing_requires_a_choice_for_each_undecided_case(app, client, login, world):
    login("coordinator")
    first, second, third = world["items"]
    _decide(client, world, first)
    close = f"/seances/{world['session'].id}/cloture"
    page = client.get(close).get_data(as_text=True)
    assert f'name="choice_{second.id}"' in page and f'name="choice_{first.id}"' not in page
    version = session_row(app, world["session"].id).version
    response = client.post(close, data={"version": version})
    page = response.get_data(as_text=True)
    # The reasons are listed once each, in the error summary at the top of the page.
    assert response.status_code == 200 and "data-error-summary" in page
    assert "Rien n'a été enregistré." in page
    summary = page.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert summary.count("choisissez « reporter » ou « décidé »") == 2
    assert page.count("choisissez « reporter » ou « décidé »") == 2
    assert session_row(app, world["session"].id).status == "in_progress"
    # "Decided" with an incomplete decision, and a postponement without a reason: refused.
    response = client.post(
        close,
        data={
            "version": version,
            f"choice_{second.id}": "decided",
            f"choice_{third.id}": "postpone",
        },
    )
    page = response.get_data(as_text=True)
    assert "il manque" in page and "indiquez le motif du report" in page
    assert session_row(app, world["session"].id).status == "in_progress"
    assert len(item_ids(app, world["session"].id)) == 3
    # Then a complete decision for the second, a reason for the third: closed.
    _decide(client, world, second, outcome="registered", guideline_name="INCa")
    response = client.post(
        close,
        data={
            "version": version,
            f"choice_{third.id}": "postpone",
            f"reason_{third.id}": "Attente IRM",
        },
    )
    assert response.status_code == 302
    assert session_row(app, world["session"].id).status == "closed"
    assert case_row(app, first.case_id).status == "discussed"
    assert case_row(app, second.case_id).status == "registered"
    moved = case_row(app, third.case_id)
    assert moved.status == "postponed" and moved.session_id == world["next"].id
    assert item_ids(app, world["session"].id) == [first.id, second.id]
    assert any(n[0] == "case_postponed" and n[5] == "Attente IRM" for n in notifications(app))
    assert len(audits(app, "session.status")) == 1


def test_a_decision_postponing_the_case_is_applied_at_closing(app, client, login, world):
    login("coordinator")
    first, second, third = world["items"]
    _decide(client, world, first, outcome="postponed", postpone_reason="Biopsie à refaire")
    _decide(client, world, second)
    _decide(client, world, third)
    version = session_row(app, world["session"].id).version
    response = client.post(f"/seances/{world['session'].id}/cloture", data={"version": version})
    assert response.status_code == 302
    assert case_row(app, first.case_id).status == "postponed"
    assert case_row(app, first.case_id).session_id == world["next"].id


def test_status_button_refuses_closing_with_undecided_cases(app, client, login, world):
    login("coordinator")
    version = session_row(app, world["session"].id).version
    response = client.post(
        f"/seances/{world['session'].id}/statut", data={"status": "closed", "version": version}
    )
    assert response.status_code == 409
    assert "Clore la séance" in response.get_data(as_text=True)
    assert session_row(app, world["session"].id).status == "in_progress"


def test_physician_coordinating_the_rcp_may_close(app, client, login, make):
    professional = make.professional()
    rcp = make.rcp(coordinator_id=professional.id)
    session = make.session(rcp.id, status="in_progress")
    login("physician", professional_id=professional.id)
    assert client.get(f"/seances/{session.id}/cloture").status_code == 200


def _fill(make, session_id, count):
    for _ in range(count):
        make.agenda_item(session_id)


def test_meeting_page_uses_a_constant_number_of_queries(app, client, login, make):
    login("physician")
    rcp = make.rcp()
    session = make.session(rcp.id, status="in_progress")
    _fill(make, session.id, 5)
    with app.app_context():
        first = db.session.scalars(
            select(AgendaItem.id).where(AgendaItem.session_id == session.id)
        ).first()
    url = f"/seances/{session.id}/reunion?dossier={first}"
    with count_queries() as few:
        assert client.get(url).status_code == 200
    _fill(make, session.id, 55)
    with count_queries() as many:
        response = client.get(url)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('class="meeting-agenda-item') == 60
    assert len(many) == len(few), "\n".join(many)
