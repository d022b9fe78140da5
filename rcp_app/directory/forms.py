"""Forms of the directory: establishments, professionals, RCPs, and the list filters.

Forms check types and presence; the domain rules (FINESS, RPPS, MSSanté, nature/code,
ranges, uniqueness) live in operations.py so that every caller gets them.
"""

from __future__ import annotations

from sqlalchemy import select
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..core.converters import IntegerField, coerce_id, coerce_optional_id, parse_int
from ..core.forms import BaseForm, VersionField
from ..core.links import HttpsLink
from ..extensions import db
from ..terminology.builtin import APPAREIL, SPECIALTY, TRANSVERSAL_THEME
from ..terminology.models import concept_choices
from .models import (
    FACILITY_TYPES,
    WEEKDAYS,
    Establishment,
    Professional,
    facility_type_choices,
)

TITLES = ["Dr", "Pr", "M.", "Mme"]
NATURES = [("organ", "RCP d'organe (appareil)"), ("transversal", "RCP transversale (thème)")]
ACTIVE_FILTERS = [("", "Toutes"), ("oui", "Actives"), ("non", "Inactives")]


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms options."""
    return [SelectChoice(value, label) for value, label in pairs]


def optional_weekday(value):
    """The weekday select: '' means none, else 0 (Monday) … 6 (ValueError otherwise)."""
    if value is None or value == "" or value == "None":
        return None
    day = parse_int(value, 0)  # the choices then refuse 7 and beyond
    if day is None:
        raise ValueError("Jour invalide.")
    return day


def optional_str(value):
    return value or None


def _with_current(choices: list[tuple], current, label: str | None = None) -> list[tuple]:
    """Keep an object's current value selectable even if it is no longer offered."""
    if current in (None, "") or any(value == current for value, _ in choices):
        return choices
    return [*choices, (current, label or str(current))]


def establishment_choices(current_id: int | None = None) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Establishment)
        .where((Establishment.active.is_(True)) | (Establishment.id == current_id))
        .order_by(Establishment.name)
    )
    return [(e.id, f"{e.name} ({e.city})" if e.city else e.name) for e in rows]


def coordinator_choices(current_id: int | None = None) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Professional)
        .where((Professional.active.is_(True)) | (Professional.id == current_id))
        .order_by(Professional.last_name_key, Professional.first_name)
    )
    return [(p.id, p.display_name) for p in rows]


def validator_choices(current_ids: list[int]) -> list[tuple[int, str]]:
    """Active professionals, plus the delegates already chosen (even if no longer active)."""
    rows = db.session.scalars(
        select(Professional)
        .where((Professional.active.is_(True)) | (Professional.id.in_(current_ids or [0])))
        .order_by(Professional.last_name_key, Professional.first_name)
    )
    return [(p.id, p.display_name) for p in rows]


