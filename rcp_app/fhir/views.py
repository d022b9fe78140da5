"""The FHIR Bundle of a signed fiche version, downloaded from the fiche's page.

Built on request from the version's frozen snapshot and its signed PDF (bundle.py), like the
API's /api/v1/fiches/{id}/versions/{n}/fhir: the same rule as the PDF and the CDA (the care
team), the same audit row (``fiche.download``, kind « fhir »).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app
from sqlalchemy.orm import selectinload

from ..access.guards import allowed, require
from ..core.patient_data import shows_patient_data
from ..core.transactions import commit_phase, release
from ..extensions import db
from ..fiches import operations as fiche_ops
from ..fiches.models import Fiche
from .bundle import bundle_json

bp = Blueprint("fhir", __name__)

MEDIA_TYPE = "application/fhir+json"
FILE_NAME = "fiche-rcp-{set_id}-v{version}.fhir.json"


@bp.route("/fiches/<int:fiche_id>/v<int:version>.fhir.json")
@shows_patient_data
@allowed("clinical")
def download(fiche_id: int, version: int):
    fiche = db.get_or_404(Fiche, fiche_id, options=[selectinload(Fiche.versions)])
    require("view", fiche)
    row = next((v for v in fiche.versions if v.version == version), None)
    if row is None:
        abort(404)
    pdf, frozen = fiche_ops.load_document(row, "pdf").content, row.snapshot_dict()
    fiche_ops.record_download(row, "fhir")
    commit_phase()  # the audit row; building the Bundle is CPU work, nothing held meanwhile
    release()
    body = bundle_json(frozen, pdf, base_url=current_app.config["RCP_PUBLIC_URL"])
    name = FILE_NAME.format(set_id=fiche.set_id, version=row.version)
    return Response(
        body, mimetype=MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
