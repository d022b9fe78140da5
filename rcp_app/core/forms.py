"""Base forms: CSRF from Flask-WTF, WTForms' own French messages, the free-text input rule."""

from dataclasses import dataclass, replace

from flask import g, get_flashed_messages, has_request_context
from flask_wtf import FlaskForm
from jinja2 import pass_context
from markupsafe import Markup
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    StringField,
)
from wtforms.fields.choices import SelectFieldBase
from wtforms.meta import DefaultMeta
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from .dates import parse_date
from .errors import DomainError
from .text import forbidden_character, normalise_text, refusal_message


def _normalise(value):
    return normalise_text(value) if isinstance(value, str) else value


def _refuse_forbidden_characters(form, field) -> None:
    """The input rule of core/text.py: a French message naming the field.

    Runs first and stops the chain: ``Optional`` would otherwise clear the error for a value
    made only of characters Python counts as spaces (U+001C–U+001F, U+0085).
    """
    values = field.data if isinstance(field.data, list | tuple) else [field.data]
    printed = not isinstance(field, PasswordField)  # a password never reaches a document
    for value in values:
        character = (
            forbidden_character(value, documents=printed) if isinstance(value, str) else None
        )
        if character is not None:
            raise StopValidation(refusal_message(field.label.text, character))


def apply_text_rule(field) -> None:
    """Give a bound field the rule: every StringField (text areas, hidden, e-mail…) is
    normalised and checked; selects are checked (some accept any submitted code, which then
    reaches a query: PostgreSQL refuses a NUL). Passwords are checked but never altered: a
    silently changed password would not match.
    """
    if isinstance(field, FieldList):
        field.unbound_field = _RuledUnbound(field.unbound_field)
        return
    if not isinstance(field, StringField | SelectFieldBase):
        return
    if isinstance(field, StringField) and not isinstance(field, PasswordField):
        field.filters = [_normalise, *field.filters]
    field.validators = [_refuse_forbidden_characters, *field.validators]


class _RuledUnbound:
    """A FieldList's entry template: each entry bound later gets the rule too."""

    def __init__(self, unbound):
        self._unbound = unbound

    def __getattr__(self, name):
        return getattr(self._unbound, name)

    def bind(self, *args, **kwargs):
        field = self._unbound.bind(*args, **kwargs)
        apply_text_rule(field)
        return field


class TextRuleMeta(DefaultMeta):
    # WTForms ships French translations of its built-in messages ("Ce champ est requis.").
    locales = ("fr_FR", "fr")

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        apply_text_rule(field)
        return field

    def get_translations(self, form):
        return DefaultMeta.get_translations(self, form)


class BaseForm(FlaskForm):
    """Every form of the application derives from this one or from RowForm."""

    class Meta(TextRuleMeta):
        pass

    def validate(self, extra_validators=None):
        # Noted for the error summary (page_problems): a page may render a form it was not given
        # by name (built by a helper the template calls).
        if has_request_context():
            g.setdefault("validated_forms", []).append(self)
        return super().validate(extra_validators)


class RowForm(Form):
    """A repeated row inside a BaseForm (FormField): no CSRF of its own, the same text rule."""

    Meta = TextRuleMeta


class VersionField(HiddenField):
    """The row version an edit form was built from (optimistic locking).

    On a submitted form the value comes only from the submitted data: WTForms would otherwise
    fall back to the object's current version and silently defeat the conflict check.
    """

    def process(self, formdata, data=unset_value, extra_filters=None):
        if formdata is not None:
            data = None
        super().process(formdata, data, extra_filters)


def leaf_fields(fields):
    """Every input field of a form, nested row forms and lists included."""
    for field in fields:
        if isinstance(field, FieldList):
            yield from leaf_fields(field.entries)
        elif isinstance(field, FormField):
            yield from leaf_fields(field.form)
        else:
            yield field


