"""FRCP body sections about the meeting's outcome: file status, care plan, framework, status."""

from __future__ import annotations

from .xml import (
    SIMPLE_OBSERVATION,
    Ids,
    ans_code,
    code_el,
    comment_act,
    el,
    french_date,
    hl7_time,
    loinc,
    narrative_table,
    reference,
    section,
    simple_observation,
    template_ids,
    yes_no,
)

PLAN_ENTRY = "2.16.840.1.113883.10.20.1.25"
DOCUMENT_STATUS_APPROVED = {
    "code": "9571008",
    "system": "2.16.840.1.113883.6.96",
    "label": "approuvé",
}


def file_status(body, snapshot: dict, ids: Ids) -> None:
    decision = snapshot["decision"]
    node = section(
        body,
        ids,
        ("1.2.250.1.213.1.1.2.33",),
        loinc("21874-3", "Statut du dossier présenté en RCP"),
        "STATUT DU DOSSIER",
    )
    narrative_table(
        node,
        [
            ("Dossier complet", yes_no(decision["file_complete"]), "dossier-complet"),
            ("Quorum", decision["quorum"]["label"] if decision.get("quorum") else "", "quorum"),
            ("Commentaire", decision.get("comments") or "", "commentaire-dossier"),
        ],
    )
    organizer = el(el(node, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
    template_ids(organizer, "1.2.250.1.213.1.1.3.7")
    code_el(organizer, "code", ans_code("GEN-099", "Information RCP"))
    el(organizer, "statusCode", code="completed")
    simple_observation(
        el(organizer, "component"),
        ids,
        ans_code("GEN-100", "Dossier complet"),
        "dossier-complet",
        bool(decision["file_complete"]),
    )
    simple_observation(
        el(organizer, "component"),
        ids,
        ans_code("ORG-125", "Quorum RCP"),
        "quorum",
        decision.get("quorum"),
    )
    if decision.get("comments"):
        comment_act(el(organizer, "component"), ids, "commentaire-dossier")


def _proposals(decision: dict) -> list[tuple[int, dict, str]]:
    """(priority, treatment, details): the proposal first, then the ranked alternatives."""
    ranked = [(1, decision["proposal"], decision.get("proposal_details") or "")]
    for alternative in sorted(decision.get("alternatives") or [], key=lambda a: a["rank"]):
        ranked.append(
            (alternative["rank"] + 1, alternative["treatment"], alternative.get("details") or "")
        )
    return [item for item in ranked if item[1]]


def care_plan(body, snapshot: dict, ids: Ids) -> None:
    decision = snapshot["decision"]
    node = section(
        body,
        ids,
        (
            "2.16.840.1.113883.10.20.1.10",
            "1.3.6.1.4.1.19376.1.5.3.1.3.36",
            "1.2.250.1.213.1.1.2.158",
        ),
        loinc("18776-5", "Plan de soins"),
        "PROPOSITION DE LA RCP",
    )
    rows = []
    for priority, treatment, details in _proposals(decision):
        label = "Proposition thérapeutique" if priority == 1 else f"Alternative {priority - 1}"
        rows.append((label, f"{treatment['label']}. {details}".strip(), f"traitement-{priority}"))
    if decision.get("active_surveillance"):
        rows.append(("Surveillance", "Surveillance seule", "surveillance"))
    if decision.get("exams_requested"):
        rows.append(("Examens complémentaires demandés", decision["exams_requested"], "examens"))
    if decision.get("recourse_referral"):
        rows.append(
            (
                "Passage en RCP de recours",
                decision.get("recourse_rcp") or "Oui",
                "rcp-recours-demande",
            )
        )
    if decision.get("deviation_reason"):
        rows.append(("Motif d'écart au référentiel", decision["deviation_reason"], None))
    narrative_table(node, rows or [("Proposition", "Aucune proposition", None)])
    validated = decision["validated_at"]
    if decision.get("recourse_referral"):
        _requested_encounter(
            node, ids, ans_code("ORG-120", "Passage en RCP recours"), "rcp-recours-demande"
        )
    if decision.get("exams_requested"):
        _requested_exams(node, ids, validated)
    if decision.get("active_surveillance"):
        _requested_encounter(node, ids, ans_code("MED-226", "Surveillance seule"), "surveillance")
    for priority, treatment, _details in _proposals(decision):
        _proposed_treatment(node, ids, priority, treatment, validated)


def _requested_encounter(node, ids: Ids, code: dict, anchor: str) -> None:
    encounter = el(el(node, "entry"), "encounter", classCode="ENC", moodCode="ARQ")
    template_ids(encounter, PLAN_ENTRY, "1.3.6.1.4.1.19376.1.5.3.1.4.14", "1.2.250.1.213.1.1.3.58")
    el(encounter, "id", root=ids(f"encounter:{anchor}"))
    code_el(encounter, "code", code)
    reference(encounter, "text", anchor)
    el(
        encounter,
        "priorityCode",
        code="CS",
        displayName="recontacter pour fixer RDV",
        codeSystem="2.16.840.1.113883.5.7",
    )


def _requested_exams(node, ids: Ids, validated: str) -> None:
    observation = el(el(node, "entry"), "observation", classCode="OBS", moodCode="PRP")
    template_ids(
        observation, PLAN_ENTRY, "1.3.6.1.4.1.19376.1.5.3.1.1.20.3.1", "1.2.250.1.213.1.1.3.27"
    )
    el(observation, "id", root=ids("exams"))
    code_el(observation, "code", ans_code("ORG-064", "Demande d'examen ou de suivi"))
    reference(observation, "text", "examens")
    el(observation, "statusCode", code="active")
    el(el(observation, "effectiveTime"), "low", value=hl7_time(validated[:10]))


def _proposed_treatment(node, ids: Ids, priority: int, treatment: dict, validated: str) -> None:
    procedure = el(
        el(node, "entry"), "procedure", classCode="PROC", moodCode="INT", negationInd="false"
    )
    template_ids(procedure, PLAN_ENTRY, "1.3.6.1.4.1.19376.1.5.3.1.4.19", "1.2.250.1.213.1.1.3.62")
    el(procedure, "id", root=ids(f"proposal:{priority}"))
    code = code_el(procedure, "code", treatment)
    reference(code, "originalText", f"traitement-{priority}")
    reference(procedure, "text", f"traitement-{priority}")
    el(procedure, "statusCode", code="active")
    el(el(procedure, "effectiveTime"), "low", value=hl7_time(validated[:10]))
    # The rank of the treatment among the proposals, as the FRCP examples carry it.
    el(el(procedure, "priorityCode"), "originalText", str(priority))


def proposal_framework(body, snapshot: dict, ids: Ids) -> None:
    decision = snapshot["decision"]
    guideline, trial = decision.get("guideline"), decision.get("trial")
    node = section(
        body,
        ids,
        ("1.2.250.1.213.1.1.2.175",),
        loinc("35510-7", "Essais cliniques - Informations générales"),
        "CADRE DE LA PROPOSITION THÉRAPEUTIQUE",
    )
    rows = []
    if guideline:
        rows.append(
            (
                "Référentiel de pratique clinique",
                f"{guideline['name']} (version {guideline.get('version') or '-'}, "
                f"{french_date(guideline.get('date'))})",
                "nom-referentiel",
            )
        )
    else:
        rows.append(("Référentiel de pratique clinique", "Aucun référentiel cité", None))
    trial_text = f"Oui : {trial['name']} ({trial.get('identifier') or ''})" if trial else "Non"
    rows.append(("Proposition d'inclusion dans un essai clinique", trial_text, "essai-clinique"))
    narrative_table(node, rows)
    if guideline:
        observation = el(el(node, "entry"), "observation", classCode="OBS", moodCode="EVN")
        template_ids(observation, *SIMPLE_OBSERVATION)
        el(observation, "id", root=ids("guideline"))
        code = code_el(
            observation,
            "code",
            ans_code("MED-249", "Recommandation/référentiel de pratique clinique"),
        )
        reference(el(code, "translation"), "originalText", "nom-referentiel")
        reference(observation, "text", "nom-referentiel")
        el(observation, "statusCode", code="completed")
        if guideline.get("date"):
            el(observation, "effectiveTime", value=hl7_time(guideline["date"]))
        else:
            el(observation, "effectiveTime", nullFlavor="UNK")
        reference(el(observation, "value", xsi_type="CD"), "originalText", "nom-referentiel")
    simple_observation(
        el(node, "entry"),
        ids,
        ans_code("MED-250", "Proposition d'inclusion dans un essai clinique"),
        "essai-clinique",
        trial is not None,
    )


def document_status(body, snapshot: dict, ids: Ids) -> None:
    validated = snapshot["decision"]["validated_at"]
    node = section(
        body,
        ids,
        ("1.2.250.1.213.1.1.2.35",),
        loinc("33557-0", "Etat d'achèvement"),
        "STATUT DU DOCUMENT",
    )
    document = snapshot["document"]
    rows = [
        ("Statut du document", DOCUMENT_STATUS_APPROVED["label"], "statut-doc"),
        ("Date du statut du document", french_date(validated), None),
        ("Version", str(document["version"]), None),
    ]
    if document["version"] > 1:
        rows.append(("Motif de la modification", document.get("amendment_reason") or "", None))
    narrative_table(node, rows)
    approved_status(node, ids, "statut-doc", validated[:10])


def approved_status(node, ids: Ids, anchor: str, when: str):
    """The FR-Statut-document entry of a status section: approved (signed) on ``when``."""
    observation = simple_observation(
        el(node, "entry"),
        ids,
        ans_code("GEN-065", "Statut du document"),
        anchor,
        DOCUMENT_STATUS_APPROVED,
        when=when,
    )
    templates = observation.findall("{urn:hl7-org:v3}templateId")
    templates[-1].addnext(
        observation.makeelement("{urn:hl7-org:v3}templateId", root="1.2.250.1.213.1.1.3.48.16")
    )
    return observation
