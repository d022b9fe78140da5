"""The delivery dashboard's filters: state, RCP, session, recipient role and name/address,
dates, patient (name or INS); refused values get a French message and are ignored, never a
500; the list is paginated and keeps its filters from page to page; the audit row says what
was filtered on without what was typed."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.delivery.models import Transmission
from rcp_app.extensions import db
from rcp_app.meetings.models import Notification
from rcp_app.meetings.operations import local_to_utc

_ids = itertools.count(1)


def _transmission(
    make,
    world,
    *,
    session,
    case,
    professional,
    status="sent",
    role="requester",
    created_at=None,
    address=None,
):
    created = created_at or utcnow() - timedelta(days=1)
    with make.app.app_context():
        notification = Notification(
            kind="case_scheduled",
            recipient_id=professional.id,
            session_id=session.id,
            case_id=case.id,
            created_at=created,
            status="sent",
        )
        db.session.add(notification)
        db.session.flush()
        row = Transmission(
            message_id=f"<filtre-{next(_ids)}-{notification.id}@rcp.test>",
            kind="case_scheduled",
            channel="mssante",
            recipient_role=role,
            recipient_address=address or professional.mssante_address,
            professional_id=professional.id,
            notification_id=notification.id,
            patient_id=case.patient_id,
            status=status,
            attempts=1 if status != "pending" else 0,
            next_attempt_at=created,
            created_at=created,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.fixture
def world(make):
    rcp_a, rcp_b = make.rcp(weekday=None, name="RCP Alpha"), make.rcp(weekday=None, name="RCP Bêta")
    s_a, s_b = make.session(rcp_a.id), make.session(rcp_b.id)
    helene = make.patient(birth_name="Lefèvre", first_birth_first_name="Hélène")
    paul = make.patient(birth_name="Durand", first_birth_first_name="Paul", sex="M")
    c_helene = make.case(rcp_id=rcp_a.id, session_id=s_a.id, patient_id=helene.id)
    c_paul = make.case(rcp_id=rcp_b.id, session_id=s_b.id, patient_id=paul.id)
    roux = make.professional(last_name="Roux", mssante_address="claire.roux@chu.mssante.fr")
    blanc = make.professional(last_name="Blanc", mssante_address="marc.blanc@ch.mssante.fr")
    w = {"rcp_a": rcp_a, "rcp_b": rcp_b, "s_a": s_a, "s_b": s_b, "helene": helene}
    w["t1"] = _transmission(
        make,
        w,
        session=s_a,
        case=c_helene,
        professional=roux,
        status="failed",
        created_at=local_to_utc(datetime(2026, 3, 10, 9, 0)),
    )
    w["t2"] = _transmission(
        make,
        w,
        session=s_a,
        case=c_helene,
        professional=blanc,
        status="acknowledged",
        role="participant",
        created_at=local_to_utc(datetime(2026, 3, 12, 23, 30)),
    )
    w["t3"] = _transmission(
        make,
        w,
        session=s_b,
        case=c_paul,
        professional=roux,
        status="sent",
        created_at=local_to_utc(datetime(2026, 3, 13, 0, 30)),
    )
    return w


def _shown(page: str, world) -> set[str]:
    return {k for k in ("t1", "t2", "t3") if f"/diffusion/{world[k]}/renvoyer" in page}


def _get(client, **params):
    response = client.get("/diffusion", query_string={"etat": "all", **params})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, {"t1", "t2", "t3"}),
        ({"etat": "failed"}, {"t1"}),
        ({"etat": "acknowledged"}, {"t2"}),
        ({"rcp": "{rcp_a}"}, {"t1", "t2"}),
        ({"seance": "{s_b}"}, {"t3"}),
        ({"rcp": "{rcp_a}", "seance": "{s_a}"}, {"t1", "t2"}),
        ({"role": "participant"}, {"t2"}),
        ({"destinataire": "roux"}, {"t1", "t3"}),  # the professional's name
        ({"destinataire": "BLANC@CH"}, {"t2"}),  # part of the address
        ({"patient": "lefevre"}, {"t1", "t2"}),  # accents ignored
        ({"patient": "LEFÈVRE hél"}, {"t1", "t2"}),
        ({"patient": "durand"}, {"t3"}),
        ({"patient": "{helene_ins}"}, {"t1", "t2"}),
        # Local (Paris) days: 12/03 ends at midnight Paris time, not UTC.
        ({"du": "12/03/2026", "au": "12/03/2026"}, {"t2"}),
        ({"du": "13/03/2026"}, {"t3"}),
        ({"au": "2026-03-11"}, {"t1"}),
        ({"rcp": "{rcp_a}", "etat": "failed", "patient": "lef"}, {"t1"}),
    ],
)
def test_filters(client, login, world, params, expected):
    login("coordinator")
    values = {
        k: v.format(
            rcp_a=world["rcp_a"].id,
            s_a=world["s_a"].id,
            s_b=world["s_b"].id,
            helene_ins=world["helene"].ins_matricule,
        )
        for k, v in params.items()
    }
    assert _shown(_get(client, **values), world) == expected


@pytest.mark.parametrize(
    "params, message",
    [
        ({"etat": "bizarre"}, "État inconnu"),
        ({"rcp": "abc"}, "RCP inconnue"),
        ({"rcp": "999999999"}, "RCP inconnue"),
        ({"seance": "-3"}, "Séance inconnue"),
        ({"seance": "99999999999999999999"}, "Séance inconnue"),
        ({"role": "pirate"}, "Rôle inconnu"),
        ({"du": "31/02/2026"}, "Date invalide"),
        ({"au": "demain"}, "Date invalide"),
        ({"patient": "x" * 101}, "100 caractères au plus"),
        ({"destinataire": "a\x07b"}, "invisible non autorisé"),
        ({"page": "1e23"}, None),
    ],
)
def test_bad_values_get_a_french_message_and_are_ignored(client, login, world, params, message):
    login("coordinator")
    page = _get(client, **params)
    if message:
        assert message in page
        assert "Certains filtres ne sont pas valides" in page
    if "etat" not in params:
        assert _shown(page, world) == {"t1", "t2", "t3"}  # the refused filter is ignored


def test_an_end_before_the_start_is_refused_the_start_kept(client, login, world):
    login("coordinator")
    page = _get(client, du="12/03/2026", au="01/03/2026")
    assert "La date de fin précède la date de début (12/03/2026)" in page
    assert _shown(page, world) == {"t2", "t3"}


def test_a_session_of_another_rcp_is_refused(client, login, world):
    login("coordinator")
    page = _get(client, rcp=str(world["rcp_a"].id), seance=str(world["s_b"].id))
    assert "Séance inconnue (ou d&#39;une autre RCP)" in page
    assert _shown(page, world) == {"t1", "t2"}


def test_paginated_with_the_filters_kept(app, client, login, make, world):
    login("coordinator")
    app.config["RCP_PAGE_SIZE"] = 2
    try:
        page = _get(client)
        assert "3 résultats" in page and len(_shown(page, world)) == 2
        assert "page=2" in page
        filtered = _get(client, destinataire="roux")
        assert _shown(filtered, world) == {"t1", "t3"} and "page=2" not in filtered
        second = _get(client, page="2")
        assert len(_shown(second, world)) == 1
        # The state buttons keep the other filters.
        assert "destinataire=roux" in _get(client, destinataire="roux", etat="failed")
    finally:
        app.config["RCP_PAGE_SIZE"] = 25


def test_audit_names_the_criteria_not_what_was_typed(app, client, login, world):
    login("coordinator")
    _get(client, patient="Lefèvre", destinataire="roux", rcp=str(world["rcp_a"].id))
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "delivery.dashboard_view")
            .order_by(AuditEntry.seq.desc())
        ).first()
        details = entry.details_dict()
    assert details["criteria"]["patient"] is True and details["criteria"]["recipient"] is True
    assert details["criteria"]["rcp_id"] == world["rcp_a"].id
    assert "lef" not in entry.details.lower() and "roux" not in entry.details.lower()
    assert details["patients"] == [world["helene"].id]


def test_fiche_messages_filter_by_their_fiche_session_and_rcp(app, client, login, make, world):
    """A signed fiche's messages carry no notification: their session is the fiche's."""
    from tests.delivery.support import signed_fiche, transmissions

    fiche_world = signed_fiche(app, make)
    fiche_rows = {t.id for t in transmissions(app) if t.kind == "fiche"}
    assert len(fiche_rows) == 4
    login("coordinator")

    def shown(**params):
        page = _get(client, **params)
        return {int(i) for i in fiche_rows if f"/diffusion/{i}/renvoyer" in page}, page

    by_session, page = shown(seance=str(fiche_world.session_id))
    assert by_session == fiche_rows and _shown(page, world) == set()
    by_rcp, page = shown(rcp=str(fiche_world.rcp_id))
    assert by_rcp == fiche_rows and _shown(page, world) == set()
    other, page = shown(rcp=str(world["rcp_a"].id))
    assert other == set() and _shown(page, world) == {"t1", "t2"}
