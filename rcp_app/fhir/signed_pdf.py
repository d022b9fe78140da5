"""The signed PDF of the version as a DocumentReference with the bytes inline.

Attachment.hash is the SHA-1 of the data, base64-encoded, because FHIR R4 defines it so (the
application's own integrity digest, SHA-256, stays with the stored document).
"""

from __future__ import annotations

import base64
import hashlib

from .systems import URI, loinc


def add_signed_pdf(entries, snapshot: dict, pdf: bytes, *, document_uri: str, refs: dict) -> dict:
    document = snapshot["document"]
    attachment = {
        "contentType": "application/pdf",
        "language": "fr-FR",
        "data": base64.b64encode(pdf).decode("ascii"),
        "size": len(pdf),
        "hash": base64.b64encode(hashlib.sha1(pdf, usedforsecurity=False).digest()).decode("ascii"),
        "title": f"{document['title']} – {snapshot['rcp']['name']} (version {document['version']})",
        "creation": document["effective_time"],
    }
    fields = {
        # The version this PDF renders; the bundle's own identifier is the same document's.
        "identifier": [{"system": URI, "value": document_uri}],
        "status": "current",
        "docStatus": "amended" if document["version"] > 1 else "final",
        "type": loinc("34794-8", "CR de réunion de concertation pluridisciplinaire"),
        "subject": refs["patient"],
        "date": document["effective_time"],
        "author": [refs["author"]],
        "authenticator": refs["authenticator"],
        "custodian": refs["custodian"],
        "description": "Fiche RCP signée (PDF)",
        "content": [{"attachment": attachment}],
        "context": {"encounter": [refs["encounter"]]},
    }
    return entries.add("DocumentReference", "signed-pdf", fields)
