"""« Mes suivis » and « Propositions sans suivi »: scoped in SQL, paginated, audited; the home
pages' counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from rcp_app.cases.models import Case
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.followups.models import FollowUp
from tests.followups.support import follow_up_world, today
from tests.support.access_routes import login, visible_text


def _set(app, follow_up_id: int, **values) -> None:
    with app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        for name, value in values.items():
            setattr(follow_up, name, value)
        db.session.commit()


def _hand_over(app, world, professional_id: int) -> None:
    """Another referring physician for this world's case (and its follow-up)."""
    _set(app, world.follow_up_id, requester_id=professional_id)
    with app.app_context():
        db.session.execute(
            db.update(Case).where(Case.id == world.case_id).values(requester_id=professional_id)
        )
        db.session.commit()


def _links(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/suivis/(\d+)"', html)}


def _last_list_audit(app) -> dict:
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "followup.list")
            .order_by(AuditEntry.seq.desc())
        ).first()
        return row.details_dict()


@pytest.fixture
def two(app, make):
    """Two RCPs, each with its own requester, coordinator and follow-ups."""
    first = follow_up_world(app, make, due_in=-3)
    second = follow_up_world(app, make, due_in=5)
    return first, second


def test_a_physician_sees_only_the_follow_ups_they_answer_for(app, two):
    first, second = two
    html = login(app, first.requester).get("/suivis").get_data(as_text=True)
    assert _links(html) == {first.follow_up_id}
    assert "En retard de 3 jours" in html
    details = _last_list_audit(app)
    assert details["patients"] == [first.patient_id]
    assert details["follow_ups"] == [first.follow_up_id]
    # A member of the RCP sees the case, but answers for nothing.
    member_html = login(app, first.member).get("/suivis").get_data(as_text=True)
    assert _links(member_html) == set()
    assert "Aucune proposition n'attend de suivi." in member_html


def test_a_correspondent_answers_too_and_recorded_ones_leave_the_list(app, make, two):
    first, _ = two
    correspondent = make.physician(last_name="Correspondant")
    make.correspondent(first.case_id, correspondent.professional_id)
    client = login(app, correspondent)
    assert _links(client.get("/suivis").get_data(as_text=True)) == {first.follow_up_id}
    _set(
        app,
        first.follow_up_id,
        state="lost",
        recorded_by_id=first.requester.id,
        recorded_at=utcnow(),
    )
    assert _links(client.get("/suivis").get_data(as_text=True)) == set()


def test_mine_lists_the_earliest_due_first(app, make):
    world = follow_up_world(app, make, due_in=10)
    later = follow_up_world(app, make, due_in=-2)
    _hand_over(app, later, world.requester.professional_id)
    html = login(app, world.requester).get("/suivis").get_data(as_text=True)
    ids = [int(n) for n in re.findall(r'href="/suivis/(\d+)"', html)]
    assert ids == [later.follow_up_id, world.follow_up_id]


def test_unrecorded_is_scoped_to_the_rcps_one_runs_or_coordinates(app, two):
    first, second = two
    # The second one becomes overdue too: each coordinator sees only their RCP's.
    _set(app, second.follow_up_id, due_on=today() - timedelta(days=1))
    for user, expected in (
        (first.coordinator, {first.follow_up_id}),
        (second.coordinator, {second.follow_up_id}),
        (first.coordinating, {first.follow_up_id}),
        (first.requester, set()),
        (first.outsider, set()),
    ):
        html = login(app, user).get("/suivis/sans-suivi").get_data(as_text=True)
        assert _links(html) == expected, user.username
    details = _last_list_audit(app)
    assert details["view"] == "unrecorded" and details["patients"] == []


def test_unrecorded_leaves_out_what_is_not_overdue_and_filters_by_rcp(app, make, two):
    first, second = two  # the second is due in five days
    coordinator = make.user(role="coordinator")
    make.coordinator_scope(coordinator.id, rcp_id=first.rcp_id)
    make.coordinator_scope(coordinator.id, rcp_id=second.rcp_id)
    client = login(app, coordinator)
    assert _links(client.get("/suivis/sans-suivi").get_data(as_text=True)) == {first.follow_up_id}
    filtered = client.get(f"/suivis/sans-suivi?rcp={second.rcp_id}").get_data(as_text=True)
    assert _links(filtered) == set()
    assert "Aucune proposition sans suivi pour cette RCP." in filtered
    # An RCP one does not run is ignored, not trusted.
    other = follow_up_world(app, make, due_in=-1)
    foreign = client.get(f"/suivis/sans-suivi?rcp={other.rcp_id}").get_data(as_text=True)
    assert other.follow_up_id not in _links(foreign)
    # Mes suivis of a secretariat: every pending one of its RCPs, overdue or not.
    assert _links(client.get("/suivis").get_data(as_text=True)) == {
        first.follow_up_id,
        second.follow_up_id,
    }


def test_lists_are_paginated(app, make):
    world = follow_up_world(app, make)
    app.config["RCP_PAGE_SIZE"], size = 1, app.config["RCP_PAGE_SIZE"]
    try:
        other = follow_up_world(app, make, due_in=3)
        _hand_over(app, other, world.requester.professional_id)
        client = login(app, world.requester)
        first = client.get("/suivis").get_data(as_text=True)
        second = client.get("/suivis?page=2").get_data(as_text=True)
    finally:
        app.config["RCP_PAGE_SIZE"] = size
    assert _links(first) == {world.follow_up_id}
    assert _links(second) == {other.follow_up_id}
    assert "Page 1 / 2" in first


def test_home_pages_show_the_counts(app, make, two):
    first, second = two
    physician_home = visible_text(login(app, first.requester).get("/").get_data(as_text=True))
    assert "Propositions à suivre" in physician_home
    assert "1 proposition arrivée à échéance, dont 1 en retard" in physician_home
    second_home = visible_text(login(app, second.requester).get("/").get_data(as_text=True))
    assert "0 proposition arrivée à échéance" in second_home  # due in five days
    assert "1 en attente de suivi au total" in second_home
    coordinator_home = visible_text(login(app, first.coordinator).get("/").get_data(as_text=True))
    assert "Propositions sans suivi (échéance de suivi dépassée, rien d'indiqué) : 1" in (
        coordinator_home
    )
    coordinating_home = visible_text(login(app, first.coordinating).get("/").get_data(as_text=True))
    assert "Propositions sans suivi des RCP que vous coordonnez : 1" in coordinating_home
    nobody = visible_text(login(app, first.outsider).get("/").get_data(as_text=True))
    assert "Propositions à suivre" not in nobody and "sans suivi" not in nobody
