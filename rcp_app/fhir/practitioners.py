"""Practitioner, PractitionerRole and Organization entries (FR Core identifiers), each once.

A professional appears under several headings of a fiche (author, coordinator, quorum member…):
one Practitioner per RPPS, and one PractitionerRole per RPPS, establishment and specialty (the
snapshot of a professional without an establishment in one place and with it in another gives
two roles of the same practitioner).
"""

from __future__ import annotations

from .entries import Entries
from .systems import (
    FINESS_OID,
    FINESS_URL,
    FR_CORE_IDENTIFIER_TYPES,
    RPPS_OID,
    RPPS_URL,
    concept,
    identifier_type,
    oid_uri,
)


class Directory:
    def __init__(self, entries: Entries):
        self._entries = entries

    def organization(
        self, establishment: dict | None, *, city: str | None = None, kind: dict | None = None
    ) -> dict | None:
        """The establishment's Organization; the first call for a FINESS gives its content, so
        the custodian (with its city and category) is added before anyone's establishment."""
        if not establishment:
            return None
        finess = establishment["finess"]
        fields: dict = {
            "identifier": [
                {
                    "use": "official",
                    "type": identifier_type(FR_CORE_IDENTIFIER_TYPES, "IDNST"),
                    "system": oid_uri(FINESS_OID),
                    "value": f"1{finess}",
                },
                {"system": FINESS_URL, "value": finess},
            ],
        }
        if kind:
            fields["type"] = [concept(kind)]
        fields["name"] = establishment["name"]
        if city:
            fields["address"] = [{"city": city, "country": "FR"}]
        return self._entries.add("Organization", f"organization:{finess}", fields)

    def practitioner(self, person: dict) -> dict:
        rpps = person["rpps"]
        name: dict = {"family": person["last_name"], "given": [person["first_name"]]}
        if person.get("title"):
            name["prefix"] = [person["title"]]
        fields = {
            "identifier": [
                {
                    "type": identifier_type(FR_CORE_IDENTIFIER_TYPES, "IDNPS"),
                    "system": oid_uri(RPPS_OID),
                    "value": f"8{rpps}",
                },
                {
                    "type": identifier_type(FR_CORE_IDENTIFIER_TYPES, "RPPS"),
                    "system": RPPS_URL,
                    "value": rpps,
                },
            ],
            "name": [name],
        }
        return self._entries.add("Practitioner", f"practitioner:{rpps}", fields)

    def role(self, person: dict | None) -> dict | None:
        """The PractitionerRole of a snapshot's person; None for an unknown one (no GP)."""
        if not person:
            return None
        establishment = person.get("establishment")
        specialty = person.get("specialty")
        label = ":".join(
            (
                "role",
                person["rpps"],
                establishment["finess"] if establishment else "",
                specialty["code"] if specialty else "",
            )
        )
        fields: dict = {"practitioner": self.practitioner(person)}
        organization = self.organization(establishment)
        if organization:
            fields["organization"] = organization
        if specialty:
            fields["specialty"] = [concept(specialty)]
        if person.get("mssante"):
            fields["telecom"] = [{"system": "email", "value": person["mssante"]}]
        return self._entries.add("PractitionerRole", label, fields)
