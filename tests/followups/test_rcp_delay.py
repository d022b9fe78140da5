"""Each RCP's follow-up delay, edited where the RCP is (the directory): 1 to 365 days."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from tests.test_directory import rcp_data

MESSAGE = "Le délai de suivi des propositions doit être compris entre 1 et 365 jours."


def _delay(app, rcp_id: int) -> int:
    with app.app_context():
        return db.session.get(Rcp, rcp_id).follow_up_days


def _edit(client, rcp, **overrides):
    data = rcp_data(rcp.establishment_id, version=str(_version(client.application, rcp.id)))
    data.update(overrides)
    return client.post(f"/annuaire/rcp/{rcp.id}/modifier", data=data)


def _version(app, rcp_id: int) -> int:
    with app.app_context():
        return db.session.get(Rcp, rcp_id).version


def test_the_form_shows_and_saves_the_delay(app, client, login, make):
    login("coordinator")
    rcp = make.rcp()
    form = unescape(client.get(f"/annuaire/rcp/{rcp.id}/modifier").get_data(as_text=True))
    assert "Délai de suivi des propositions (jours)" in form
    assert 'name="follow_up_days"' in form and 'value="30"' in form
    assert _edit(client, rcp, follow_up_days="45").status_code == 302
    assert _delay(app, rcp.id) == 45
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "rcp.update").order_by(AuditEntry.seq)
        ).all()[-1]
    assert row.details_dict()["follow_up_days"] == {"old": 30, "new": 45}
    page = unescape(client.get(f"/annuaire/rcp/{rcp.id}").get_data(as_text=True))
    assert "45 jours après la validation de la fiche" in page


@pytest.mark.parametrize("value", ["0", "366", "-3"])
def test_out_of_range_is_refused_in_french(app, client, login, make, value):
    login("admin")
    rcp = make.rcp()
    response = _edit(client, rcp, follow_up_days=value)
    assert response.status_code == 200
    assert MESSAGE in unescape(response.get_data(as_text=True))
    assert _delay(app, rcp.id) == 30


def test_not_a_number_is_refused(app, client, login, make):
    login("admin")
    rcp = make.rcp()
    response = _edit(client, rcp, follow_up_days="trente")
    assert response.status_code == 200
    assert "Délai de suivi des propositions" in unescape(response.get_data(as_text=True))
    assert _delay(app, rcp.id) == 30


def test_left_empty_or_absent_keeps_the_delay(app, client, login, make):
    login("admin")
    rcp = make.rcp(follow_up_days=60)
    assert _edit(client, rcp, follow_up_days="").status_code == 302
    assert _delay(app, rcp.id) == 60
    assert _edit(client, rcp).status_code == 302  # a form without the field
    assert _delay(app, rcp.id) == 60


def test_a_new_rcp_gets_the_delay_typed_or_30(app, client, login, make):
    establishment = make.establishment()
    login("admin")
    response = client.post(
        "/annuaire/rcp/nouvelle", data=rcp_data(establishment.id, follow_up_days="90")
    )
    assert response.status_code == 302
    response = client.post(
        "/annuaire/rcp/nouvelle",
        data=rcp_data(establishment.id, name="RCP digestive", national_id="RCP-DIG-9"),
    )
    assert response.status_code == 302
    with app.app_context():
        delays = dict(db.session.execute(select(Rcp.national_id, Rcp.follow_up_days)).all())
    assert delays["RCP-34-SEIN-01"] == 90 and delays["RCP-DIG-9"] == 30
