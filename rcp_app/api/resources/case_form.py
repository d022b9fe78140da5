"""The case body and the case form: one set of fields under two spellings.

The JSON body is turned into the pairs the case form would post (``form_data``), so the form
itself (its input rule for free text), cases/validation.py and the operations judge it; their
refusals, keyed by form names, come back as JSON paths (``json_path``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ...cases.forms import CaseForm
from ...cases.validation import CaseInvalid
from ...core.forms import leaf_fields
from ...directory.models import Professional
from ...extensions import db

if TYPE_CHECKING:  # annotation only: case_schemas imports this module
    from .case_schemas import CaseData

# --- the body and the form: one set of fields under two spellings ----------------------------

# Row lists: JSON name -> the form's FieldList name.
ROWS = {"tumours": "tumour_rows", "stagings": "staging_rows", "treatments": "treatment_rows"}
FORM_ROWS = {form: name for name, form in ROWS.items()}
# A tumour's markers: biomarkers.<name> in JSON, one form field bm_<name> in the tumour's row.
MARKER_PREFIX = "bm_"
# Top-level JSON fields that fill one form field another way.
SAME_FORM_FIELD = {
    "requester_rpps": "requester_id",
    "gp_id": "gp",
    "gp_unknown": "gp",
    "gp_rpps": "gp",
    "correspondent_rpps": "correspondent_ids",
}
# Given by the form's URL (patient, RCP) and its submit button, not by its fields.
OUTSIDE_THE_FORM = frozenset({"patient_id", "rcp_id", "submit"})
# The form's own controls: a row's « remove » box (the API sends the rows it wants).
FORM_ONLY = frozenset({"remove"})


def form_path(path: str) -> str:
    """The form field a JSON field fills: 'tumours[].biomarkers.breast_er' ->
    'tumour_rows[].bm_breast_er', 'gp_rpps' -> 'gp'."""
    if "." not in path and "[" not in path:
        return SAME_FORM_FIELD.get(path, path)
    for name, form in ROWS.items():
        path = re.sub(rf"(^|\.){name}\[", rf"\g<1>{form}[", path)
    return path.replace(".biomarkers.", "." + MARKER_PREFIX)


def json_path(form_key: str, chosen: dict[str, str] | None = None) -> str:
    """A form error key as the JSON path of the field the client sent:
    'tumour_rows-0-staging_rows-1-value' -> 'tumours[0].stagings[1].value'. ``chosen``: the
    JSON field used for a form field that has several (the RPPS rather than the id)."""
    parts = form_key.split("-")
    path, index = "", 0
    while index < len(parts):
        name = parts[index]
        if name in FORM_ROWS and index + 1 < len(parts) and parts[index + 1].isdigit():
            path += ("." if path else "") + f"{FORM_ROWS[name]}[{parts[index + 1]}]"
            index += 2
            continue
        if path and name.startswith(MARKER_PREFIX):
            name = "biomarkers." + name.removeprefix(MARKER_PREFIX)
        elif not path:
            name = (chosen or {}).get(name, name)
        path += ("." if path else "") + name
        index += 1
    return path


def _posted(value) -> str:
    """A JSON value as a browser posts it (a checked box is "y", an unchecked one absent)."""
    if value is None or value is False:
        return ""
    if value is True:
        return "y"
    return str(value)


def _formdata(values: dict, prefix: str = "") -> list[tuple[str, str]]:
    """The (name, value) pairs the case form would post for ``values``."""
    pairs = []
    for name, value in values.items():
        if name in ROWS:
            for index, row in enumerate(value):
                pairs += _formdata(row, f"{prefix}{ROWS[name]}-{index}-")
        elif name == "biomarkers":
            pairs += [(f"{prefix}{MARKER_PREFIX}{k}", _posted(v)) for k, v in value.items()]
        elif isinstance(value, list):
            pairs += [(prefix + name, _posted(item)) for item in value]
        else:
            pairs.append((prefix + name, _posted(value)))
    return pairs


def refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise CaseInvalid(errors)


def _by_rpps(rpps: str, field: str, errors: dict) -> int | None:
    found = db.session.scalar(select(Professional.id).where(Professional.rpps == rpps))
    if found is None:
        errors.setdefault(field, []).append(
            f"Aucun professionnel de l'annuaire ne porte le RPPS {rpps}."
        )
    return found


def _one_professional(given_id, rpps, id_field: str, rpps_field: str, errors: dict):
    """The id given, or the one of the RPPS given; both must then name the same person."""
    if rpps is None:
        return given_id
    found = _by_rpps(rpps, rpps_field, errors)
    if found is not None and given_id is not None and given_id != found:
        errors.setdefault(rpps_field, []).append(
            f"{id_field} et {rpps_field} désignent deux professionnels différents : "
            "n'en donnez qu'un."
        )
    return found if found is not None else given_id


def form_data(body: CaseData) -> tuple[dict, dict[str, str]]:
    """What the case form passes to the operation for ``body``, and for each form field
    filled through another JSON field, the one the client used.

    The body is posted to the form itself (cases/forms.py): its input rule for free text
    (normalisation, invisible and unprintable characters refused with the field's label)
    and its ``data_for_operation`` are the web's, not a copy of them.
    """
    errors: dict[str, list[str]] = {}
    requester = _one_professional(
        body.requester_id, body.requester_rpps, "requester_id", "requester_rpps", errors
    )
    gp = _one_professional(body.gp_id, body.gp_rpps, "gp_id", "gp_rpps", errors)
    if body.gp_unknown and gp is not None:
        errors.setdefault("gp_unknown", []).append(
            "Médecin traitant à la fois désigné et « inconnu » : choisissez l'un ou l'autre."
        )
    correspondents = list(body.correspondent_ids)
    if body.correspondent_rpps:
        by_rpps = [_by_rpps(r, "correspondent_rpps", errors) for r in body.correspondent_rpps]
        if correspondents and set(correspondents) != set(by_rpps):
            errors.setdefault("correspondent_rpps", []).append(
                "correspondent_ids et correspondent_rpps désignent des professionnels "
                "différents : n'en donnez qu'un."
            )
        correspondents = [pro for pro in by_rpps if pro is not None]
    refuse(errors)
    chosen = {
        "requester_id": "requester_rpps"
        if body.requester_id is None and body.requester_rpps
        else "requester_id",
        "gp": "gp_rpps" if body.gp_id is None and body.gp_rpps else "gp_id",
        "correspondent_ids": "correspondent_rpps"
        if not body.correspondent_ids and body.correspondent_rpps
        else "correspondent_ids",
    }
    people = set(SAME_FORM_FIELD) | {"requester_id", "correspondent_ids"}
    pairs = _formdata(body.model_dump(exclude=people | OUTSIDE_THE_FORM))
    pairs += [
        ("requester_id", _posted(requester)),
        ("gp", "unknown" if body.gp_unknown else _posted(gp)),
        *(("correspondent_ids", _posted(pro)) for pro in correspondents),
    ]
    form = CaseForm(formdata=MultiDict(pairs), meta={"csrf": False})
    if not form.validate():
        refuse(
            {
                json_path(field.name, chosen): list(field.errors)
                for field in leaf_fields(form)
                if field.errors
            }
        )
    return form.data_for_operation(), chosen


def in_json_terms(invalid: CaseInvalid, chosen: dict[str, str]) -> CaseInvalid:
    errors: dict[str, list[str]] = {}
    for key, messages in invalid.errors.items():
        errors.setdefault(json_path(key, chosen), []).extend(messages)
    return CaseInvalid(errors)
