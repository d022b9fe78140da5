"""What a client may read: its establishment's data, nothing else.

- RCPs: those of the client's establishment; sessions and agendas of those RCPs;
- cases: those registered in those RCPs (their decisions and fiches with them);
- patients: those with a case in those RCPs, and those the establishment's systems registered
  or identified (``EstablishmentPatient``).

Each rule is one SQL condition, so lists, counts and single reads agree; another
establishment's row answers 404, as if it did not exist.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from ..cases.models import Case
from ..directory.models import Rcp
from ..meetings.models import MeetingSession
from .models import ApiClient, EstablishmentPatient


def rcp_ids(client: ApiClient):
    return select(Rcp.id).where(Rcp.establishment_id == client.establishment_id)


def case_condition(client: ApiClient, cases=Case):
    return cases.rcp_id.in_(rcp_ids(client))


def session_condition(client: ApiClient, sessions=MeetingSession):
    return sessions.rcp_id.in_(rcp_ids(client))


def patient_condition(client: ApiClient, patient_id_column):
    # EXISTS per patient, not IN (…): under the OR, PostgreSQL would build the list of every
    # case of the establishment to test one patient (210 ms at 100,000 cases, 0.13 ms so).
    return or_(
        exists().where(Case.patient_id == patient_id_column, case_condition(client)),
        exists().where(
            EstablishmentPatient.patient_id == patient_id_column,
            EstablishmentPatient.establishment_id == client.establishment_id,
        ),
    )
