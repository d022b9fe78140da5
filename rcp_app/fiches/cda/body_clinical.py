"""Optional FRCP clinical sections, present only when the fiche has the data.

Medical history, comorbidities, functional status (WHO performance status, G8 screening), exam
results and the surgery / pathology / molecular report conclusions.
"""

from __future__ import annotations

from .xml import (
    SIMPLE_OBSERVATION,
    Ids,
    code_el,
    el,
    french_date,
    hl7_time,
    label_of,
    loinc,
    narrative_table,
    reference,
    section,
    template_ids,
)

REPORTS = (
    # snapshot key, section template, section code, title, anchor
    (
        "surgery",
        "1.2.250.1.213.1.1.2.26",
        ("10218-6", "Note postopératoire"),
        "COMPTE RENDU OPÉRATOIRE (CRO)",
        "conclusion-cro",
    ),
    (
        "pathology",
        "1.2.250.1.213.1.1.2.34",
        ("30954-2", "Résultats d'examens"),
        "COMPTE RENDU ANATOMOCYTOPATHOLOGIQUE (CR-ACP)",
        "conclusion-acp",
    ),
    (
        "molecular",
        "1.2.250.1.213.1.1.2.67",
        ("50397-9", "Génétique moléculaire - Interprétation"),
        "COMPTE RENDU D'ANALYSE MOLÉCULAIRE (CR-GM)",
        "conclusion-gm",
    ),
)


def _text_section(body, ids: Ids, templates, code: dict, title: str, text: str) -> None:
    node = section(body, ids, templates, code, title)
    narrative_table(node, [(title.capitalize(), text, None)])


def medical_history(body, snapshot: dict, ids: Ids) -> None:
    history = snapshot["case"].get("medical_history")
    if history:
        _text_section(
            body,
            ids,
            ("1.2.250.1.213.1.1.2.2",),
            loinc("11348-0", "Antécédents médicaux"),
            "ANTÉCÉDENTS",
            history,
        )


def active_problems(body, snapshot: dict, ids: Ids) -> None:
    comorbidities = snapshot["case"].get("comorbidities")
    if comorbidities:
        _text_section(
            body,
            ids,
            ("1.2.250.1.213.1.1.2.176",),
            loinc("11450-4", "Liste des problèmes actifs"),
            "COMORBIDITÉS",
            comorbidities,
        )


def exam_results(body, snapshot: dict, ids: Ids) -> None:
    results = snapshot["case"].get("exam_results")
    if results:
        _text_section(
            body,
            ids,
            ("1.3.6.1.4.1.19376.1.5.3.1.3.27", "1.2.250.1.213.1.1.2.150"),
            loinc("30954-2", "Résultats d'examens"),
            "RÉSULTATS D'EXAMENS",
            results,
        )


def functional_status(body, snapshot: dict, ids: Ids) -> None:
    case = snapshot["case"]
    performance, g8 = case.get("performance_status"), case.get("g8_score")
    if not performance and g8 is None:
        return
    node = section(
        body,
        ids,
        (
            "2.16.840.1.113883.10.20.1.5",
            "1.3.6.1.4.1.19376.1.5.3.1.3.17",
            "1.3.6.1.4.1.19376.1.5.3.1.1.12.2.1",
            "1.2.250.1.213.1.1.2.111",
        ),
        loinc("47420-5", "Évaluation du statut fonctionnel"),
        "ÉVALUATION DU STATUT FONCTIONNEL",
    )
    rows = [
        (
            "Échelle de performance OMS",
            label_of((performance or {}).get("coded")),
            "performance-oms",
        )
    ]
    if g8 is not None:
        rows.append(("Dépistage de la fragilité gériatrique (score G8)", str(g8), "score-g8"))
    rows.append(("Sévérité de la douleur", "Non évaluée", "severite-douleur"))
    narrative_table(node, rows)
    when = snapshot["session"]["starts_at"][:10]
    _pain_subsection(node, ids)
    if performance:
        _performance_subsection(node, ids, performance, when)
    if g8 is not None:
        _g8_subsection(node, ids, g8, when)


def _subsection(node, ids: Ids, templates, code: dict) -> object:
    sub = el(el(node, "component"), "section")
    template_ids(sub, *templates)
    el(sub, "id", root=ids(f"section:{templates[-1]}"))
    code_el(sub, "code", code)
    el(sub, "text")
    return sub