class EstablishmentForm(BaseForm):
    name = StringField("Nom", validators=[DataRequired(), Length(max=200)])
    finess = StringField("N° FINESS", validators=[DataRequired(), Length(max=20)])
    city = StringField("Ville", validators=[Optional(), Length(max=120)])
    facility_type_code = SelectField(
        "Catégorie d'établissement", validators=[DataRequired()], default="SA01"
    )
    active = BooleanField("Établissement actif", default=True)
    version = VersionField()

    def __init__(self, *args, current: Establishment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        code = current.facility_type_code if current else None
        self.facility_type_code.choices = options(
            _with_current(facility_type_choices(), code, FACILITY_TYPES.get(code or ""))
        )


class ProfessionalForm(BaseForm):
    title = SelectField("Civilité / titre", choices=options((t, t) for t in TITLES))
    last_name = StringField("Nom", validators=[DataRequired(), Length(max=120)])
    first_name = StringField("Prénom", validators=[DataRequired(), Length(max=120)])
    rpps = StringField("N° RPPS", validators=[DataRequired(), Length(max=20)])
    specialty_code = SelectField("Spécialité", validators=[DataRequired()])
    mssante_address = StringField("Adresse MSSanté", validators=[Optional(), Length(max=254)])
    phone = StringField("Téléphone", validators=[Optional(), Length(max=32)])
    establishment_id = SelectField("Établissement", coerce=coerce_optional_id)
    active = BooleanField("Professionnel actif", default=True)
    version = VersionField()

    def __init__(self, *args, current: Professional | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        specialty = current.specialty_code if current else None
        self.specialty_code.choices = options(
            [("", "— Choisir —"), *_with_current(concept_choices(SPECIALTY), specialty)]
        )
        establishment_id = current.establishment_id if current else None
        self.establishment_id.choices = options(
            [("", "— Aucun —"), *establishment_choices(establishment_id)]
        )


class RcpForm(BaseForm):
    name = StringField("Nom de la RCP", validators=[DataRequired(), Length(max=200)])
    national_id = StringField(
        "Identifiant local de la RCP", validators=[DataRequired(), Length(max=64)]
    )
    network_id = StringField(
        "Identifiant national du DSRC (réseau régional de cancérologie)",
        validators=[Optional(), Length(max=16)],
    )
    manager_id = StringField(
        "Identifiant national du gestionnaire de la RCP", validators=[Optional(), Length(max=16)]
    )
    registry_id = StringField(
        "Identifiant national de la RCP", validators=[Optional(), Length(max=16)]
    )
    establishment_id = SelectField(
        "Établissement / 3C", coerce=coerce_optional_id, validators=[InputRequired()]
    )
    nature = SelectField("Nature", choices=options(NATURES))
    appareil_code = SelectField("Appareil (RCP d'organe)", coerce=optional_str)
    theme_code = SelectField("Thème (RCP transversale)", coerce=optional_str)
    is_recourse = BooleanField("RCP de recours")
    is_paediatric = BooleanField("RCP pédiatrique")
    coordinator_id = SelectField("Médecin coordonnateur", coerce=coerce_optional_id)
    validator_ids = SelectMultipleField(
        "Médecins délégués pour valider les fiches", coerce=coerce_id, render_kw={"size": 6}
    )
    member_ids = SelectMultipleField(
        "Participants habituels (invités à chaque séance)",
        coerce=coerce_id,
        render_kw={"size": 8},
    )
    weekday = SelectField(
        "Jour habituel",
        coerce=optional_weekday,
        choices=options([("", "Sans jour fixe"), *enumerate(WEEKDAYS)]),
    )
    start_time = TimeField("Heure de début", validators=[Optional()])
    place = StringField("Lieu", validators=[Optional(), Length(max=200)])
    video_url = URLField("Lien de visioconférence", validators=[Optional(), HttpsLink()])
    capacity = IntegerField(
        "Capacité (dossiers par séance)", default=20, validators=[InputRequired()]
    )
    deadline_hours = IntegerField(
        "Délai d'inscription (heures avant la séance)", default=48, validators=[InputRequired()]
    )
    # Optional: a form posted without it keeps the RCP's delay (the operation's default).
    follow_up_days = IntegerField(
        "Délai de suivi des propositions (jours)", default=30, validators=[Optional()]
    )
    required_specialty_codes = SelectMultipleField(
        "Spécialités exigées pour le quorum", render_kw={"size": 8}
    )
    min_specialties = IntegerField(
        "Nombre minimal de spécialités distinctes", default=3, validators=[InputRequired()]
    )
    notes = TextAreaField("Remarques", validators=[Optional(), Length(max=4000)])
    active = BooleanField("RCP active", default=True)
    version = VersionField()

    def __init__(self, *args, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.establishment_id.choices = options(
            [
                ("", "— Choisir —"),
                *establishment_choices(current.establishment_id if current else None),
            ]
        )
        self.appareil_code.choices = options(
            [
                ("", "— Aucun —"),
                *_with_current(
                    concept_choices(APPAREIL), current.appareil_code if current else None
                ),
            ]
        )
        self.theme_code.choices = options(
            [
                ("", "— Aucun —"),
                *_with_current(
                    concept_choices(TRANSVERSAL_THEME), current.theme_code if current else None
                ),
            ]
        )
        self.coordinator_id.choices = options(
            [
                ("", "— Aucun —"),
                *coordinator_choices(current.coordinator_id if current else None),
            ]
        )
        self.validator_ids.choices = validator_choices(current.validator_ids if current else [])
        self.member_ids.choices = validator_choices(current.member_ids if current else [])
        specialties = concept_choices(SPECIALTY)
        for code in current.required_specialty_codes if current else []:
            specialties = _with_current(specialties, code)
        self.required_specialty_codes.choices = options(specialties)


class _FilterForm(BaseForm):
    """GET filters: no CSRF token, invalid values are reported and ignored."""

    class Meta:
        csrf = False

    def value(self, name: str):
        field = self[name]
        return None if field.errors else field.data


class ProfessionalFilterForm(_FilterForm):
    q = StringField("Nom (début)", validators=[Optional(), Length(max=100)])
    specialty = SelectField("Spécialité", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.specialty.choices = options([("", "Toutes"), *concept_choices(SPECIALTY)])


class RcpFilterForm(_FilterForm):
    establishment = SelectField("Établissement", coerce=coerce_optional_id, validators=[Optional()])
    nature = SelectField(
        "Nature",
        choices=options([("", "Toutes"), ("organ", "Organe"), ("transversal", "Transversale")]),
        validators=[Optional()],
    )
    appareil = SelectField("Appareil", validators=[Optional()])
    theme = SelectField("Thème transversal", validators=[Optional()])
    active = SelectField("État", choices=options(ACTIVE_FILTERS), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = db.session.scalars(select(Establishment).order_by(Establishment.name))
        self.establishment.choices = options([("", "Tous"), *((e.id, e.name) for e in rows)])
        self.appareil.choices = options([("", "Tous"), *concept_choices(APPAREIL)])
        self.theme.choices = options([("", "Tous"), *concept_choices(TRANSVERSAL_THEME)])
