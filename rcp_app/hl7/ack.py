"""The acknowledgement (original mode): MSH answering the message, MSA, and ERR on a refusal.

MSH swaps sender and receiver and keeps the message's separators, processing id, version and
character set (MSH-18); MSA-1 is AA (applied), AE (content refused) or AR (message rejected),
MSA-2 the message's control id, MSA-3 the French reason (80 characters, the field's length;
the whole text is in ERR-8). ERR-2 points at the field at fault, ERR-3 is the HL7 table 0357
code. Built with python-hl7's containers; only the values we write are escaped here.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import hl7

from ..core.timeutil import PARIS
from .errors import ERROR_CODES, Refusal
from .messages import field_value

DEFAULT_SEPARATORS = ("|", "^~\\&")
MSA_TEXT_LENGTH = 80
ERR_TEXT_LENGTH = 250


def _escape(text: str, separators: tuple[str, str]) -> str:
    field, (component, repetition, escape, subcomponent) = separators[0], separators[1][:4]
    codes = {escape: "E", field: "F", component: "S", repetition: "R", subcomponent: "T"}
    return "".join(f"{escape}{codes[c]}{escape}" if c in codes else c for c in text)


def _cut(text: str, length: int) -> str:
    # "..." rather than an ellipsis: ISO 8859-1 (MSH-18 8859/1) has no ellipsis character.
    return text if len(text) <= length else text[: length - 3] + "..."


def _source_field(msh, number: int) -> str:
    return str(msh(number)) if msh is not None and number < len(msh) else ""


def build(source: hl7.Message | None, ack_code: str, refusal: Refusal | None = None) -> str:
    """The ACK text (segments separated by CR), for ``source`` (None: unreadable message)."""
    msh_in = source.segment("MSH") if source is not None else None
    separators = (str(msh_in(1)), str(msh_in(2))[:4]) if msh_in is not None else DEFAULT_SEPARATORS
    if len(separators[1]) < 4:
        separators = DEFAULT_SEPARATORS
    fs, enc = separators
    ack = hl7.parse(f"MSH{fs}{enc}{fs}")
    msh = ack.segment("MSH")
    trigger = field_value(msh_in, 9, 1, 2) if msh_in is not None else ""
    values = {
        3: _source_field(msh_in, 5) or "RCP",
        4: _source_field(msh_in, 6),
        5: _source_field(msh_in, 3),
        6: _source_field(msh_in, 4),
        7: datetime.now(PARIS).strftime("%Y%m%d%H%M%S%z"),
        9: f"ACK{enc[0]}{_escape(trigger, separators)}{enc[0]}ACK",
        10: uuid.uuid4().hex[:20],
        11: _source_field(msh_in, 11) or "P",
        12: _source_field(msh_in, 12) or "2.5",
        18: _source_field(msh_in, 18),
    }
    for number, value in values.items():
        msh.assign_field(value, number)
    control_id = _source_field(msh_in, 10)
    fields = ["MSA", ack_code, control_id]
    if refusal is not None:
        fields.append(_escape(_cut(refusal.text, MSA_TEXT_LENGTH), separators))
    segments = [fs.join(fields)]
    if refusal is not None:
        segments.append(_err(refusal, separators))
    return str(ack) + "\r".join(segments) + "\r"


def _err(refusal: Refusal, separators: tuple[str, str]) -> str:
    fs, component = separators[0], separators[1][0]
    location = ""
    if refusal.location is not None:
        segment, field = refusal.location
        location = component.join((segment, "1", str(field)))
    code = component.join((refusal.error_code, ERROR_CODES.get(refusal.error_code, ""), "HL70357"))
    text = _escape(_cut(refusal.text, ERR_TEXT_LENGTH), separators)
    # ERR-1 (deprecated) empty, ERR-2 location, ERR-3 code, ERR-4 severity, ERR-5..7 empty.
    return fs.join(("ERR", "", location, code, "E", "", "", "", text))
