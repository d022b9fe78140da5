"""The fiche as a PDF/A-3b (WeasyPrint) with its CDA embedded as an associated file.

PDF/A-3b, not 2b: PDF/A-2 only allows PDF/A attachments, and WeasyPrint would drop the XML.
Rendering never fetches anything: the template has no external resource, the QR code is a data
URI and the URL fetcher refuses every other protocol.
"""

from __future__ import annotations

from datetime import date, datetime

import segno
from flask import current_app

from ..core.pdfrender import no_network_fetcher, write_pdf
from ..core.timeutil import PARIS
from ..patients.ins import INS_OIDS
from ..patients.models import IDENTITY_STATUSES, SEXES

PDF_VARIANT = "pdf/a-3b"
PROGRESSION_LABELS = {"local": "locale", "regional": "régionale", "distant": "à distance"}
CDA_NAME = "fiche-rcp-cda.xml"
CDA_DESCRIPTION = "Fiche RCP au format CDA R2 (CI-SIS volet FRCP 2022.01)"


def fr_date(value: str | None) -> str:
    return date.fromisoformat(value).strftime("%d/%m/%Y") if value else ""


def fr_instant(value: str | None) -> str:
    """'2026-11-26T18:42:00+01:00' -> '26/11/2026 à 18h42' (the offset is Paris already)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(PARIS)
    return f"{moment:%d/%m/%Y} à {moment:%H}h{moment:%M}"


def person_name(person: dict | None) -> str:
    if not person:
        return ""
    return f"{person['title']} {person['last_name'].upper()} {person['first_name']}".strip()


def person_with_specialty(person: dict | None) -> str:
    """'Dr MARTIN Claire (Oncologie médicale)': every physician the fiche names, the same way."""
    name = person_name(person)
    if name and person.get("specialty"):
        return f"{name} ({person['specialty']['label']})"
    return name


# Mode of discovery (snapshot case.discovery_screening), after « Découverte ».
DISCOVERY = {
    "yes": "lors d'un dépistage",
    "no": "hors dépistage",
    "unknown": "dans des circonstances inconnues",
}


def tnm(values: dict) -> str:
    return " ".join(v for v in (values.get("t"), values.get("n"), values.get("m")) if v)


def _used_identity(patient: dict) -> str | None:
    name = (patient.get("used_name") or "").upper()
    first = patient.get("used_first_name") or ""
    if (not name or name == patient["birth_name"].upper()) and (
        not first or first == patient["first_birth_first_name"]
    ):
        return None
    return f"{name or patient['birth_name'].upper()} {first or patient['first_birth_first_name']}"


def _flags(values: dict, labels: dict) -> str:
    return ", ".join(label for key, label in labels.items() if values.get(key))


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=1)


def fiche_html(snapshot: dict) -> str:
    patient = snapshot["patient"]
    case = snapshot["case"]
    # The app's Jinja environment without its context processors: no request, no user needed
    # (the demo loader, the CLI and batch validation render fiches too).
    template = current_app.jinja_env.get_template("fiches/fiche_pdf.html")
    return template.render(
        s=snapshot,
        fr_date=fr_date,
        fr_instant=fr_instant,
        person_name=person_name,
        person=person_with_specialty,
        discovery=DISCOVERY.get(case.get("discovery_screening") or ""),
        tnm=tnm,
        used_identity=_used_identity(patient),
        sex_label=SEXES.get(patient["sex"], patient["sex"]),
        identity_label=IDENTITY_STATUSES.get(patient["identity_status"], ""),
        ins_kind=INS_OIDS.get((patient.get("ins") or {}).get("oid", ""), "INS"),
        motives=_flags(
            case["motives"],
            {
                "diagnostic": "avis diagnostique",
                "treatment": "proposition thérapeutique",
                "recourse": "recours",
                "paediatric": "pédiatrie",
            },
        ),
        progression=_flags(
            case["progression"],
            {"local": "locale", "regional": "régionale", "distant": "à distance"},
        ),
        # A preview carries no verification means: nothing on it may pass for a signed fiche.
        qr=None
        if snapshot["document"].get("preview")
        else qr_data_uri(snapshot["document"]["verification_url"]),
    )


def render_pdf(snapshot: dict, cda: bytes | None) -> bytes:
    """The unsigned PDF/A-3b of a snapshot, embedding ``cda`` (relationship: Alternative)."""
    return render_html_pdf(fiche_html(snapshot), cda)


def render_html_pdf(
    html: str,
    cda: bytes | None,
    *,
    cda_name: str = CDA_NAME,
    cda_description: str = CDA_DESCRIPTION,
) -> bytes:
    """Any document of ours as PDF/A-3b; the PPS (pps/pdf.py) names its own CDA file."""
    from weasyprint import Attachment

    attachments = []
    if cda is not None:
        attachments.append(
            Attachment(
                string=cda,
                name=cda_name,
                description=cda_description,
                relationship="Alternative",
                url_fetcher=no_network_fetcher(),
            )
        )
    return write_pdf(html, pdf_variant=PDF_VARIANT, attachments=attachments, uncompressed_pdf=False)
