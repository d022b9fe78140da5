"""FRCP body sections on the case history: synthesis, phase, past treatments."""

from __future__ import annotations

from .xml import (
    Ids,
    ans_code,
    code_el,
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
    yes_no,
)


def history_of_present_illness(body, snapshot: dict, ids: Ids) -> None:
    case = snapshot["case"]
    node = section(
        body,
        ids,
        ("1.3.6.1.4.1.19376.1.5.3.1.3.4", "1.2.250.1.213.1.1.2.130"),
        loinc("10164-2", "Histoire de la maladie"),
        "SYNTHÈSE DU CAS PRÉSENTÉ ET QUESTION POSÉE À LA RCP",
    )
    rows = [
        ("Synthèse du cas", case.get("synthesis") or "", None),
        ("Question posée à la RCP", case.get("question") or "", None),
    ]
    narrative_table(node, rows)


def progress_note(body, snapshot: dict, ids: Ids) -> None:
    case = snapshot["case"]
    node = section(
        body,
        ids,
        ("1.3.6.1.4.1.19376.1.5.3.1.1.13.2.7", "1.2.250.1.213.1.1.2.25"),
        loinc("18733-6", "Note de progression"),
        "PHASE CLINIQUE DE LA MALADIE",
    )
    progression = case.get("progression") or {}
    rows = [("Phase du cancer", label_of(case.get("phase")), "phase")]
    if case.get("relapse_date"):
        rows.append(("Date de la rechute", french_date(case["relapse_date"]), None))
    rows += [
        ("Progression locale", yes_no(progression.get("local")), "progression-locale"),
        ("Progression régionale", yes_no(progression.get("regional")), "progression-regionale"),
        ("Progression à distance", yes_no(progression.get("distant")), "progression-distance"),
    ]
    narrative_table(node, rows)
    # The phase date is the relapse date for a relapse; unknown (NA) for an initial phase.
    simple_observation(
        el(node, "entry"),
        ids,
        ans_code("MED-243", "Phase du cancer"),
        "phase",
        case.get("phase"),
        when=case.get("relapse_date"),
    )
    any_progression = any(progression.get(axis) for axis in ("local", "regional", "distant"))
    overall = simple_observation(
        el(node, "entry"),
        ids,
        ans_code("MED-245", "Progression du cancer"),
        "progression-locale",
        bool(any_progression),
    )
    for axis, code, label in (
        ("local", "MED-246", "Progression locale du cancer"),
        ("regional", "MED-247", "Progression régionale du cancer"),
        ("distant", "MED-248", "Progression à distance du cancer"),
    ):
        simple_observation(
            el(overall, "entryRelationship", typeCode="COMP"),
            ids,
            ans_code(code, label),
            f"progression-{_anchor_axis(axis)}",
            bool(progression.get(axis)),
        )


def _anchor_axis(axis: str) -> str:
    return {"local": "locale", "regional": "regionale", "distant": "distance"}[axis]


def past_treatments(body, snapshot: dict, ids: Ids) -> None:
    treatments = snapshot["case"].get("treatments") or []
    if not treatments:
        return
    node = section(
        body,
        ids,
        ("1.3.6.1.4.1.19376.1.5.3.1.1.13.2.11", "1.2.250.1.213.1.1.2.118"),
        loinc("29554-3", "Actes"),
        "TRAITEMENTS THÉRAPEUTIQUES PASSÉS OU EN COURS (réalisés ou non)",
    )
    rows = []
    for index, treatment in enumerate(treatments, start=1):
        detail = (
            f"{treatment.get('status_label') or ''} – date : {french_date(treatment.get('date'))}"
        )
        if treatment.get("comment"):
            detail += f" – {treatment['comment']}"
        rows.append((label_of(treatment["type"]), detail, f"traitement-passe-{index}"))
    narrative_table(node, rows, heading="Traitements")
    for index, treatment in enumerate(treatments, start=1):
        # A treatment that was not given is stated as a negated act, as CDA means it.
        not_done = treatment.get("status") == "not_done"
        procedure = el(
            el(node, "entry"),
            "procedure",
            classCode="PROC",
            moodCode="EVN",
            negationInd="true" if not_done else "false",
        )
        template_ids(
            procedure,
            "1.3.6.1.4.1.19376.1.5.3.1.4.19",
            "2.16.840.1.113883.10.20.1.29",
            "1.2.250.1.213.1.1.3.62",
        )
        el(procedure, "id", root=ids(f"past-treatment:{index}"))
        code_el(procedure, "code", treatment["type"])
        reference(procedure, "text", f"traitement-passe-{index}")
        ongoing = treatment.get("status") not in ("done", "not_done")
        el(procedure, "statusCode", code="active" if ongoing else "completed")
        if treatment.get("date"):
            el(el(procedure, "effectiveTime"), "low", value=hl7_time(treatment["date"]))
        else:
            el(procedure, "effectiveTime", nullFlavor="UNK")
