"""Document identifiers as OIDs.

Fiche versions and sets are identified by random UUIDs; documents carry them in the OID form of
a UUID (ITU-T X.667: ``2.25.<the UUID as an integer>``), because XDS (the DMP, the DCC) requires
the document's uniqueId to be an OID, and it must equal the CDA's ``id``.
"""

from __future__ import annotations

import uuid


def uuid_oid(value: str) -> str:
    """'0d4a2c1e-6f0b-…' -> '2.25.17396…' (at most 44 characters)."""
    return f"2.25.{uuid.UUID(value).int}"
