"""The GP finds the validated care programme next to the fiche in « Fiches RCP de mes
patients », and downloads it; another GP cannot, and a draft is not offered."""

from __future__ import annotations

from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.pps.models import CarePlan
from tests.pps.support import open_and_fill, plan_world, validated_plan
from tests.support.factories import PASSWORD


def _gp_client(app, make, professional_id):
    user = make.user(role="gp", professional_id=professional_id)
    client = app.test_client()
    client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    return client


def _gp_of(app, world) -> int:
    with app.app_context():
        return db.session.get(CarePlan, _plan(app, world)).case.gp_id


def _plan(app, world) -> int:
    with app.app_context():
        return db.session.scalar(select(CarePlan.id).where(CarePlan.fiche_id == world.fiche_id))


def test_the_gp_downloads_the_validated_programme(app, make):
    world = plan_world(app, make)
    plan_id = validated_plan(app, world)
    client = _gp_client(app, make, _gp_of(app, world))
    inbox = client.get("/boite").get_data(as_text=True)
    assert f"/boite/pps/{plan_id}.pdf" in inbox
    assert "Programme personnalisé de soins (version 1)" in inbox
    response = client.get(f"/boite/pps/{plan_id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    with app.app_context():
        assert db.session.scalar(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "care_plan", AuditEntry.action == "pps.download"
            )
        )
    other = _gp_client(app, make, make.professional(specialty_code="G15_10/SM26").id)
    assert other.get(f"/boite/pps/{plan_id}.pdf").status_code == 404
    assert f"/boite/pps/{plan_id}.pdf" not in other.get("/boite").get_data(as_text=True)


def test_a_draft_is_not_offered(app, make):
    world = plan_world(app, make)
    open_and_fill(app, world)
    plan_id = _plan(app, world)
    own = _gp_client(app, make, _gp_of(app, world))
    assert f"/boite/pps/{plan_id}.pdf" not in own.get("/boite").get_data(as_text=True)
    assert own.get(f"/boite/pps/{plan_id}.pdf").status_code == 404  # not validated yet
