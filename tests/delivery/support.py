"""A signed fiche with its recipients (DCC, requester, GP, a correspondent)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.cases.models import Case
from rcp_app.delivery.models import Transmission
from rcp_app.directory.models import Professional
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import build_world

DCC = "dcc@rcp-idf.mssante.fr"
GP_SPECIALTY = "G15_10/SM26"


def signed_fiche(app, make, *, dcc: str | None = DCC, gp_address="luc.bernard@medecin.mssante.fr"):
    gp = make.professional(
        last_name="Bernard",
        first_name="Luc",
        specialty_code=GP_SPECIALTY,
        mssante_address=gp_address,
    )
    correspondent = make.professional(last_name="Roche", first_name="Anne")
    world = build_world(app, make, rcp_fields={"dcc_address": dcc}, gp_id=gp.id, gp_unknown=False)
    with app.app_context():
        case = db.session.get(Case, world.case_id)
        case.correspondents.append(db.session.get(Professional, correspondent.id))
        db.session.commit()
        item = db.session.get(AgendaItem, world.item_id)
        fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
    world.gp_id = gp.id
    world.correspondent_id = correspondent.id
    return world


def transmissions(app) -> list[Transmission]:
    with app.app_context():
        rows = list(db.session.scalars(select(Transmission).order_by(Transmission.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def by_role(app) -> dict[str, Transmission]:
    return {t.recipient_role: t for t in transmissions(app)}


def worker_env(url: str, server, folder: Path) -> dict[str, str]:
    """The environment of a real ``flask rcp deliver`` process: its own database, the test
    SMTP server, the test PKI and audit key, and folders under ``folder``."""
    from tests.conftest import PKI_SETTINGS

    return {
        **os.environ,
        "RCP_DATABASE_URL": url,
        "RCP_SECRET_KEY": "test",
        "RCP_AUDIT_KEY": "test-audit-key-not-for-production",
        "RCP_AUDIT_CHECKPOINT_DIR": str(folder / "ancrage"),
        "RCP_SMTP_HOST": server.host,
        "RCP_SMTP_PORT": str(server.port),
        "RCP_SEAL_P12": PKI_SETTINGS["RCP_SEAL_P12"],
        "RCP_SEAL_PASSPHRASE_FILE": PKI_SETTINGS["RCP_SEAL_PASSPHRASE_FILE"],
        "RCP_TRUST_ROOTS": PKI_SETTINGS["RCP_TRUST_ROOTS"][0],
        "RCP_MDN_DIR": str(folder / "mdn"),
    }
