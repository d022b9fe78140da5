"""Which views show patient data, and who may read patient identities.

Every view carries one of two markers, checked by tests/test_audit_coverage.py against the
route table: a view without a marker, or a patient-data view whose responses do not write an
audit row naming the patient(s), fails the suite.

- ``shows_patient_data``: some response of the view (the page itself, or a refused form shown
  again) shows stored patient data; each such response writes an audit row naming the
  patient(s): ``patient_id``, or the ids under ``details["patients"]`` on a page that lists
  several patients. ``shows_patient_data(methods=("POST",))``: only that method can (a
  creation form refused because the INS typed belongs to another patient, whom it names).
- ``no_patient_data``: the view never shows stored patient data (directory, accounts, a form
  showing only what the user typed, a POST that only redirects).

Put the marker right under ``@bp.route`` (a decorator between them must use functools.wraps,
which copies the marker).

Audit rows name patients by id, never by identity text; ``IDENTITY_ROLES`` are the roles that
may see the identity behind an id (the admin role manages accounts and the directory and never
sees patient data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

MARKER = "rcp_patient_data"
MARKER_METHODS = "rcp_patient_data_methods"
IDENTITY_ROLES = ("coordinator", "physician")


def shows_patient_data(view: Callable | None = None, *, methods: tuple[str, ...] | None = None):
    """``@shows_patient_data`` (every method of the route) or ``@shows_patient_data(methods=…)``."""

    def mark(view: Callable) -> Callable:
        setattr(view, MARKER, True)
        setattr(view, MARKER_METHODS, methods)
        return view

    return mark(view) if view is not None else mark


def no_patient_data(view: Callable) -> Callable:
    setattr(view, MARKER, False)
    return view


def marker_of(view: Callable) -> bool | None:
    """True / False as marked; None when the view carries no marker."""
    return getattr(view, MARKER, None)


def patient_data_methods(view: Callable, route_methods: Iterable[str]) -> set[str]:
    """The methods of a route whose responses can show patient data (empty: none)."""
    if marker_of(view) is not True:
        return set()
    methods = getattr(view, MARKER_METHODS, None)
    return set(route_methods) if methods is None else set(methods) & set(route_methods)


def patient_ids(ids: Iterable[int | None]) -> list[int]:
    """The distinct patient ids of a multi-patient page, in the order they are shown."""
    return list(dict.fromkeys(i for i in ids if i is not None))


def cases_named(cases: Iterable) -> dict:
    """Audit details of a page listing cases: their ids and their patients' (Case objects, or
    agenda items carrying ``case``)."""
    cases = [getattr(c, "case", c) for c in cases]
    return {"cases": [c.id for c in cases], "patients": patient_ids(c.patient_id for c in cases)}


def may_see_identities(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*IDENTITY_ROLES)
