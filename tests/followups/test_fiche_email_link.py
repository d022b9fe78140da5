"""The signed fiche's e-mail asks the referring physician — and only them — what became of
the proposal, with the link to its follow-up."""

from __future__ import annotations

from sqlalchemy import select

from rcp_app.delivery.models import Transmission
from rcp_app.delivery.notices import build_for
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from tests.delivery.support import signed_fiche

PARAGRAPH = (
    "Après la réunion, indiquez ce qui a été fait pour ce patient (traitement commencé, "
    "modifié ou non commencé) : "
)


def _bodies(app) -> dict[str, str]:
    with app.app_context():
        ids = db.session.scalars(
            select(Transmission.id).where(Transmission.kind == "fiche").order_by(Transmission.id)
        ).all()
        bodies = {}
        for transmission_id in ids:
            transmission = db.session.get(Transmission, transmission_id)
            role = transmission.recipient_role
            message = build_for(transmission)
            bodies[role] = message.get_body(("plain",)).get_content()
        return bodies


def test_only_the_requesters_copy_carries_the_follow_up_link(app, make):
    world = signed_fiche(app, make)
    app.config["RCP_PUBLIC_URL"], public = "https://rcp.chu-test.fr", app.config["RCP_PUBLIC_URL"]
    try:
        bodies = _bodies(app)
    finally:
        app.config["RCP_PUBLIC_URL"] = public
    with app.app_context():
        fiche_id = db.session.scalar(select(Fiche.id).where(Fiche.case_id == world.case_id))
    assert set(bodies) == {"dcc", "requester", "gp", "correspondent"}
    link = f"https://rcp.chu-test.fr/suivis/fiche/{fiche_id}"
    assert PARAGRAPH + link in bodies["requester"].replace("\r\n", "\n").replace("\n", " ")
    for role in ("dcc", "gp", "correspondent"):
        assert "/suivis/" not in bodies[role] and "Après la réunion" not in bodies[role], role
    # The rest of the message is the same for everyone.
    assert "code de vérification" in bodies["requester"]
