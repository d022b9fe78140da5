"""The follow-up's state machine, pair by pair over STATES × STATES: the table of the code
against the one written here from the specification, then each pair through the operation
(recorded by someone other than the previous author, so that no correction applies)."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from rcp_app.auth.models import User
from rcp_app.core.errors import Conflict
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.followups import operations as ops
from rcp_app.followups.models import STATES, FollowUp
from rcp_app.followups.outcomes import FollowUpInvalid
from tests.followups.support import follow_up_world, today

ALL_OUTCOMES = {"started_as_proposed", "started_other", "not_started", "lost", "deceased"}
EXPECTED = {
    "pending": ALL_OUTCOMES,
    "not_started": {"started_as_proposed", "started_other", "lost", "deceased"},
    "lost": {"started_as_proposed", "started_other", "not_started", "deceased"},
    "started_as_proposed": set(),
    "started_other": set(),
    "deceased": set(),
}
PAIRS = list(product(STATES, STATES))
# A complete, valid answer for each outcome; a state's stored columns, for the "from" side.
START = (today() - timedelta(days=2)).strftime("%d/%m/%Y")
ANSWERS = {
    "started_as_proposed": {"option_rank": "1", "started_on": START},
    "started_other": {
        "other_treatment": "Hormonothérapie",
        "started_on": START,
        "deviation_reason": "contraindication",
    },
    "not_started": {"deviation_reason": "patient_choice"},
    "lost": {"event_on": START},
    "deceased": {},
}
STORED = {
    "pending": {},
    "started_as_proposed": {"option_rank": 0, "started_on": today()},
    "started_other": {
        "other_treatment": "Hormonothérapie",
        "started_on": today(),
        "deviation_reason": "other",
        "details": "Souhait",
    },
    "not_started": {"deviation_reason": "progression"},
    "lost": {},
    "deceased": {},
}


def test_the_table_names_every_state():
    assert set(ops.TRANSITIONS) == set(STATES)


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_table_pair(source, target):
    assert ops.can_transition(source, target) is (target in EXPECTED[source])


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_operation_pair(app, make, source, target):
    world = follow_up_world(app, make)
    with app.app_context():
        follow_up = db.session.get(FollowUp, world.follow_up_id)
        follow_up.state = source
        for name, value in STORED[source].items():
            setattr(follow_up, name, value)
        if source != "pending":
            # Recorded two days ago by the coordinator: no correction window for anyone.
            follow_up.recorded_at = utcnow() - timedelta(days=2)
            follow_up.recorded_by_id = world.coordinator.id
        db.session.commit()
        user = db.session.get(User, world.requester.id)
        data = {"state": target, **ANSWERS.get(target, {})}
        if target not in ops.TRANSITIONS["pending"]:  # "pending" is no outcome
            with pytest.raises(FollowUpInvalid) as refused:
                ops.record_outcome(follow_up, user, data, follow_up.version)
            assert refused.value.errors == {
                "state": ["Choisissez ce qu'il est advenu de la proposition de la RCP."]
            }
        elif target in EXPECTED[source]:
            ops.record_outcome(follow_up, user, data, follow_up.version)
            db.session.commit()
            assert db.session.get(FollowUp, world.follow_up_id).state == target
        else:
            with pytest.raises(Conflict) as refused:
                ops.record_outcome(follow_up, user, data, follow_up.version)
            db.session.rollback()
            assert db.session.get(FollowUp, world.follow_up_id).state == source
            message = refused.value.message
            if EXPECTED[source]:
                assert "choisissez une autre issue" in message.lower()
            else:
                assert "Le suivi est clos" in message and "24 heures" in message
