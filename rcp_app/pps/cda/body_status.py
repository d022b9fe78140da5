"""« STATUT DU DOCUMENT »: approved on validation, with the comments; for a new version the
update motive (JDV_MotifMiseAJour) and its precision; the date of the RCP."""

from __future__ import annotations

from ...fiches.cda.body_decision import DOCUMENT_STATUS_APPROVED, approved_status
from ...fiches.cda.xml import (
    SIMPLE_OBSERVATION,
    Ids,
    ans_code,
    code_el,
    comment_act,
    el,
    french_date,
    hl7_time,
    label_of,
    loinc,
    narrative_table,
    reference,
    section,
    simple_observation,
    template_ids,
)

UPDATE_MOTIVE = ans_code("GEN-037", "Motif de mise à jour")
RCP_DATE = ans_code("ORG-189", "Date de la RCP")


def document_status(body, snapshot: dict, ids: Ids) -> None:
    document = snapshot["document"]
    validated = document["effective_time"][:10]
    session_date = (snapshot.get("fiche") or {}).get("session_date")
    comments = snapshot.get("comments") or ""
    motive = document.get("update_motive") if document["version"] > 1 else None
    reason = document.get("amendment_reason") or ""
    node = section(
        body,
        ids,
        ("1.2.250.1.213.1.1.2.35",),
        loinc("33557-0", "Etat d'achèvement"),
        "STATUT DU DOCUMENT",
    )
    rows = [
        ("Statut du document", DOCUMENT_STATUS_APPROVED["label"].capitalize(), "statut-doc"),
        ("Date de validation", french_date(validated), None),
        ("Version", str(document["version"]), None),
    ]
    if document["version"] > 1:
        rows.append(("Motif de mise à jour", label_of(motive), "motif-maj"))
        rows.append(("Précision sur le motif de mise à jour", reason, "motif-maj-precision"))
    if session_date:
        rows.append(("Date de la RCP", french_date(session_date), "date-rcp"))
    if comments:
        rows.append(("Commentaire", comments, "commentaire-document"))
    narrative_table(node, rows)
    status = approved_status(node, ids, "statut-doc", validated)
    if comments:
        _comment(status, ids, "commentaire-document")
    if motive:
        observation = simple_observation(
            el(node, "entry"), ids, UPDATE_MOTIVE, "motif-maj", motive, when=validated
        )
        if reason:
            _comment(observation, ids, "motif-maj-precision")
    if session_date:
        _rcp_date(node, ids, session_date)


def _comment(observation, ids: Ids, anchor: str) -> None:
    comment_act(
        el(observation, "entryRelationship", typeCode="SUBJ", inversionInd="true"), ids, anchor
    )


def _rcp_date(node, ids: Ids, day: str) -> None:
    """The RCP whose decision the programme implements: a date-valued simple observation."""
    observation = el(el(node, "entry"), "observation", classCode="OBS", moodCode="EVN")
    template_ids(observation, *SIMPLE_OBSERVATION)
    el(observation, "id", root=ids("obs:date-rcp"))
    code_el(observation, "code", RCP_DATE)
    reference(observation, "text", "date-rcp")
    el(observation, "statusCode", code="completed")
    el(observation, "effectiveTime", value=hl7_time(day))
    el(observation, "value", xsi_type="TS", value=hl7_time(day))
