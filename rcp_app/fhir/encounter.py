"""The meeting as an Encounter: the session's identifiers and start, the people present with
their role in the meeting (quorum or not, presenter), the RCP's establishment as provider."""

from __future__ import annotations

from ..fiches.cda.header import ENCOUNTER_NATIONAL_IDS
from .practitioners import Directory
from .systems import (
    ACT_CODE,
    CARE_MODE_OID,
    CARE_TEAM_FUNCTIONS_OID,
    FUNCTION_CODES_OID,
    PARTICIPATION_TYPE,
    coding,
    oid_uri,
)


def _identifiers(snapshot: dict) -> list[dict]:
    rcp, oid_root = snapshot["rcp"], snapshot["document"]["oid_root"]
    # An identifier the network has not assigned yet is left out (the CDA null-flavours it).
    identifiers = [
        {"system": oid_uri(root), "value": rcp[key]}
        for key, root in ENCOUNTER_NATIONAL_IDS
        if rcp.get(key)
    ]
    identifiers.append(
        {"system": oid_uri(f"{oid_root}.3"), "value": str(snapshot["session"]["id"])}
    )
    identifiers.append({"system": oid_uri(f"{oid_root}.4"), "value": rcp["national_id"]})
    return identifiers


def _participant(role: dict, function: dict | None, text: str) -> dict:
    kinds = [{"coding": [coding(PARTICIPATION_TYPE, "PART", "Participation")], "text": text}]
    if function:
        kinds.append({"coding": [function]})
    return {"type": kinds, "individual": role}


def _participants(snapshot: dict, directory: Directory) -> list[dict]:
    people = snapshot["people"]
    quorum = coding(oid_uri(CARE_TEAM_FUNCTIONS_OID), "353", "Membre de l'équipe de soins")
    other = coding(oid_uri(FUNCTION_CODES_OID), "CORRE", "Correspondant")
    participants = []
    if people.get("presenter"):
        role = directory.role(people["presenter"])
        participants.append(_participant(role, None, "Médecin présentant le dossier"))
    for member in people.get("quorum_members") or []:
        participants.append(_participant(directory.role(member), quorum, "Participant du quorum"))
    for attendee in people.get("other_attendees") or []:
        role = directory.role(attendee)
        participants.append(_participant(role, other, "Participant hors quorum"))
    return participants


def add_encounter(entries, snapshot: dict, directory: Directory, subject: dict) -> dict:
    rcp = snapshot["rcp"]
    fields: dict = {
        "identifier": _identifiers(snapshot),
        "status": "finished",
        # The case is discussed in the patient's absence, as the CDA's encounter code says.
        "class": coding(ACT_CODE, "VR", "virtual"),
        "type": [
            {
                "coding": [
                    coding(
                        oid_uri(CARE_MODE_OID),
                        "39",
                        "Réunion de Concertation Pluridisciplinaire (RCP)",
                    )
                ],
                "text": rcp["name"],
            }
        ],
        "subject": subject,
    }
    participants = _participants(snapshot, directory)
    if participants:
        fields["participant"] = participants
    fields["period"] = {"start": snapshot["session"]["starts_at"]}
    provider = directory.organization(rcp.get("establishment"))
    if provider:
        fields["serviceProvider"] = provider
    return entries.add("Encounter", "encounter", fields)
