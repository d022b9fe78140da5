"""Exceptional access (« bris de glace »): opening, expiry, the 403 offer, the review."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rcp_app.access import rules
from rcp_app.access.models import ExceptionalAccess
from rcp_app.auth.models import User
from rcp_app.config import ConfigurationError, build_config
from rcp_app.core.audit import AuditEntry
from rcp_app.core.redirects import safe_local_path
from rcp_app.core.timeutil import format_datetime, utcnow
from rcp_app.extensions import db
from tests.support.factories import PASSWORD


@pytest.fixture
def world(app, make):
    """A patient with a case submitted to an RCP; its coordinating physician; a physician
    outside the care team; the coordinating physician of another RCP; a dpo."""
    coordinating = make.professional(last_name="Coordinatrice")
    rcp = make.rcp(coordinator_id=coordinating.id)
    patient = make.patient(
        birth_name="BRISDEGLACE", birth_first_names="Odette", first_birth_first_name="Odette"
    )
    case = make.submitted_case(rcp_id=rcp.id, patient_id=patient.id)
    other_professional = make.professional(last_name="Ailleurs")
    make.rcp(coordinator_id=other_professional.id)
    return {
        "patient": patient,
        "case": case,
        "coordinating": make.user(
            role="physician", professional_id=coordinating.id, display_name="Dr Coordinatrice"
        ),
        "outsider": make.user(
            role="physician",
            professional_id=make.professional(last_name="Dehors").id,
            display_name="Dr Dehors",
        ),
        "other_coordinating": make.user(
            role="physician", professional_id=other_professional.id, display_name="Dr Ailleurs"
        ),
        "dpo": make.user(role="dpo", display_name="Délégué Protection"),
    }


def client_for(app, user):
    client = app.test_client()
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def url(world) -> str:
    return f"/patients/{world['patient'].id}/acces-exceptionnel"


def accesses(app) -> list[ExceptionalAccess]:
    with app.app_context():
        return db.session.scalars(select(ExceptionalAccess).order_by(ExceptionalAccess.id)).all()


def sees_record(app, user, patient_id) -> bool:
    with app.test_request_context():
        return rules.sees_patient_record(db.session.get(User, user.id), patient_id)


def move_time(monkeypatch, delta: timedelta) -> None:
    """Everything that asks the time about exceptional accesses lives ``delta`` from now."""
    later = utcnow() + delta
    for module in ("rcp_app.access.care_team", "rcp_app.access.operations"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: later)


# --- opening -----------------------------------------------------------------------------------


def test_the_page_shows_the_identity_and_the_warning(app, world):
    client = client_for(app, world["outsider"])
    page = client.get(url(world))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "BRISDEGLACE" in html and "12/04/1956" in html and "Féminin" in html
    assert "enregistré" in html and "revu" in html and "12 heures" in html
    for label in ("Urgence", "Avis demandé", "Préparation d&#39;une RCP", "Autre"):
        assert label in html
    # Identity only: no IPP, no INS, no clinical text.
    assert world["patient"].ipp not in html
    assert "carcinome" not in html


@pytest.mark.parametrize(
    ("reason", "text"),
    [("emergency", ""), ("opinion", "Avis du Dr X"), ("rcp_preparation", ""), ("other", "Garde")],
)
def test_each_reason_opens_the_record_for_the_configured_hours(app, world, reason, text):
    outsider = world["outsider"]
    patient_id = world["patient"].id
    assert not sees_record(app, outsider, patient_id)
    client = client_for(app, outsider)
    response = client.post(url(world), data={"reason": reason, "text": text})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/patients/{patient_id}"
    [access] = accesses(app)
    assert (access.user_id, access.patient_id, access.reason, access.reason_text) == (
        outsider.id,
        patient_id,
        reason,
        text,
    )
    assert access.expires_at - access.opened_at == timedelta(hours=12)
    assert access.reviewed_at is None
    assert sees_record(app, outsider, patient_id)
    with app.app_context():
        row = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "access.exceptional_open")
        )
    assert row.patient_id == patient_id and row.user_id == outsider.id
    assert row.details_dict()["reason"] == reason
    assert text == "" or text not in row.details  # free text stays out of the log


def test_the_duration_comes_from_the_setting(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "RCP_EXCEPTIONAL_ACCESS_HOURS", 3)
    client_for(app, world["outsider"]).post(url(world), data={"reason": "emergency"})
    [access] = accesses(app)
    assert access.expires_at - access.opened_at == timedelta(hours=3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "other", "text": "  "}, "« Autre » demande une explication"),
        ({"reason": "whim", "text": "x"}, "Choisissez un des motifs proposés"),
        ({"text": "x"}, "Choisissez le motif"),
        ({"reason": "opinion", "text": "x" * 501}, "500 caractères au maximum"),
        ({"reason": "opinion", "text": "a\x07b"}, "caractère invisible"),
    ],
)
def test_a_refused_opening_says_why_and_writes_nothing(app, world, data, message):
    client = client_for(app, world["outsider"])
    response = client.post(url(world), data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert accesses(app) == []
    assert not sees_record(app, world["outsider"], world["patient"].id)


@pytest.mark.parametrize(
    ("next_url", "followed"),
    [
        ("/dossiers/{case}", True),
        ("/patients/{patient}?onglet=1", True),
        ("//evil.example/x", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
        ("/\t/evil.example", False),
        ("javascript:alert(1)", False),
    ],
)
def test_only_a_local_next_is_followed(app, world, next_url, followed):
    target = next_url.format(case=world["case"].id, patient=world["patient"].id)
    client = client_for(app, world["outsider"])
    form = client.get(url(world), query_string={"next": target}).get_data(as_text=True)
    response = client.post(url(world), data={"reason": "emergency", "next": target})
    location = response.headers["Location"]
    if followed:
        assert location == target
        assert 'name="next" type="hidden" value="' in form
    else:
        assert location == f"/patients/{world['patient'].id}"


def test_safe_local_path():
    assert safe_local_path("/a/b?c=d") == "/a/b?c=d"
    for unsafe in (None, "", "a/b", "//x", "/\\x", "http://x/", "/\nx", "/x\x7f"):
        assert safe_local_path(unsafe) is None


def test_an_open_access_is_shown_with_its_end_and_not_opened_twice(app, world):
    client = client_for(app, world["outsider"])
    client.post(url(world), data={"reason": "emergency"})
    [access] = accesses(app)
    html = client.get(url(world)).get_data(as_text=True)
    assert "déjà un accès exceptionnel" in html
    assert f"jusqu'au <strong>{format_datetime(access.expires_at)}</strong>" in html
    assert f'href="/patients/{world["patient"].id}"' in html
    client.post(url(world), data={"reason": "other", "text": "encore"})
    assert len(accesses(app)) == 1


def test_a_physician_of_the_care_team_goes_straight_to_the_record(app, world):
    client = client_for(app, world["coordinating"])
    response = client.get(url(world))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/patients/{world['patient'].id}"
    assert accesses(app) == []


@pytest.mark.parametrize("role", ["coordinator", "gp", "admin", "dpo"])
def test_only_physicians_open_an_exceptional_access(app, make, world, role):
    client = client_for(app, make.user(role=role))
    assert client.get(url(world)).status_code == 403
    assert client.post(url(world), data={"reason": "emergency"}).status_code == 403
    assert accesses(app) == []


# --- expiry ------------------------------------------------------------------------------------


def test_the_access_opens_the_record_during_the_window_only(app, world, monkeypatch):
    outsider, patient_id = world["outsider"], world["patient"].id
    client = client_for(app, outsider)
    record = f"/patients/{patient_id}"
    assert client.get(record).status_code == 403
    client.post(url(world), data={"reason": "emergency"})
    assert client.get(record).status_code == 200
    move_time(monkeypatch, timedelta(hours=11, minutes=59))
    assert sees_record(app, outsider, patient_id)
    assert client.get(record).status_code == 200
    move_time(monkeypatch, timedelta(hours=12, minutes=1))
    assert not sees_record(app, outsider, patient_id)
    assert client.get(record).status_code == 403
    # Expired: the page offers a new access instead of « déjà un accès ».
    html = client.get(url(world)).get_data(as_text=True)
    assert "déjà un accès exceptionnel" not in html and 'name="reason"' in html


def test_the_refused_record_offers_the_exceptional_access(app, world):
    client = client_for(app, world["outsider"])
    record = f"/patients/{world['patient'].id}"
    response = client.get(record)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "pas suivi par une équipe de soins" in html
    assert f'href="{url(world)}?next=/patients/{world["patient"].id}"' in html


def test_other_refusals_keep_the_plain_403_page(app, make, world):
    client = client_for(app, make.user(role="gp"))
    html = client.get("/patients").get_data(as_text=True)
    assert "Vous n&#39;avez pas les droits nécessaires" in html
    assert "acces-exceptionnel" not in html


@pytest.mark.parametrize("raw", ["0", "73", "abc", "-1", "١٢"])
def test_the_duration_setting_is_checked(tmp_path, raw):
    with pytest.raises(ConfigurationError, match="RCP_EXCEPTIONAL_ACCESS_HOURS"):
        build_config(str(tmp_path), {"RCP_EXCEPTIONAL_ACCESS_HOURS": raw})


@pytest.mark.parametrize(("raw", "hours"), [(None, 12), ("1", 1), ("72", 72)])
def test_the_duration_setting_defaults_to_12_hours(tmp_path, raw, hours):
    env = {} if raw is None else {"RCP_EXCEPTIONAL_ACCESS_HOURS": raw}
    assert build_config(str(tmp_path), env)["RCP_EXCEPTIONAL_ACCESS_HOURS"] == hours


# --- review ------------------------------------------------------------------------------------


REVIEW = "/acces-exceptionnels"


def opened(app, world) -> ExceptionalAccess:
    client_for(app, world["outsider"]).post(url(world), data={"reason": "emergency"})
    [access] = accesses(app)
    return access


@pytest.mark.parametrize(
    ("who", "listed"),
    [("coordinating", True), ("dpo", True), ("other_coordinating", False), ("outsider", False)],
)
def test_who_sees_the_access_on_the_review_page(app, world, who, listed):
    access = opened(app, world)
    html = client_for(app, world[who]).get(REVIEW).get_data(as_text=True)
    assert ("BRISDEGLACE" in html) is listed
    assert ("<td>Dr Dehors</td>" in html) is listed
    # The list (SQL) and the rule for one access (can) agree.
    with app.test_request_context():
        user = db.session.get(User, world[who].id)
        assert rules.can(user, "review", db.session.get(ExceptionalAccess, access.id)) is listed


def test_the_menu_shows_the_review_page_to_those_concerned(app, world):
    opened(app, world)
    link = f'href="{REVIEW}"'
    assert link in client_for(app, world["coordinating"]).get("/compte").get_data(as_text=True)
    assert link not in client_for(app, world["outsider"]).get("/compte").get_data(as_text=True)


def test_the_review_page_is_audited_naming_the_patients(app, world):
    opened(app, world)
    client_for(app, world["coordinating"]).get(REVIEW)
    with app.app_context():
        row = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "access.exceptional_list")
        )
    assert row.details_dict()["patients"] == [world["patient"].id]


def test_a_review_is_recorded_once(app, world):
    access = opened(app, world)
    client = client_for(app, world["coordinating"])
    response = client.post(f"{REVIEW}/{access.id}/revue", data={"comment": "Urgence réelle."})
    assert response.status_code == 302
    [access] = accesses(app)
    assert access.reviewed_by_id == world["coordinating"].id
    assert access.review_comment == "Urgence réelle."
    reviewed_at = access.reviewed_at
    assert reviewed_at is not None
    # Reviewed: out of « à revoir », in « revus ».
    assert "BRISDEGLACE" not in client.get(REVIEW).get_data(as_text=True)
    assert "Urgence réelle." in client.get(f"{REVIEW}?etat=revus").get_data(as_text=True)
    again = client_for(app, world["dpo"]).post(f"{REVIEW}/{access.id}/revue", data={})
    assert again.status_code == 409
    assert "déjà été revu" in again.get_data(as_text=True)
    [access] = accesses(app)
    assert (access.reviewed_at, access.reviewed_by_id) == (reviewed_at, world["coordinating"].id)
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "access.exceptional_review")
        ).all()
    assert [(r.patient_id, r.user_id) for r in rows] == [
        (world["patient"].id, world["coordinating"].id)
    ]


def test_a_physician_who_does_not_coordinate_the_rcp_cannot_review(app, world):
    access = opened(app, world)
    response = client_for(app, world["other_coordinating"]).post(f"{REVIEW}/{access.id}/revue")
    assert response.status_code == 403
    assert url(world) not in response.get_data(as_text=True)  # no exceptional access offered
    assert accesses(app)[0].reviewed_at is None


def test_a_refused_comment_writes_nothing(app, world):
    access = opened(app, world)
    client = client_for(app, world["dpo"])
    response = client.post(f"{REVIEW}/{access.id}/revue", data={"comment": "a\x07b"})
    assert response.status_code == 302
    assert accesses(app)[0].reviewed_at is None
    assert "caractère invisible" in client.get(REVIEW).get_data(as_text=True)