def show_refusal(form, error) -> None:
    """Undo the refused attempt and put each message next to its field.

    ``error`` is a DomainError; one carrying ``errors`` (field name → messages) reports several
    fields at once. The operation names a field as the form declares it: a prefixed form (one
    per row of a page) finds it too. Messages for unknown fields go to the form-level errors.

    The one way every view shows a refusal: the whole request is undone (operations only flush;
    core/resilience.py commits after the view), so what the view records afterwards (the audit
    row of the page shown again) is all that the request writes.
    """
    from ..extensions import db

    db.session.rollback()
    errors = getattr(error, "errors", None) or {error.field or "": [error.message]}
    leaves = list(leaf_fields(form))
    fields = {f.short_name: f for f in leaves if f.name == f"{form._prefix}{f.short_name}"}
    fields.update({f.name: f for f in leaves})
    for name, messages in errors.items():
        field = fields.get(name)
        if field is None:
            form.form_errors.extend(messages)
            continue
        field.errors = [*field.errors, *messages]
        container = form._fields.get(name.split("-", 1)[0])
        if container is not None and container is not field:
            # A row field: its list reports the errors too (the form's error banner).
            container.errors = [*(container.errors or []), *messages]
    form._errors = None  # recomputed from the fields


WTForm = Form  # FlaskForm and the row forms alike


# --- the error summary -------------------------------------------------------------------------
# Every page lists what went wrong at its top (templates/macros.html, error_summary), with a link
# to each field: on a long form the messages next to the fields are 2 000 px below the fold.
# The list is read from what the page was rendered with, so a new form, a message a view adds
# by hand (``field.errors.append``) or a refusal set by show_refusal cannot be forgotten.


@dataclass(frozen=True)
class Problem:
    message: str
    target: str | None = None  # id of the element the summary links to (None: not a field)
    from_form: bool = True  # False: an error flash (no form on the page to correct)


def field_target(field) -> str | None:
    """The id the summary links to; hidden fields (version, CSRF) have nothing to focus."""
    if isinstance(field, HiddenField) or getattr(field.widget, "input_type", None) == "hidden":
        return None
    return field.id


def _with_label(field, message: str) -> str:
    label = field.label.text if field.label else ""
    if not label or label.lower() in message.lower():
        return message
    return f"{label} : {message}"


def form_problems(form) -> list[Problem]:
    """One problem per message of the form: its fields' (rows included) then its own."""
    problems = []
    for field in leaf_fields(form):
        for message in field.errors if isinstance(field.errors, list | tuple) else []:
            if isinstance(message, str):
                target = field_target(field)
                text = _with_label(field, message) if target else message
                problems.append(Problem(text, target))
    problems += [Problem(message) for message in getattr(form, "form_errors", []) or []]
    return problems


def _error_problems(error) -> list[Problem]:
    """A page's ``error``: a DomainError (the hand-written decision fields have the id
    ``f-<field>``, templates/decisions/_fields.html), a plain message, or a list of them (the
    reasons a session could not be closed)."""
    if isinstance(error, list | tuple):
        return [problem for item in error for problem in _error_problems(item)]
    if isinstance(error, DomainError):
        return [Problem(error.message, f"f-{error.field}" if error.field else None)]
    if isinstance(error, str) and error:
        return [Problem(error)]
    return []


def _forms_in(value):
    if isinstance(value, WTForm):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, WTForm):
                yield item
    elif isinstance(value, dict):
        for item in value.values():
            if isinstance(item, WTForm):
                yield item


