"""Patient identity form and search form (French labels; the operations hold the rules)."""

from __future__ import annotations

from datetime import date

from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..core.converters import parse_version
from ..core.dates import parse_date
from ..core.forms import BaseForm, FrenchDateField, VersionField
from . import ins
from .models import IDENTITY_STATUSES, SEXES
from .operations import FIELDS


def _choices(labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


def _required(message: str):
    return [DataRequired(message=message)]


class PatientForm(BaseForm):
    birth_name = StringField(
        "Nom de naissance",
        validators=[*_required("Le nom de naissance est obligatoire."), Length(max=100)],
    )
    birth_first_names = StringField(
        "Prénoms de naissance (liste)",
        validators=[*_required("Les prénoms de naissance sont obligatoires."), Length(max=200)],
    )
    first_birth_first_name = StringField(
        "Premier prénom de naissance",
        validators=[*_required("Le premier prénom de naissance est obligatoire."), Length(max=100)],
    )
    used_name = StringField("Nom utilisé", validators=[Optional(), Length(max=100)])
    used_first_name = StringField("Prénom utilisé", validators=[Optional(), Length(max=100)])
    # Choices are checked by the operation, which gives a precise message.
    sex = SelectField(
        "Sexe",
        choices=_choices({"": "— choisir —", **SEXES}),
        validate_choice=False,
        validators=_required("Le sexe est obligatoire."),
    )
    birth_date = FrenchDateField(
        "Date de naissance",
        # InputRequired: an impossible date keeps its own message.
        validators=[InputRequired("La date de naissance est obligatoire.")],
    )
    birthplace_code = StringField(
        "Code INSEE du lieu de naissance", validators=[Optional(), Length(max=5)]
    )
    identity_status = SelectField(
        "Statut de l'identité",
        choices=_choices({code: f"{label} ({code})" for code, label in IDENTITY_STATUSES.items()}),
        default="PROV",
        validate_choice=False,
        validators=_required("Le statut de l'identité est obligatoire."),
    )
    ins_matricule = StringField("Matricule INS", validators=[Optional(), Length(max=30)])
    ins_oid = SelectField(
        "OID de l'INS",
        choices=_choices(
            {"": "— aucun —", **{oid: f"{label} ({oid})" for oid, label in ins.INS_OIDS.items()}}
        ),
        validate_choice=False,
    )
    ipp = StringField("IPP", validators=[Optional(), Length(max=40)])

    def identity_data(self) -> dict:
        return {name: self[name].data for name in FIELDS}


class PatientEditForm(PatientForm):
    version = VersionField()

    def expected_version(self) -> int | None:
        return parse_version(self.version.data)


class PatientSearchForm(BaseForm):
    class Meta:
        csrf = False  # a GET search: nothing changes

    q = StringField("Nom, prénom ou matricule INS", validators=[Optional(), Length(max=100)])
    birth_date = StringField("Date de naissance", validators=[Optional(), Length(max=10)])

    def validate_birth_date(self, field):
        try:
            field.parsed = parse_date(field.data, past=True)  # a birth date
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def parsed_birth_date(self) -> date | None:
        return getattr(self.birth_date, "parsed", None)
