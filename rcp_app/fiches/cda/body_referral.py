"""FRCP body sections on the referral: RCP type, motives, case status, discovery."""

from __future__ import annotations

from .xml import (
    Ids,
    ans_code,
    code_el,
    effective,
    el,
    label_of,
    loinc,
    narrative_table,
    reference,
    section,
    simple_observation,
    template_ids,
    yes_no,
)

SNOMED = "2.16.840.1.113883.6.96"


def reason_for_referral(body, snapshot: dict, ids: Ids) -> None:
    rcp, case, decision = snapshot["rcp"], snapshot["case"], snapshot["decision"]
    motives = case["motives"]
    node = section(
        body,
        ids,
        (
            "1.3.6.1.4.1.19376.1.5.3.1.3.1",
            "1.3.6.1.4.1.19376.1.5.3.1.3.2",
            "1.2.250.1.213.1.1.2.128",
        ),
        loinc("42349-1", "Raison de la recommandation"),
        "TYPE DE RCP / MOTIF DE LA RCP",
    )
    transversal = rcp.get("theme") is not None
    rows = [("Nature de la discussion", label_of(rcp["nature"]), "nature-discussion")]
    if transversal:
        rows.append(("Traitement / soins", label_of(rcp["theme"]), "traitement-soins"))
    else:
        rows += [
            ("Appareil", label_of(rcp["appareil"]), "appareil"),
            ("Organe", label_of(case["organ"]), "organe"),
        ]
    rows += [
        ("RCP de recours", yes_no(rcp["is_recourse"]), "rcp-recours"),
        ("RCP pédiatrique", yes_no(rcp["is_paediatric"]), "rcp-pediatrique"),
    ]
    narrative_table(node, rows, heading="Type de RCP")
    narrative_table(
        node,
        [
            ("Avis diagnostique", yes_no(motives["diagnostic"]), "avis-diagnostique"),
            (
                "Proposition thérapeutique (dont surveillance, ajustement du traitement)",
                yes_no(motives["treatment"]),
                "proposition-therapeutique",
            ),
            ("Recours", yes_no(motives["recourse"]), "recours"),
            ("Pédiatrique", yes_no(motives["paediatric"]), "pediatrique"),
            ("Statut du cas présenté", label_of(decision["case_status"]), "statut-cas-presente"),
            ("Question posée", case.get("question") or "", "raison"),
        ],
        heading="Motif de la RCP",
    )

    nature = simple_observation(
        el(node, "entry"),
        ids,
        ans_code("GEN-098", "Nature de la discussion"),
        "nature-discussion",
        rcp["nature"],
        when=None,
    )
    nature.find("{urn:hl7-org:v3}effectiveTime").set("nullFlavor", "NAV")
    kind_holder = el(nature, "entryRelationship", typeCode="SUBJ")
    if transversal:
        kind = simple_observation(
            kind_holder,
            ids,
            ans_code("ORG-138", "Traitement / Soins"),
            "traitement-soins",
            rcp["theme"],
        )
    else:
        kind = simple_observation(
            kind_holder, ids, ans_code("ORG-118", "Appareil concerné"), "appareil", rcp["appareil"]
        )
        simple_observation(
            el(kind, "entryRelationship", typeCode="REFR"),
            ids,
            ans_code("ORG-119", "Organe"),
            "organe",
            case["organ"],
        )
    simple_observation(
        el(kind, "entryRelationship", typeCode="REFR"),
        ids,
        ans_code("ORG-184", "RCP de recours"),
        "rcp-recours",
        bool(rcp["is_recourse"]),
    )
    simple_observation(
        el(kind, "entryRelationship", typeCode="REFR"),
        ids,
        ans_code("ORG-185", "RCP pédiatrique"),
        "rcp-pediatrique",
        bool(rcp["is_paediatric"]),
    )

    motive = simple_observation(
        el(nature, "entryRelationship", typeCode="SUBJ"),
        ids,
        ans_code("ORG-186", "Motif de la RCP"),
        "raison",
        None,
    )
    for code, label, anchor, value in (
        ("MED-235", "Avis diagnostique", "avis-diagnostique", motives["diagnostic"]),
        (
            "ORG-114",
            "Proposition de traitement (dont ajustement et surveillance)",
            "proposition-therapeutique",
            motives["treatment"],
        ),
        ("ORG-115", "Recours", "recours", motives["recourse"]),
        ("ORG-116", "Pédiatrie", "pediatrique", motives["paediatric"]),
    ):
        simple_observation(
            el(motive, "entryRelationship", typeCode="REFR"),
            ids,
            ans_code(code, label),
            anchor,
            bool(value),
        )
    simple_observation(
        el(motive, "entryRelationship", typeCode="REFR"),
        ids,
        ans_code("ORG-127", "Statut du cas présenté"),
        "statut-cas-presente",
        decision["case_status"],
    )
    _problem_entry(node, ids, snapshot)


def _problem_entry(node, ids: Ids, snapshot: dict) -> None:
    observation = el(
        el(node, "entry"), "observation", classCode="OBS", moodCode="EVN", negationInd="false"
    )
    template_ids(
        observation,
        "2.16.840.1.113883.10.20.1.28",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5",
        "1.2.250.1.213.1.1.3.37",
    )
    el(observation, "id", root=ids("problem:reason"))
    code_el(observation, "code", {"code": "55607006", "system": SNOMED, "label": "problème"})
    reference(observation, "text", "raison")
    el(observation, "statusCode", code="completed")
    effective(observation, snapshot["session"]["starts_at"][:10], low=True)
    value = el(observation, "value", xsi_type="CD", nullFlavor="NA")
    reference(value, "originalText", "raison")


def discovery_events(body, snapshot: dict, ids: Ids) -> None:
    screening = snapshot["case"].get("discovery_screening")
    node = section(
        body,
        ids,
        (
            "1.3.6.1.4.1.19376.1.5.3.1.1.21.2.9",
            "1.3.6.1.4.1.19376.1.7.3.1.1.13.7",
            "1.2.250.1.213.1.1.2.163",
        ),
        loinc("42545-4", "Evènements observés"),
        "MODE DE DÉCOUVERTE DU CANCER",
    )
    shown = {"yes": "Oui", "no": "Non"}.get(screening, "Inconnu")
    narrative_table(
        node,
        [("Patient issu du dépistage", shown, "depistage")],
        heading="Mode de découverte du cancer",
    )
    observation = simple_observation(
        el(node, "entry"),
        ids,
        loinc("63921-1", "Dépistage du cancer"),
        "depistage",
        screening == "yes",
    )
    if screening not in ("yes", "no"):
        value = observation.find("{urn:hl7-org:v3}value")
        del value.attrib["value"]
        value.set("nullFlavor", "UNK")