@pass_context
def page_problems(context, content: str = "") -> list[Problem]:
    """What the error summary lists: the errors of every form the page was rendered with, the
    page's ``error``, and the error flashes (refusals reported after a redirect).

    ``content`` is the page's HTML: a message links to its field only if the field is there (a
    form may hold fields its page does not show, a refusal may name a field no input has)."""
    problems: list[Problem] = []
    seen: set[int] = set()
    variables = context.get_all()
    globals_ = context.environment.globals
    forms = [
        form
        for name, value in variables.items()
        # The environment's helpers and proxies are never a page's form.
        if name not in globals_ and name not in ("request", "session", "g", "current_user")
        for form in _forms_in(value)
    ]
    if has_request_context():
        forms += g.get("validated_forms", [])
    for form in forms:
        if id(form) not in seen:
            seen.add(id(form))
            problems += form_problems(form)
    problems += _error_problems(variables.get("error"))
    if has_request_context():
        problems += [
            Problem(message, from_form=False)
            for category, message in get_flashed_messages(with_categories=True)
            if category == "danger"
        ]
    problems = [
        p if p.target is None or f'id="{p.target}"' in content else replace(p, target=None)
        for p in problems
    ]
    # The same message twice (a row field and its list) is listed once.
    return list(dict.fromkeys(problems))


# --- slow actions --------------------------------------------------------------------------
# Rendering or signing a PDF takes seconds. Every form or link leading to one of these endpoints
# carries ``{{ slow_action('endpoint') }}``: static/js/app.js then asks the confirmation, disables
# the button and shows the label while the server works (tests/test_slow_actions.py checks the
# pages, and that this list names every view that renders, signs or checks a PDF).


@dataclass(frozen=True)
class SlowAction:
    method: str  # how the page reaches it: "POST" (a form) or "GET" (a link)
    busy_label: str
    confirm: str | None = None


_SIGN_CONFIRM = (
    "Valider et signer cette fiche ? Elle sera figée et signée, et ne se corrigera plus que "
    "par un avenant."
)
SLOW_ACTIONS = {
    "fiches.validate": SlowAction("POST", "Signature en cours…", _SIGN_CONFIRM),
    # Its button names what it does, and static/js/fiches.js shows the progress fiche by fiche.
    "fiches.validate_all": SlowAction(
        "POST",
        "Signature des fiches en cours…",
        "Valider et signer toutes les fiches prêtes de la séance ? Elles seront figées et "
        "signées, et ne se corrigeront plus que par un avenant.",
    ),
    "fiches.amend": SlowAction(
        "POST",
        "Signature de l'avenant en cours…",
        "Valider et signer l'avenant ? La nouvelle version remplacera la version en vigueur.",
    ),
    "fiches.preview": SlowAction("GET", "Génération de l'aperçu…"),
    "pps.validate": SlowAction(
        "POST",
        "Signature du programme en cours…",
        "Valider et signer le programme personnalisé de soins ? Il sera figé, signé et envoyé "
        "au médecin traitant et au DCC ; il ne changera plus que par une mise à jour.",
    ),
    "fiches.verify": SlowAction("POST", "Vérification en cours…"),
    "meetings.agenda_pdf": SlowAction("GET", "Génération du PDF…"),
    "reports.annual_report": SlowAction("GET", "Génération du rapport annuel…"),
}


def slow_action(endpoint: str) -> Markup:
    """The attributes of a form or link leading to a slow endpoint (KeyError if not listed)."""
    action = SLOW_ACTIONS[endpoint]
    # Markup.format escapes the labels.
    attributes = Markup(' data-busy-label="{}"').format(action.busy_label)
    if action.confirm:
        attributes += Markup(' data-confirm="{}"').format(action.confirm)
    return attributes


class FrenchDateField(DateField):
    """A date field read by the one date parser (core/dates.py): dd/mm/yyyy as typed, or ISO
    yyyy-mm-dd from ``<input type="date">``; shown back as ISO; the parser's French messages."""

    def __init__(self, label=None, validators=None, *, past: bool = False, **kwargs):
        self.past = past
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = " ".join(valuelist).strip()
        try:
            self.data = parse_date(raw, past=self.past)
        except ValueError as refused:
            self.data = None
            raise ValueError(str(refused)) from refused
