"""The care programme form: one page, sections, rows added without script.

Fields carry what was typed; ``draft.clean`` checks everything and names each problem by its
field (French messages shown next to it), so a refused form is shown again as typed.
"""

from __future__ import annotations

from datetime import date

from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..core.converters import parse_id
from ..core.forms import BaseForm, RowForm, VersionField
from ..directory.models import Professional
from ..extensions import db
from . import values
from .draft import ROW_LISTS

# Blank rows offered beyond the filled ones, so that a line can be added without a round trip.
SPARE_ROWS = {"treatments": 1, "supportive_care": 1, "social_support": 1, "appointments": 2}
ROW_ACTIONS = {f"add_{key}": key for key in ROW_LISTS}


def _options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _select(label: str, choices=None) -> SelectField:
    return SelectField(
        label, choices=_options(choices or []), validate_choice=False, validators=[Optional()]
    )


class TreatmentRow(RowForm):
    kind = _select("Traitement", values.choices(values.TREATMENT_KINDS, "— choisir —"))
    source = _select("Origine")
    description = TextAreaField("Description", render_kw={"rows": 2})
    planned_start = StringField("Début prévu", render_kw={"placeholder": "jj/mm/aaaa"})
    place = StringField("Lieu")
    team = StringField("Équipe")
    remove = BooleanField("Retirer")


class SupportRow(RowForm):
    kind = _select("Soin de support", values.choices(values.SUPPORTIVE_CARE, "— choisir —"))
    details = StringField("Précisions")
    remove = BooleanField("Retirer")


class SocialRow(RowForm):
    kind = _select("Accompagnement", values.choices(values.SOCIAL_SUPPORT, "— choisir —"))
    details = StringField("Précisions")
    remove = BooleanField("Retirer")


class AppointmentRow(RowForm):
    date = StringField("Date du rendez-vous", render_kw={"placeholder": "jj/mm/aaaa"})
    time = StringField("Heure", render_kw={"placeholder": "hh:mm"})
    kind = _select("Type", values.choices(values.APPOINTMENT_KINDS, "— choisir —"))
    description = StringField("Objet")
    place = StringField("Lieu")
    remove = BooleanField("Retirer")


class PlanForm(BaseForm):
    treatment_rows = FieldList(FormField(TreatmentRow))
    referent_id = _select("Médecin référent")
    referent_phone = StringField("Téléphone du médecin référent")
    nurse_name = StringField("Infirmier(ère) de coordination")
    nurse_phone = StringField("Téléphone de l'infirmier(ère)")
    care_centre_name = StringField("Centre de coordination en cancérologie (3C)")
    care_centre_phone = StringField("Téléphone du 3C")
    support_rows = FieldList(FormField(SupportRow))
    social_assessment = TextAreaField("Bilan social et professionnel", render_kw={"rows": 3})
    social_rows = FieldList(FormField(SocialRow))
    appointment_rows = FieldList(FormField(AppointmentRow))
    comments = TextAreaField("Commentaires", render_kw={"rows": 2})
    version = VersionField()

    def data_for_operation(self) -> dict:
        data = {
            name: field.data
            for name, field in self._fields.items()
            if name not in ("csrf_token", "version", *ROW_LISTS.values())
        }
        for key, rows in ROW_LISTS.items():
            data[key] = list(self[rows].data)
        return data


class AmendForm(BaseForm):
    reason = TextAreaField("Motif de la mise à jour", render_kw={"rows": 2})
    motive = _select("Raison", values.choices(values.UPDATE_MOTIVES, "— choisir —"))


def _fr(day: str | None) -> str:
    return date.fromisoformat(day).strftime("%d/%m/%Y") if day else ""


def form_data(draft: dict) -> dict:
    """A stored draft as the form's data (dates as people type them), with spare rows."""
    data = {key: draft[key] for key in draft if key not in ROW_LISTS}
    data["referent_id"] = str(draft["referent_id"] or "")
    data["treatment_rows"] = [
        {**row, "planned_start": _fr(row["planned_start"])} for row in draft["treatments"]
    ]
    data["support_rows"] = list(draft["supportive_care"])
    data["social_rows"] = list(draft["social_support"])
    data["appointment_rows"] = [
        {**row, "date": _fr(row["date"]), "time": row["time"] or ""}
        for row in draft["appointments"]
    ]
    for key, rows in ROW_LISTS.items():
        data[rows] = data[rows] + [{} for _ in range(SPARE_ROWS[key])]
    return data


def set_choices(form: PlanForm, decision, case) -> None:
    """The origins a treatment may have (the RCP's proposal, its alternatives) and the
    physicians who may be the patient's referent (the case's physicians)."""
    sources = [
        (values.SOURCE_PROPOSAL, "Proposition de la RCP"),
        *(
            (f"alternative-{alt.rank}", f"Alternative {alt.rank} de la RCP")
            for alt in decision.alternatives
        ),
        (values.SOURCE_ADDED, "Ajouté avec le patient"),
    ]
    for row in form.treatment_rows:
        row.form.source.choices = _options(sources)
    people: list[Professional] = [case.requester, *case.correspondents]
    coordinator = case.rcp.coordinator
    if coordinator is not None:
        people.append(coordinator)
    seen, choices = set(), [("", "— choisir —")]
    for person in people:
        if person is not None and person.id not in seen:
            seen.add(person.id)
            choices.append((str(person.id), person.display_name))
    current = parse_id(form.referent_id.data)
    if current is not None and current not in seen:
        person = db.session.get(Professional, current)
        if person is not None:
            choices.append((str(person.id), person.display_name))
    form.referent_id.choices = _options(choices)
