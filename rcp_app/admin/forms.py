from datetime import date

from sqlalchemy import or_, select
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from ..auth.forms import USERNAME_RULE
from ..auth.models import ROLE_LABELS
from ..core.converters import coerce_choice_number
from ..core.dates import parse_date
from ..core.forms import BaseForm, VersionField
from ..directory.models import Establishment, Rcp
from ..extensions import db

NO_PROFESSIONAL = 0
STRENGTH_HELP = (
    "Au moins 12 caractères, avec au moins trois types parmi minuscules, majuscules, chiffres "
    "et caractères spéciaux."
)


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value else value


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the SelectChoice objects WTForms 3.3+ expects."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class _AccountFields(BaseForm):
    display_name = StringField("Nom affiché", validators=[DataRequired(), Length(max=160)])
    email = EmailField(
        "Adresse électronique",
        # Syntax only (as in operations.py): hospital domains may be internal ones that
        # email-validator refuses (.local, .test…).
        validators=[
            DataRequired(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Adresse électronique invalide."),
            Length(max=254),
        ],
    )
    role = SelectField(
        "Rôle", choices=lambda: choices(ROLE_LABELS.items()), validators=[DataRequired()]
    )
    # Choices are set by the view (directory professionals); 0 means "none".
    professional_id = SelectField(
        "Professionnel de santé associé",
        coerce=coerce_choice_number,
        choices=lambda: choices([(NO_PROFESSIONAL, "— Aucun —")]),
    )
    active = BooleanField("Compte actif", default=True)
    # Coordinators only (admin/operations.py refuses them for another role); choices set by
    # ``set_scope_choices``.
    rcp_ids = SelectMultipleField(
        "RCP coordonnées", coerce=coerce_choice_number, render_kw={"size": 6}
    )
    establishment_ids = SelectMultipleField(
        "Établissements coordonnés (toutes leurs RCP)",
        coerce=coerce_choice_number,
        render_kw={"size": 3},
    )


SCOPE_HELP = (
    "Uniquement pour un compte de coordination : il voit les ordres du jour, dossiers et "
    "diffusions de ces RCP (Ctrl ou Cmd + clic pour en choisir plusieurs). Sans RCP ni "
    "établissement coordonné, il ne voit aucun dossier."
)


def set_scope_choices(form, current: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    """Active RCPs and establishments, plus those already in the account's scope."""
    rcps = db.session.scalars(
        select(Rcp)
        .where(or_(Rcp.active.is_(True), Rcp.id.in_(current[0])))
        .order_by(Rcp.name, Rcp.id)
    )
    form.rcp_ids.choices = choices((r.id, r.name) for r in rcps)
    establishments = db.session.scalars(
        select(Establishment)
        .where(or_(Establishment.active.is_(True), Establishment.id.in_(current[1])))
        .order_by(Establishment.name, Establishment.id)
    )
    form.establishment_ids.choices = choices(
        (e.id, f"{e.name} — FINESS {e.finess}") for e in establishments
    )


class UserCreateForm(_AccountFields):
    username = StringField(
        "Identifiant", validators=[DataRequired(), USERNAME_RULE], filters=[_lower]
    )
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Confirmation du mot de passe", validators=[DataRequired()])


class UserEditForm(_AccountFields):
    version = VersionField()


class PasswordResetForm(BaseForm):
    new_password = PasswordField(
        "Nouveau mot de passe", validators=[DataRequired(), Length(max=256)]
    )
    confirm = PasswordField("Confirmation du nouveau mot de passe", validators=[DataRequired()])


def _french_date(form, field) -> None:
    try:
        field.parsed = parse_date(field.data)
    except ValueError as error:
        field.parsed = None
        raise ValidationError(str(error)) from None


class AuditFilterForm(BaseForm):
    """Filters of the audit log page, read from the query string (GET, no CSRF token)."""

    class Meta:
        csrf = False

    user = StringField("Utilisateur", validators=[Optional(), Length(max=120)])
    action = StringField("Action (début)", validators=[Optional(), Length(max=64)])
    object_type = SelectField(
        "Type d'objet",
        choices=lambda: choices([("", "Tous")]),
        validate_choice=False,
        validators=[Optional(), Length(max=64)],
    )
    patient_id = StringField(
        "N° de patient",
        validators=[
            Optional(),
            # [0-9], not \d: Python's \d also matches « ٣ » (core/converters.py).
            Regexp(r"^\s*[0-9]{1,9}\s*$", message="Le numéro de patient est un nombre entier."),
        ],
    )
    date_from = StringField(
        "Du", validators=[Optional(), _french_date], render_kw={"placeholder": "jj/mm/aaaa"}
    )
    date_to = StringField(
        "Au", validators=[Optional(), _french_date], render_kw={"placeholder": "jj/mm/aaaa"}
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        start, end = self.date_from_value, self.date_to_value
        if start and end and start > end:
            self.date_to.errors.append("La date de fin précède la date de début.")
            return False
        return ok

    @property
    def date_from_value(self) -> date | None:
        return getattr(self.date_from, "parsed", None) if not self.date_from.errors else None

    @property
    def date_to_value(self) -> date | None:
        return getattr(self.date_to, "parsed", None) if not self.date_to.errors else None
