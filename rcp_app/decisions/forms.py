"""The decision form's choices and the close-session form (validation is in operations.parse)."""

from __future__ import annotations

from ..core.forms import BaseForm
from ..terminology.builtin import QUORUM_STATUS, TREATMENT_TYPE
from ..terminology.models import concept_choices
from .models import OUTCOMES


class CsrfForm(BaseForm):
    """No field: the CSRF token of the decision and close forms."""


def choices() -> dict:
    return {
        "treatments": concept_choices(TREATMENT_TYPE),
        "quorum": concept_choices(QUORUM_STATUS),
        "outcomes": list(OUTCOMES.items()),
        "file_complete": [("yes", "Oui"), ("no", "Non")],
    }
