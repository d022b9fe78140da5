"""Validating a care programme from the web: render and seal between two short transactions
(the same reasons and shape as fiches/signing_flow.py). Owns its transactions."""

from __future__ import annotations

from ..core.transactions import commit_phase, release
from ..extensions import db
from . import operations as ops
from .models import CarePlan, CarePlanVersion


def validate(plan_id: int, user, reason=None, motive=None) -> CarePlanVersion:
    """The next signed version of the programme, committed."""
    plan = db.session.get(CarePlan, plan_id)
    draft = ops.draft_validation(plan, user, reason, motive)
    release()
    documents = ops.produce(draft)
    plan = db.session.get(CarePlan, plan_id)
    version = ops.store_validation(plan, user, draft, documents)
    commit_phase()
    return version
