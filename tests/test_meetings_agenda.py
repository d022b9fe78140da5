"""Agenda builder: assign (capacity, completeness override), unassign, reorder, item edits,
postpone, refuse; bad input gets a French message and changes nothing; every change audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rcp_app.core.timeutil import utcnow
from tests.meetings_support import (
    audits,
    case_row,
    item_ids,
    items_of,
    notifications,
    pool_case,
    session_row,
    simple_rcp,
)


@pytest.fixture
def setup(app, make, login):
    login("coordinator")
    rcp = simple_rcp(app, make)
    session = make.session(rcp.id)
    return rcp, session


def _assign(client, session_id, case_id, **extra):
    return client.post(
        f"/seances/{session_id}/ordre-du-jour/ajouter", data={"case_id": case_id, **extra}
    )


def test_assign_a_complete_case(app, client, make, setup):
    rcp, session = setup
    case = pool_case(make, rcp.id, session.id)
    page = client.get(f"/seances/{session.id}").get_data(as_text=True)
    assert "Dossiers en attente (1)" in page and "Complet" in page
    response = _assign(client, session.id, case.id)
    assert response.status_code == 302
    assert items_of(app, session.id) == [(case.id, 1)]
    assert case_row(app, case.id).status == "scheduled"
    assert session_row(app, session.id).agenda_version == 2
    assert notifications(app) == [
        ("case_scheduled", case.requester_id, session.id, case.id, "pending", None)
    ]
    [entry] = audits(app, "agenda.assign")
    assert entry.object_id == str(case.id) and entry.patient_id == case.patient_id
    page = client.get(f"/seances/{session.id}").get_data(as_text=True)
    assert "Dossiers en attente (0)" in page and "Durée prévue : 5 min" in page


def test_assign_beyond_capacity_is_refused(app, client, make, setup):
    rcp, _ = setup
    session = make.session(rcp.id, capacity=1)
    first, second = (pool_case(make, rcp.id, session.id) for _ in range(2))
    assert _assign(client, session.id, first.id).status_code == 302
    response = _assign(client, session.id, second.id)
    assert response.status_code == 400
    assert "La séance est complète (1 dossiers au maximum)" in response.get_data(as_text=True)
    assert items_of(app, session.id) == [(first.id, 1)]
    assert case_row(app, second.id).status == "submitted"


def test_incomplete_case_needs_an_audited_override(app, client, make, setup):
    rcp, session = setup
    case = pool_case(make, rcp.id, session.id, complete=False)
    response = _assign(client, session.id, case.id)
    assert response.status_code == 400
    assert "Dossier incomplet (Comorbidités)" in response.get_data(as_text=True)
    assert items_of(app, session.id) == []
    response = _assign(client, session.id, case.id, override_reason="Urgence thérapeutique")
    assert response.status_code == 302
    [entry] = audits(app, "agenda.assign")
    details = json.loads(entry.details)
    assert details["override_incomplete"] is True
    assert details["override_reason"] == "Urgence thérapeutique"
    page = client.get(f"/seances/{session.id}").get_data(as_text=True)
    assert "Incomplet (dérogation)" in page


@pytest.mark.parametrize(
    "kind, message",
    [
        ("unknown", "Dossier inconnu."),
        ("garbage", "Identifiant de dossier invalide."),
        ("other_rcp", "Ce dossier est inscrit dans une autre RCP."),
        ("draft", "seul un dossier soumis peut être inscrit"),
        ("scheduled", "Ce dossier est déjà à l&#39;ordre du jour."),
    ],
)
def test_bad_assignments_change_nothing(app, client, make, setup, kind, message):
    rcp, session = setup
    on_agenda = pool_case(make, rcp.id, session.id)
    assert _assign(client, session.id, on_agenda.id).status_code == 302
    case_id = {
        "unknown": lambda: 999999,
        "garbage": lambda: "12a",
        "other_rcp": lambda: pool_case(make, make.rcp().id, session.id).id,
        "draft": lambda: make.case(rcp_id=rcp.id, session_id=session.id).id,
        "scheduled": lambda: on_agenda.id,
    }[kind]()
    version = session_row(app, session.id).agenda_version
    response = _assign(client, session.id, case_id)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert items_of(app, session.id) == [(on_agenda.id, 1)]
    assert session_row(app, session.id).agenda_version == version
    assert len(audits(app, "agenda.assign")) == 1


def _three(app, client, make, rcp, session):
    cases = [pool_case(make, rcp.id, session.id) for _ in range(3)]
    for case in cases:
        assert _assign(client, session.id, case.id).status_code == 302
    return cases


def test_reorder_with_the_current_version(app, client, make, setup):
    rcp, session = setup
    a, b, c = _three(app, client, make, rcp, session)
    ids = item_ids(app, session.id)
    version = session_row(app, session.id).agenda_version
    response = client.post(
        f"/seances/{session.id}/ordre-du-jour/ordre",
        data={"item_ids": [ids[2], ids[0], ids[1]], "version": version},
    )
    assert response.status_code == 200
    assert response.json["version"] == version + 1
    assert "h" in response.json["saved_at"]
    assert items_of(app, session.id) == [(c.id, 1), (a.id, 2), (b.id, 3)]
    [entry] = audits(app, "agenda.reorder")
    assert json.loads(entry.details)["order"] == [ids[2], ids[0], ids[1]]


@pytest.mark.parametrize("change", ["stale_version", "missing_item", "duplicate", "garbage"])
def test_reorder_refuses_stale_lists(app, client, make, setup, change):
    rcp, session = setup
    a, b, c = _three(app, client, make, rcp, session)
    ids = item_ids(app, session.id)
    version = session_row(app, session.id).agenda_version
    data = {
        "stale_version": {"item_ids": ids[::-1], "version": version - 1},
        "missing_item": {"item_ids": ids[:2], "version": version},
        "duplicate": {"item_ids": [ids[0], ids[0], ids[1]], "version": version},
        "garbage": {"item_ids": ["x", ids[1], ids[2]], "version": version},
    }[change]
    response = client.post(f"/seances/{session.id}/ordre-du-jour/ordre", data=data)
    assert response.status_code in (400, 409)
    assert response.json["error"].startswith(("L'ordre du jour a été modifié", "Liste"))
    assert items_of(app, session.id) == [(a.id, 1), (b.id, 2), (c.id, 3)]
    assert session_row(app, session.id).agenda_version == version
    assert audits(app, "agenda.reorder") == []


def test_move_buttons_work_without_javascript(app, client, make, setup):
    rcp, session = setup
    a, b, c = _three(app, client, make, rcp, session)
    ids = item_ids(app, session.id)
    version = session_row(app, session.id).agenda_version
    response = client.post(
        f"/seances/{session.id}/ordre-du-jour/{ids[2]}/deplacer",
        data={"direction": "up", "version": version},
    )
    assert response.status_code == 302 and "enregistre=" in response.headers["Location"]
    assert items_of(app, session.id) == [(a.id, 1), (c.id, 2), (b.id, 3)]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ordre enregistré à " in page
    # The page's version is now stale: the same click again is refused.
    response = client.post(
        f"/seances/{session.id}/ordre-du-jour/{ids[2]}/deplacer",
        data={"direction": "up", "version": version},
    )
    assert response.status_code == 409
    assert "modifié entre-temps" in response.get_data(as_text=True)
    assert items_of(app, session.id) == [(a.id, 1), (c.id, 2), (b.id, 3)]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"mode": "registered", "guideline": "", "estimated_minutes": "5"}, "citer le référentiel"),
        ({"mode": "discussed", "estimated_minutes": "-3"}, "Durée estimée"),
        ({"mode": "discussed", "estimated_minutes": "0"}, "Durée estimée"),
        ({"mode": "discussed", "estimated_minutes": "abc"}, "Durée estimée"),
        ({"mode": "other", "estimated_minutes": "5"}, "Mode inconnu"),
    ],
)
def test_bad_item_edits_change_nothing(app, client, make, setup, data, message):
    rcp, session = setup
    case = pool_case(make, rcp.id, session.id)
    _assign(client, session.id, case.id)
    [item_id] = item_ids(app, session.id)
    response = client.post(f"/seances/{session.id}/ordre-du-jour/{item_id}/modifier", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audits(app, "agenda.update") == []


def test_registered_case_with_guideline_and_planned_duration(app, client, make, setup):
    rcp, session = setup
    a, b = (pool_case(make, rcp.id, session.id) for _ in range(2))
    _assign(client, session.id, a.id)
    _assign(client, session.id, b.id)
    first, second = item_ids(app, session.id)
    response = client.post(
        f"/seances/{session.id}/ordre-du-jour/{first}/modifier",
        data={"mode": "registered", "guideline": "INCa sein 2024", "estimated_minutes": "2"},
    )
    assert response.status_code == 302
    client.post(
        f"/seances/{session.id}/ordre-du-jour/{second}/modifier",
        data={"mode": "discussed", "estimated_minutes": "15"},
    )
    page = client.get(f"/seances/{session.id}").get_data(as_text=True)
    assert "Durée prévue : 17 min" in page
    assert "Dossiers enregistrés (situations standard)" in page and "INCa sein 2024" in page
    assert len(audits(app, "agenda.update")) == 2


def test_unassign_puts_the_case_back_in_the_pool(app, client, make, setup):
    rcp, session = setup
    a, b, c = _three(app, client, make, rcp, session)
    ids = item_ids(app, session.id)
    response = client.post(f"/seances/{session.id}/ordre-du-jour/{ids[0]}/retirer")
    assert response.status_code == 302
    assert items_of(app, session.id) == [(b.id, 1), (c.id, 2)]
    assert case_row(app, a.id).status == "submitted"
    assert len(audits(app, "agenda.unassign")) == 1


def test_postpone_moves_the_case_to_the_next_session_pool(app, client, make, setup):
    rcp, session = setup
    later = make.session(rcp.id, starts_at=session_row(app, session.id).starts_at + timedelta(7))
    case = pool_case(make, rcp.id, session.id)
    _assign(client, session.id, case.id)
    response = client.post(f"/seances/{session.id}/dossiers/{case.id}/reporter", data={})
    assert response.status_code == 400 and "Indiquez le motif du report" in response.get_data(
        as_text=True
    )
    response = client.post(
        f"/seances/{session.id}/dossiers/{case.id}/reporter",
        data={"reason": "Attente de l'IRM"},
    )
    assert response.status_code == 302
    row = case_row(app, case.id)
    assert (row.status, row.session_id) == ("postponed", later.id)
    assert items_of(app, session.id) == []
    assert (
        "case_postponed",
        case.requester_id,
        later.id,
        case.id,
        "pending",
        "Attente de l'IRM",
    ) in (notifications(app))
    [entry] = audits(app, "agenda.postpone")
    assert json.loads(entry.details)["to_session_id"] == later.id
    assert "Dossiers en attente (0)" in client.get(f"/seances/{session.id}").get_data(as_text=True)
    page = client.get(f"/seances/{later.id}").get_data(as_text=True)
    assert "Dossiers en attente (1)" in page and "Reporté" in page
    assert _assign(client, later.id, case.id).status_code == 302
    assert case_row(app, case.id).status == "scheduled"


def test_postpone_without_a_next_session(app, client, make, setup):
    rcp, session = setup
    case = pool_case(make, rcp.id, session.id)
    response = client.post(
        f"/seances/{session.id}/dossiers/{case.id}/reporter", data={"reason": "Attente"}
    )
    assert response.status_code == 400
    assert "Aucune séance suivante" in response.get_data(as_text=True)
    assert case_row(app, case.id).status == "submitted"
    assert notifications(app) == []


def test_refuse_a_case_with_a_reason(app, client, make, setup):
    rcp, session = setup
    case = pool_case(make, rcp.id, session.id, complete=False)
    response = client.post(
        f"/seances/{session.id}/dossiers/{case.id}/refuser", data={"reason": " "}
    )
    assert response.status_code == 400 and "Indiquez le motif du refus" in response.get_data(
        as_text=True
    )
    response = client.post(
        f"/seances/{session.id}/dossiers/{case.id}/refuser",
        data={"reason": "Compte rendu anatomopathologique manquant"},
    )
    assert response.status_code == 302
    assert case_row(app, case.id).status == "refused"
    [(kind, recipient, *_rest, reason)] = notifications(app)
    assert (kind, recipient, reason) == (
        "case_refused",
        case.requester_id,
        "Compte rendu anatomopathologique manquant",
    )
    assert len(audits(app, "agenda.refuse")) == 1
    # A refused case can no longer be scheduled.
    response = _assign(client, session.id, case.id)
    assert response.status_code == 400 and items_of(app, session.id) == []


def test_closed_session_agenda_is_frozen(app, client, make, setup):
    rcp, _ = setup
    session = make.session(rcp.id, status="closed", starts_at=utcnow() - timedelta(days=1))
    case = pool_case(make, rcp.id, session.id)
    response = _assign(client, session.id, case.id)
    assert response.status_code == 409
    assert "ne peut plus être modifié" in response.get_data(as_text=True)
    assert items_of(app, session.id) == []


def test_physician_sees_the_agenda_not_the_pool_and_the_view_is_audited(app, client, make, login):
    rcp = simple_rcp(app, make)
    session = make.session(rcp.id)
    item = make.agenda_item(session.id)
    waiting = pool_case(make, rcp.id, session.id)
    login("physician")
    page = client.get(f"/seances/{session.id}").get_data(as_text=True)
    assert f"/dossiers/{item.case_id}" in page
    assert f"/dossiers/{waiting.id}" not in page and "Dossiers en attente" not in page
    assert "Monter" not in page and "Publier" not in page
    [entry] = audits(app, "session.agenda_view")
    patient_id = _patient_of(app, item.case_id)
    assert json.loads(entry.details) == {
        "cases": [item.case_id],
        "pool": [],
        "patients": [patient_id],
    }


def test_home_counts_scheduled_cases_against_capacity(app, client, make, login):
    login("coordinator")
    rcp = simple_rcp(app, make, name="RCP comptage")
    session = make.session(rcp.id, capacity=2)
    for _ in range(2):
        make.agenda_item(session.id)
    pool_case(make, rcp.id, session.id)
    html = client.get("/").get_data(as_text=True)
    row = html[html.index("RCP comptage") :]
    row = row[: row.index("</tr>")]
    assert "Capacité dépassée" in row and f"/seances/{session.id}" in row


def _patient_of(app, case_id: int) -> int:
    from rcp_app.cases.models import Case
    from rcp_app.extensions import db

    with app.app_context():
        return db.session.get(Case, case_id).patient_id
