"""The case form (one page, sections), its row sub-forms, and the small forms around it.

Fields are mostly text and unchecked selects: the operations check every value and give the
precise French message (validation.py); the form only carries what was typed, so that it is
shown again as typed.
"""

from __future__ import annotations

from sqlalchemy import select
from wtforms import (
    BooleanField,
    FieldList,
    FileField,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from ..core.converters import parse_id
from ..core.forms import BaseForm, RowForm, VersionField
from ..directory.models import Professional, Rcp
from ..extensions import db
from ..meetings.models import MeetingSession
from ..staging import biomarkers
from ..terminology import builtin as vs
from ..terminology.models import active_concepts, concept_choices
from .models import ATTACHMENT_KINDS, DISCOVERY, TREATMENT_STATUSES
from .status import STATUS_LABELS
from .validation import EDITIONS, GP_SPECIALTY, NATURES

NONE = ("", "— non renseigné —")
PERFORMANCE_LABELS = {
    0: "0 — Activité normale, sans restriction",
    1: "1 — Restreint pour les activités physiques importantes",
    2: "2 — Autonome, incapable de travailler, alité moins de 50 % du temps",
    3: "3 — Autonomie limitée, alité plus de 50 % du temps",
    4: "4 — Complètement dépendant, alité en permanence",
}


def options(pairs) -> list[SelectChoice]:
    """(value, label) or (value, label, render_kw) tuples as WTForms options."""
    return [SelectChoice(*pair) for pair in pairs]


def _unchecked_select(label: str, choices=None, **kwargs) -> SelectField:
    if choices is not None:
        kwargs["choices"] = options(choices)
    return SelectField(label, validate_choice=False, validators=[Optional()], **kwargs)


class StagingRowForm(RowForm):
    system = StringField("Classification")
    system_version = StringField("Version")
    value = StringField("Stade")
    remove = BooleanField("Supprimer")


class TumourRowForm(RowForm):
    diagnosis_date = StringField("Date du diagnostic")
    topography_code = StringField("Topographie (CIM-10)")
    morphology_code = StringField("Morphologie (CIM-O-3)")
    laterality_code = _unchecked_select("Latéralité")
    tnm_edition = _unchecked_select(
        "Édition TNM", choices=[*EDITIONS.items(), ("", "— aucune —")], default="UICC8"
    )
    clinical_t = StringField("cT")
    clinical_n = StringField("cN")
    clinical_m = StringField("cM")
    pathological_t = StringField("pT")
    pathological_n = StringField("pN")
    pathological_m = StringField("pM")
    comment = TextAreaField("Commentaire", render_kw={"rows": 2})
    staging_rows = FieldList(FormField(StagingRowForm), min_entries=1)
    remove = BooleanField("Supprimer cette tumeur")


# One field per site-specific marker (shown for the tumour's site only).
for _marker in biomarkers.MARKERS:
    _label = f"{_marker.label} ({_marker.unit})" if _marker.unit else _marker.label
    if _marker.kind == "choice":
        _field = _unchecked_select(_label, choices=[NONE, *((c, c) for c in _marker.choices)])
    else:
        _field = StringField(_label, render_kw={"inputmode": "decimal"})
    setattr(TumourRowForm, _marker.field_name, _field)


class TreatmentRowForm(RowForm):
    type_code = _unchecked_select("Type de traitement")
    status = _unchecked_select("Statut", choices=[("", "— choisir —"), *TREATMENT_STATUSES.items()])
    treatment_date = StringField("Date")
    comment = StringField("Commentaire")
    remove = BooleanField("Supprimer")


class CaseForm(BaseForm):
    session_id = _unchecked_select("Séance")
    requester_id = _unchecked_select("Médecin demandeur")
    motive_diagnostic = BooleanField("Avis diagnostique")
    motive_treatment = BooleanField("Proposition thérapeutique")
    motive_recourse = BooleanField("Recours (avis d'expert)")
    motive_paediatric = BooleanField("Pédiatrie")
    nature = _unchecked_select("Nature de la discussion", choices=list(NATURES.items()))
    appareil_code = _unchecked_select("Appareil")
    organ_code = _unchecked_select("Organe")
    theme_code = _unchecked_select("Thème transversal")
    phase_code = _unchecked_select("Phase")
    relapse_date = StringField("Date de la rechute")
    progression_local = BooleanField("Évolution locale")
    progression_regional = BooleanField("Évolution régionale")
    progression_distant = BooleanField("Évolution à distance (métastatique)")
    discovery_screening = _unchecked_select(
        "Découverte par dépistage", choices=[NONE, *DISCOVERY.items()]
    )
    performance_status = _unchecked_select(
        "Indice de performance OMS",
        choices=[NONE, *((str(k), v) for k, v in PERFORMANCE_LABELS.items())],
    )
    g8_score = StringField("Score G8 (0 à 17)", render_kw={"inputmode": "numeric"})
    comorbidities = TextAreaField("Comorbidités", render_kw={"rows": 3})
    medical_history = TextAreaField("Antécédents", render_kw={"rows": 3})
    exam_results = TextAreaField("Résultats d'examens (imagerie, biologie…)", render_kw={"rows": 4})
    surgery_conclusion = TextAreaField("Conclusion", render_kw={"rows": 3})
    surgery_author = StringField("Chirurgien (auteur)")
    surgery_date = StringField("Date")
    pathology_conclusion = TextAreaField("Conclusion", render_kw={"rows": 3})
    pathologist_name = StringField("Pathologiste")
    pathology_date = StringField("Date")
    molecular_conclusion = TextAreaField("Conclusion", render_kw={"rows": 3})
    molecular_author = StringField("Biologiste (auteur)")
    molecular_date = StringField("Date")
    synthesis = TextAreaField("Synthèse du dossier", render_kw={"rows": 5})
    question = TextAreaField("Question posée à la RCP", render_kw={"rows": 3})
    gp = _unchecked_select("Médecin traitant")
    correspondent_ids = SelectMultipleField(
        "Correspondants à mettre en copie", validate_choice=False, render_kw={"size": 6}
    )
    patient_informed_on = StringField("Patient informé le")
    patient_informed_by = StringField("Informé par")
    patient_non_opposition = BooleanField(
        "Le patient ne s'oppose pas à la présentation de son dossier en RCP"
    )
    patient_sharing_objection = BooleanField(
        "Le patient s'oppose au partage de ses données au-delà de l'équipe qui le prend en charge"
    )
    tumour_rows = FieldList(FormField(TumourRowForm), min_entries=1)
    treatment_rows = FieldList(FormField(TreatmentRowForm), min_entries=1)

    def data_for_operation(self) -> dict:
        data = {
            name: field.data
            for name, field in self._fields.items()
            if name not in ("csrf_token", "version", "tumour_rows", "treatment_rows")
        }
        data["tumour_rows"] = list(self.tumour_rows.data)
        data["treatment_rows"] = list(self.treatment_rows.data)
        return data


class CaseEditForm(CaseForm):
    version = VersionField()


def _with_current(choices: list[tuple[str, str]], current, label=None) -> list[tuple[str, str]]:
    if current in (None, "") or any(choice[0] == str(current) for choice in choices):
        return choices
    return [*choices, (str(current), label or str(current))]


def _professional_label(pro: Professional) -> str:
    place = f" — {pro.establishment.name}" if pro.establishment is not None else ""
    return pro.display_name + place


def _professionals(specialty: str | None = None, keep=()) -> list[tuple[str, str]]:
    stmt = select(Professional).where(
        (Professional.active.is_(True)) | (Professional.id.in_([k for k in keep if k]))
    )
    if specialty is not None:
        stmt = stmt.where(Professional.specialty_code == specialty)
    rows = db.session.scalars(stmt.order_by(Professional.last_name_key, Professional.first_name))
    return [(str(p.id), _professional_label(p)) for p in rows]


def session_label(session: MeetingSession, now) -> str:
    from ..core.timeutil import format_datetime

    label = format_datetime(session.starts_at)
    if session.deadline_passed(now):
        label += " (date limite d'inscription dépassée : inscription hors délai)"
    else:
        label += f" (inscription avant le {format_datetime(session.deadline_at)})"
    return label


def set_choices(form: CaseForm, rcp: Rcp, sessions: list, now, case=None) -> None:
    """Fill the select lists (value sets, directory, sessions), keeping the stored values."""
    session_choices = [(str(s.id), session_label(s, now)) for s in sessions]
    if not session_choices:
        session_choices = [("", "Aucune séance planifiée : séance à définir par le secrétariat")]
    if case is not None and case.session is not None:
        session_choices = _with_current(
            session_choices, case.session_id, session_label(case.session, now)
        )
    form.session_id.choices = options(session_choices)
    keep = [case.requester_id, case.gp_id, *(p.id for p in case.correspondents)] if case else []
    everyone = _professionals(keep=keep)
    form.requester_id.choices = options([("", "— choisir —"), *everyone])
    form.correspondent_ids.choices = options(everyone)
    gps = [
        NONE,
        ("unknown", "Inconnu (pas de médecin traitant connu)"),
        *_professionals(GP_SPECIALTY, keep=keep),
    ]
    if case is not None and case.gp_id is not None:
        gps = _with_current(gps, case.gp_id, case.gp.display_name)
    form.gp.choices = options(gps)
    current = (lambda name: getattr(case, name)) if case is not None else (lambda name: None)
    for field, value_set in (
        (form.appareil_code, vs.APPAREIL),
        (form.theme_code, vs.TRANSVERSAL_THEME),
        (form.phase_code, vs.PHASE),
    ):
        field.choices = options(
            [NONE, *_with_current(concept_choices(value_set), current(field.name))]
        )
    form.organ_code.choices = options(
        [NONE, *_with_current(organ_choices(), current("organ_code"))]
    )
    laterality = [NONE, *concept_choices(vs.LATERALITY)]
    for index, row in enumerate(form.tumour_rows):
        stored = case.tumours[index].laterality_code if case and index < len(case.tumours) else None
        row.form.laterality_code.choices = options(_with_current(laterality, stored))
    treatments = [("", "— choisir —"), *concept_choices(vs.TREATMENT_TYPE)]
    for index, row in enumerate(form.treatment_rows):
        stored = case.treatments[index].type_code if case and index < len(case.treatments) else None
        row.form.type_code.choices = options(_with_current(treatments, stored))


def organ_choices() -> list[tuple]:
    """Organs, each option carrying its appareil (data-appareil) for the live filter."""
    return [
        (c.code, c.label, {"data-appareil": c.parent_code or ""}) for c in active_concepts(vs.ORGAN)
    ]


class WithdrawForm(BaseForm):
    reason = TextAreaField("Motif du retrait", render_kw={"rows": 4})
    version = VersionField()


class AttachmentForm(BaseForm):
    kind = _unchecked_select(
        "Type de document", choices=[("", "— choisir —"), *ATTACHMENT_KINDS.items()]
    )
    file = FileField("Fichier PDF (20 Mo au plus)")


class AttachmentWithdrawForm(BaseForm):
    # The operation checks the reason (required, bounded): cases/attachments.py.
    reason = TextAreaField("Motif du retrait de la pièce jointe", render_kw={"rows": 2})


class CaseFilterForm(BaseForm):
    class Meta:
        csrf = False  # GET filters

    q = StringField(
        "Patient (nom, prénom ou INS)",
        validators=[Optional(), Length(max=100, message="La recherche : 100 caractères au plus.")],
    )
    rcp = _unchecked_select("RCP")
    statut = _unchecked_select("Statut", choices=[("", "Tous"), *STATUS_LABELS.items()])
    mine = BooleanField("Mes dossiers seulement")

    def patient_query(self) -> str:
        """The patient search, or "" when absent or refused (the field then carries the
        French message: call ``validate()`` first)."""
        return "" if self.q.errors else (self.q.data or "").strip()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = db.session.execute(select(Rcp.id, Rcp.name).order_by(Rcp.name))
        self.rcp.choices = options([("", "Toutes"), *((str(i), n) for i, n in rows)])

    def rcp_id(self) -> int | None:
        raw = self.rcp.data or ""
        return parse_id(raw) if raw in {c.value for c in self.rcp.choices} else None

    def status(self) -> str | None:
        return self.statut.data if self.statut.data in STATUS_LABELS else None


class PatientChoiceForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField("Nom, prénom ou matricule INS du patient")


class RequiredItemsForm(BaseForm):
    items = SelectMultipleField("Éléments exigés", validate_choice=False)
    use_defaults = BooleanField("Revenir aux éléments par défaut de l'appareil ou du thème")