def _observation(sub, ids: Ids, templates, code: dict, anchor: str, when: str | None):
    observation = el(el(sub, "entry"), "observation", classCode="OBS", moodCode="EVN")
    template_ids(observation, *templates)
    el(observation, "id", root=ids(f"obs:{anchor}"))
    code_el(observation, "code", code)
    reference(observation, "text", anchor)
    el(observation, "statusCode", code="completed")
    if when:
        el(observation, "effectiveTime", value=hl7_time(when))
    else:
        el(observation, "effectiveTime", nullFlavor="UNK")
    return observation


def _pain_subsection(node, ids: Ids) -> None:
    """The pain scale sub-section is mandatory in this section; the RCP does not assess pain."""
    pain = loinc("38208-5", "Sévérité de la douleur")
    sub = _subsection(
        node, ids, ("1.3.6.1.4.1.19376.1.5.3.1.1.12.2.2", "1.2.250.1.213.1.1.2.112"), pain
    )
    observation = _observation(
        sub,
        ids,
        (
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "1.3.6.1.4.1.19376.1.5.3.1.1.12.3.1",
            "1.2.250.1.213.1.1.3.89",
        ),
        pain,
        "severite-douleur",
        None,
    )
    el(observation, "value", xsi_type="CO", nullFlavor="UNK")


def _performance_subsection(node, ids: Ids, performance: dict, when: str) -> None:
    sub = _subsection(
        node,
        ids,
        ("1.3.6.1.4.1.19376.1.5.3.1.1.12.2.5", "1.2.250.1.213.1.1.2.115"),
        loinc("46006-3", "Problèmes physiques fonctionnels et structurels"),
    )
    observation = _observation(
        sub,
        ids,
        (
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "2.16.840.1.113883.10.20.1.31",
            "1.3.6.1.4.1.19376.1.5.3.1.1.12.3.6",
            "1.2.250.1.213.1.1.3.25",
        ),
        {
            "code": "MED-239",
            "system": "1.2.250.1.213.1.1.4.322",
            "label": "Echelle de performance OMS",
        },
        "performance-oms",
        when,
    )
    code_el(observation, "value", performance.get("coded"), xsi_type="CD", null="UNK")


def _g8_subsection(node, ids: Ids, g8: int, when: str) -> None:
    sub = _subsection(
        node,
        ids,
        ("1.3.6.1.4.1.19376.1.5.3.1.1.12.2.4", "1.2.250.1.213.1.1.2.114"),
        loinc("48542-5", "Évaluation de la dépression gériatrique"),
    )
    observation = _observation(
        sub,
        ids,
        (
            "2.16.840.1.113883.10.20.1.31",
            "1.3.6.1.4.1.19376.1.5.3.1.4.13",
            "1.3.6.1.4.1.19376.1.5.3.1.1.12.3.4",
            "1.2.250.1.213.1.1.3.110",
        ),
        loinc("48544-1", "Score de la dépression gériatrique"),
        "score-g8",
        when,
    )
    el(observation, "value", xsi_type="INT", value=str(int(g8)))


def report_conclusions(body, snapshot: dict, ids: Ids) -> None:
    """One conclusion section per report given (surgery, pathology, molecular biology)."""
    for key, template, (code, label), title, anchor in REPORTS:
        report = snapshot["case"].get(key)
        if not report:
            continue
        node = section(body, ids, (template,), loinc(code, label), title)
        signed = (
            f"{report.get('author') or 'Auteur non renseigné'}, {french_date(report.get('date'))}"
        )
        narrative_table(
            node,
            [("Conclusion", report.get("text") or "", anchor), ("Auteur et date", signed, None)],
        )
        observation = el(el(node, "entry"), "observation", classCode="OBS", moodCode="EVN")
        template_ids(observation, *SIMPLE_OBSERVATION)
        el(observation, "id", root=ids(f"obs:{anchor}"))
        code_el(
            observation,
            "code",
            loinc(
                code if key == "surgery" else "22637-3",
                label if key == "surgery" else "Conclusion - Diagnostic",
            ),
        )
        reference(observation, "text", anchor)
        el(observation, "statusCode", code="completed")
        if report.get("date"):
            el(el(observation, "effectiveTime"), "low", value=hl7_time(report["date"]))
        else:
            el(observation, "effectiveTime", nullFlavor="UNK")
        reference(el(observation, "value", xsi_type="CD"), "originalText", anchor)
