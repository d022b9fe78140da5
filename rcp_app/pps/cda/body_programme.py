"""« PROGRAMME THÉRAPEUTIQUE ET DE SUIVI »: the treatments planned, in order, and the next
follow-up appointments."""

from __future__ import annotations

from datetime import date, datetime, time

from ...core.timeutil import PARIS
from ...fiches.cda.xml import Ids, ans_code, french_date, label_of
from .entries import FOLLOW_UP, TREATMENT, comment_anchor, date_anchor, planned_act
from .sections import capitalized, care_plan_section, grid, paragraph, sentences

PROGRAMME = ans_code("MED-566", "Programme thérapeutique et de suivi")


def therapeutic_programme(body, snapshot: dict, ids: Ids) -> None:
    node = care_plan_section(body, ids, PROGRAMME, "PROGRAMME THÉRAPEUTIQUE ET DE SUIVI")
    treatments = snapshot.get("treatments") or []
    appointments = snapshot.get("appointments") or []
    if treatments:
        grid(
            node,
            "Traitements prévus",
            (
                "Traitement",
                "Date de début prévisionnelle",
                "Précisions, lieu et intervenants",
                "Origine",
            ),
            [_treatment_row(f"traitement-{i}", t) for i, t in enumerate(treatments, start=1)],
        )
    else:
        paragraph(node, "Aucun traitement prévu.")
    if appointments:
        grid(
            node,
            "Prochains rendez-vous de suivi",
            ("Date", "Type de suivi", "Objet et lieu"),
            [_appointment_row(f"suivi-{i}", a) for i, a in enumerate(appointments, start=1)],
        )
    else:
        paragraph(node, "Aucun rendez-vous de suivi programmé.")
    for index, treatment in enumerate(treatments, start=1):
        planned_act(
            node,
            ids,
            TREATMENT,
            treatment["kind"],
            f"traitement-{index}",
            planned=treatment.get("planned_start"),
            comment=bool(_treatment_details(treatment)),
        )
    for index, appointment in enumerate(appointments, start=1):
        planned_act(
            node,
            ids,
            FOLLOW_UP,
            appointment["kind"],
            f"suivi-{index}",
            planned=appointment_instant(appointment),
            comment=bool(_appointment_details(appointment)),
        )


def source_label(source: str | None) -> str:
    """Where the treatment comes from: the RCP's proposal, one of its alternatives, or added."""
    if source == "proposal":
        return "Proposition de la RCP"
    if source and source.startswith("alternative-"):
        return f"Alternative {source.removeprefix('alternative-')} de la RCP"
    if source == "added":
        return "Ajouté par le médecin référent"
    return ""


def _treatment_details(treatment: dict) -> str:
    return sentences(
        treatment.get("description") or "",
        f"Lieu : {treatment['place']}" if treatment.get("place") else "",
        f"Intervenants : {treatment['team']}" if treatment.get("team") else "",
    )


def _treatment_row(anchor: str, treatment: dict) -> tuple:
    planned = treatment.get("planned_start")
    details = _treatment_details(treatment)
    return (
        (capitalized(label_of(treatment["kind"])), anchor),
        (french_date(planned), date_anchor(anchor)) if planned else "À déterminer",
        (details, comment_anchor(anchor)) if details else "",
        source_label(treatment.get("source")),
    )


def appointment_instant(appointment: dict) -> str:
    """The day, or the Paris wall-clock instant with its offset when the time is known."""
    if not appointment.get("time"):
        return appointment["date"]
    moment = datetime.combine(
        date.fromisoformat(appointment["date"]),
        time.fromisoformat(appointment["time"]),
        tzinfo=PARIS,
    )
    return moment.isoformat()


def _appointment_details(appointment: dict) -> str:
    return sentences(
        appointment.get("description") or "",
        f"Lieu : {appointment['place']}" if appointment.get("place") else "",
    )


def _appointment_row(anchor: str, appointment: dict) -> tuple:
    when = french_date(appointment["date"])
    if appointment.get("time"):
        hours, minutes = appointment["time"].split(":")[:2]
        when += f" à {hours}h{minutes}"
    details = _appointment_details(appointment)
    return (
        (when, date_anchor(anchor)),
        (capitalized(label_of(appointment["kind"])), anchor),
        (details, comment_anchor(anchor)) if details else "",
    )
