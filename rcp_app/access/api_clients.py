"""What a hospital system connected through the API (rcp_app/api) may read: its
establishment's data, nothing else.

- RCPs: those of the client's establishment; sessions and agendas of those RCPs;
- cases: those registered in those RCPs (their decisions and fiches with them);
- patients: those with a case in those RCPs, and those the establishment's systems registered
  or identified (``establishment_patients``).

A client is not a user: no care team, no role. Each rule is one SQL condition (tables read by
name, like the rest of this package), so lists, counts and single reads agree; another
establishment's row answers 404, as if it did not exist.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from .care_team import _table


def rcp_ids(client):
    rcps = _table("rcps")
    return select(rcps.c.id).where(rcps.c.establishment_id == client.establishment_id)


def case_condition(client):
    return _table("cases").c.rcp_id.in_(rcp_ids(client))


def session_condition(client):
    return _table("meeting_sessions").c.rcp_id.in_(rcp_ids(client))


def patient_condition(client, patient_id_column):
    # EXISTS per patient, not IN (…): under the OR, PostgreSQL would build the list of every
    # case of the establishment to test one patient (210 ms at 100,000 cases, 0.13 ms so).
    cases, linked = _table("cases"), _table("establishment_patients")
    return or_(
        exists().where(cases.c.patient_id == patient_id_column, case_condition(client)),
        exists().where(
            linked.c.patient_id == patient_id_column,
            linked.c.establishment_id == client.establishment_id,
        ),
    )
