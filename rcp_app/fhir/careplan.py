"""The RCP's proposal as a CarePlan (intent « proposal »: the meeting proposes, the treating
physicians and the patient decide), and the CareTeam of the fiche's correspondents."""

from __future__ import annotations

from .practitioners import Directory
from .systems import (
    FUNCTION_CODES_OID,
    PARTICIPATION_FUNCTION,
    PARTICIPATION_TYPE,
    ans,
    coding,
    concept,
    loinc,
    oid_uri,
)

NOT_STARTED = "not-started"


def proposals(decision: dict) -> list[tuple[int, dict, str]]:
    """(priority, treatment, details): the proposal first, then the ranked alternatives, as
    the CDA numbers them."""
    ranked = [(1, decision.get("proposal"), decision.get("proposal_details") or "")]
    for alternative in sorted(decision.get("alternatives") or [], key=lambda a: a["rank"]):
        ranked.append(
            (alternative["rank"] + 1, alternative["treatment"], alternative.get("details") or "")
        )
    return [item for item in ranked if item[1]]


def _activity(code: dict | None, description: str) -> dict:
    detail: dict = {}
    if code:
        detail["code"] = code
    detail["status"] = NOT_STARTED
    if description:
        detail["description"] = description
    return {"detail": detail}


def _activities(decision: dict) -> list[dict]:
    activities = []
    for priority, treatment, details in proposals(decision):
        heading = "Proposition thérapeutique" if priority == 1 else f"Alternative {priority - 1}"
        text = f"{heading} : {treatment['label']}" + (f". {details}" if details else "")
        activities.append(_activity(concept(treatment), text))
    if decision.get("active_surveillance"):
        activities.append(_activity(ans("MED-226", "Surveillance seule"), "Surveillance seule"))
    if decision.get("exams_requested"):
        code = ans("ORG-064", "Demande d'examen ou de suivi")
        activities.append(_activity(code, decision["exams_requested"]))
    if decision.get("recourse_referral"):
        code = ans("ORG-120", "Passage en RCP recours")
        activities.append(_activity(code, decision.get("recourse_rcp") or ""))
    trial = decision.get("trial")
    if trial:
        code = ans("MED-250", "Proposition d'inclusion dans un essai clinique")
        text = trial["name"] + (f" ({trial['identifier']})" if trial.get("identifier") else "")
        activities.append(_activity(code, text))
    return activities


def _notes(decision: dict) -> list[dict]:
    notes = []
    guideline = decision.get("guideline")
    if guideline:
        version = guideline.get("version") or "-"
        day = guideline.get("date") or "date non renseignée"
        notes.append({"text": f"Référentiel : {guideline['name']} (version {version}, {day})"})
    if decision.get("deviation_reason"):
        notes.append({"text": f"Motif d'écart au référentiel : {decision['deviation_reason']}"})
    if decision.get("comments"):
        notes.append({"text": decision["comments"]})
    return notes


def _member(role: dict | None, code: dict, text: str) -> dict | None:
    if role is None:
        return None
    return {"role": [{"coding": [code], "text": text}], "member": role}


def add_care_team(entries, snapshot: dict, directory: Directory, subject, encounter):
    """Those the fiche is addressed to, with their CDA function: coordinator, requester, GP,
    recipients of a copy (None if the snapshot names none of them)."""
    people = snapshot["people"]
    correspondent = coding(oid_uri(FUNCTION_CODES_OID), "CORRE", "Correspondant")
    members = [
        _member(
            directory.role(people.get("coordinator")),
            coding(PARTICIPATION_TYPE, "RESP", "responsible party"),
            "Médecin coordonnateur de la RCP",
        ),
        _member(
            directory.role(people.get("requester")),
            coding(PARTICIPATION_TYPE, "REFB", "Referred By"),
            "Médecin demandeur",
        ),
        _member(
            directory.role(people.get("gp")),
            coding(PARTICIPATION_FUNCTION, "PCP", "primary care physician"),
            "Médecin traitant",
        ),
    ]
    for recipient in people.get("copy_recipients") or []:
        members.append(
            _member(directory.role(recipient), correspondent, "Destinataire d'une copie")
        )
    members = [member for member in members if member]
    if not members:
        return None
    fields = {
        "status": "active",
        "name": "Correspondants de la fiche RCP",
        "subject": subject,
        "encounter": encounter,
        "participant": members,
    }
    return entries.add("CareTeam", "care-team", fields)


def add_care_plan(entries, snapshot: dict, *, subject, encounter, author, conditions, team):
    decision = snapshot["decision"]
    fields: dict = {
        "status": "active",
        "intent": "proposal",
        "category": [{**loinc("18776-5", "Plan de soins"), "text": "Proposition de la RCP"}],
        "title": "Proposition de la RCP",
        "subject": subject,
        "encounter": encounter,
        "created": decision["validated_at"],
        "author": author,
    }
    if team:
        fields["careTeam"] = [team]
    if conditions:
        fields["addresses"] = conditions
    activities = _activities(decision)
    if activities:
        fields["activity"] = activities
    notes = _notes(decision)
    if notes:
        fields["note"] = notes
    return entries.add("CarePlan", "care-plan", fields)
