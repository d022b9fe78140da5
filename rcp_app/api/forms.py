"""The administrator's forms for API clients.

Field names are the client's attribute names: the conflict notes (core/conflict.py) compare a
field with the attribute of the same name. Ranges and required scopes are checked once, by
operations.py, whose messages land next to the fields (show_refusal).
"""

from __future__ import annotations

from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..core.converters import IntegerField, coerce_choice_number
from ..core.forms import BaseForm, VersionField
from ..directory.models import Establishment
from ..extensions import db
from .models import SCOPES

NO_ESTABLISHMENT = 0


def _scope_choices() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in SCOPES.items()]


# Declared before the shared fields: WTForms orders fields by creation, and the error summary
# lists them in that order, as the page shows them.
_NAME = StringField(
    "Nom du client",
    validators=[DataRequired(message="Donnez un nom au client."), Length(max=200)],
)
_ESTABLISHMENT = SelectField(
    "Établissement",
    coerce=coerce_choice_number,
    # 0 is the « choose » placeholder: DataRequired refuses it.
    validators=[DataRequired(message="Choisissez l'établissement du client.")],
)


class _ClientFields(BaseForm):
    # Checked here too, so that a refused form names every missing field at once.
    scopes = SelectMultipleField(
        "Portées",
        choices=_scope_choices,
        validators=[InputRequired(message="Choisissez au moins une portée.")],
    )
    contact = StringField(
        "Contact technique",
        validators=[Optional(), Length(max=254)],
        description="L'équipe à prévenir en cas d'incident (adresse ou téléphone).",
    )
    rate_limit_per_minute = IntegerField(
        "Quota (appels par minute)",
        default=600,
        validators=[InputRequired(message="Indiquez le quota d'appels par minute.")],
    )


class ClientCreateForm(_ClientFields):
    name = _NAME
    establishment_id = _ESTABLISHMENT

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        establishments = db.session.scalars(
            select(Establishment)
            .where(Establishment.active.is_(True))
            .order_by(Establishment.name, Establishment.id)
        )
        self.establishment_id.choices = [
            SelectChoice(str(NO_ESTABLISHMENT), "— Choisissez un établissement —")
        ] + [SelectChoice(str(e.id), f"{e.name} — FINESS {e.finess}") for e in establishments]


class ClientEditForm(_ClientFields):
    version = VersionField()


class ClientActionForm(BaseForm):
    """Rotate the secret or revoke: the version the page showed, so a stale page is refused."""

    version = VersionField()
