"""Why a message is not applied, as the acknowledgement says it."""

from __future__ import annotations

# HL7 table 0357 (message error condition codes) used in ERR-3.
ERROR_CODES = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "202": "Unsupported processing id",
    "203": "Unsupported version id",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}


class Refusal(Exception):
    """The message is refused: ``ack_code`` AE (its content) or AR (the message itself).

    ``text`` is French, for the integrator reading the ACK; ``location`` is (segment, field)
    when one field is at fault (ERR-2)."""

    def __init__(
        self,
        text: str,
        *,
        ack_code: str = "AE",
        error_code: str = "102",
        location: tuple[str, int] | None = None,
    ):
        super().__init__(text)
        self.text = text
        self.ack_code = ack_code
        self.error_code = error_code
        self.location = location


def rejected(text: str, error_code: str) -> Refusal:
    """AR: the message cannot be taken at all (unreadable, unsupported), whatever its content."""
    return Refusal(text, ack_code="AR", error_code=error_code)
