"""One input rule for every free-text field (rcp_app/core/text.py): line breaks and tabs kept,
vertical tab, form feed and the Unicode line/paragraph separators turned into line breaks, text
put in NFC, other invisible characters refused with a French message naming the field, and so
is any character the documents' font cannot draw (emoji it lacks, CJK, private use); forms
(every WTForms form) and the JSON autosave alike. The rendering side is tests/test_pdf_glyphs.py.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import wtforms
from sqlalchemy import select

import rcp_app
from rcp_app.auth.models import User
from rcp_app.cases.models import Case
from rcp_app.core.forms import BaseForm, RowForm
from rcp_app.core.text import forbidden_character, normalise_text, refusal_message
from rcp_app.decisions import operations as decision_ops
from rcp_app.decisions.models import Decision
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import READY, build_world
from tests.support.case_data import case_form, new_url, only_case_id
from tests.support.case_data import world as case_world
from tests.support.factories import PASSWORD


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\x0bb\x0cc", "a\nb\nc"),
        ("tab\tkept\n", "tab\tkept\n"),
        ("a\u2028b\u2029c", "a\nb\nc"),
        # DejaVu Sans draws this emoticon (monochrome): it is accepted.
        ("Élodie d’Aubigné — 😀", "Élodie d’Aubigné — 😀"),
        # Combining accents become the precomposed letters (NFC).
        ("Ele\u0301onore Franc\u0327ois", "Eléonore François"),
        ("\u212b \u2126", "Å Ω"),
    ],
)
def test_line_breaks_are_normalised_and_tabs_kept(raw, expected):
    assert normalise_text(raw) == expected
    assert forbidden_character(normalise_text(raw)) is None


@pytest.mark.parametrize(
    "character",
    ["\x00", "\x07", "\x1f", "\x7f", "\x80", "\x85", "\x9f", "\ud800", "\udfff", "\ufdd0"]
    + ["\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff"]
    # Bidirectional embeddings, overrides and isolates (text that reads otherwise than stored).
    + ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_other_invisible_characters_are_refused(character):
    assert forbidden_character(normalise_text(f"avant{character}après")) == character


def test_refusal_message_names_the_field_and_the_character():
    assert refusal_message("Question posée", "\x07") == (
        "Le champ « Question posée » contient un caractère invisible non autorisé (U+0007)."
    )


# What DejaVu Sans (the documents' font, core/pdfrender.py) lacks: an emoji, Chinese, Japanese,
# Korean, private use (BMP and plane 16), the ideographic space.
UNDRAWABLE = ["🧬", "中", "の", "한", "\ue000", "\U0010fffd", "\u3000"]


@pytest.mark.parametrize("character", UNDRAWABLE)
def test_characters_the_documents_cannot_draw_are_refused(character):
    assert forbidden_character(normalise_text(f"avant{character}après")) == character
    # Passwords are never printed: only invisible characters are refused there.
    assert forbidden_character(f"avant{character}après", documents=False) is None
    assert forbidden_character("avant\x07après", documents=False) == "\x07"


@pytest.mark.parametrize(
    "text",
    [
        "Ça, c’est « œuvre » — cœur, Æsop, Straße, Łódź, Dvořák, İstanbul, Ærøskøbing, ŉ ǅ",
        "Ελληνικά: αβγδε ΑΒΓ",
        "Русский: Жизнь, ёлка; Українська: ґїє",
        "T ≤ 2 cm, N ≥ 1, ± 3 mm, 5 µg, 37,5 °C, 10 ‰, → ← ×, ½, €, № 3 — ‘a’ “b” „c‟ • …",
        # Combining accents, the last one without a precomposed letter.
        "e\u0301 c\u0327 a\u0300 o\u0308 n\u0303 — q\u0301",
    ],
)
def test_every_script_the_fiche_accepts_passes_the_rule(text):
    assert forbidden_character(normalise_text(text)) is None


def test_the_message_names_the_character_and_its_code_point():
    assert refusal_message("Question posée", "🧬") == (
        "Le champ « Question posée » contient un caractère non pris en charge dans les "
        "documents : 🧬 (U+1F9EC)."
    )
    # A private-use character would show as nothing useful: its code point only.
    assert refusal_message("Question posée", "\ue000") == (
        "Le champ « Question posée » contient un caractère non pris en charge dans les "
        "documents : U+E000."
    )


def test_the_accepted_characters_are_read_from_the_font_file():
    """Not a hand-made list: each code point of the first two planes is accepted exactly when
    the font's cmap has it (private use, controls and the line/paragraph separators aside)."""
    import unicodedata

    from fontTools.ttLib import TTFont

    from rcp_app.core.pdfrender import DOCUMENT_FONT_FILE

    with TTFont(DOCUMENT_FONT_FILE, lazy=True) as font:
        cmap = font.getBestCmap()
    assert len(cmap) > 5000
    wrong = []
    for code in range(0x20000):
        character = chr(code)
        if character in "\t\n" or 0xD800 <= code <= 0xDFFF:
            continue
        expected = (
            code in cmap
            and code not in (0x2028, 0x2029)
            and unicodedata.category(character) not in ("Co", "Cc")
            and not (0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE)
            and not (0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069)
        )
        if (forbidden_character(character) is None) != expected:
            wrong.append(f"U+{code:04X}")
    assert wrong == []


def _all_form_classes():
    for module in pkgutil.walk_packages(rcp_app.__path__, "rcp_app."):
        importlib.import_module(module.name)
    pending, found = list(wtforms.Form.__subclasses__()), set()
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("rcp_app.") and cls.__module__ != "rcp_app.core.forms":
            found.add(cls)
    return found


def test_every_form_of_the_application_carries_the_rule():
    forms = _all_form_classes()
    assert len(forms) > 20  # the discovery itself works
    outside = sorted(
        f"{c.__module__}.{c.__name__}" for c in forms if not issubclass(c, (BaseForm, RowForm))
    )
    assert outside == []


@pytest.mark.parametrize("character", ["\x07", "🧬"])
def test_every_text_field_of_every_form_refuses_the_character(app, character):
    """Each form built with a bell (or an emoji the documents cannot draw) in every text field
    reports it on each of them; a password field refuses the bell only (never printed)."""
    from werkzeug.datastructures import MultiDict
    from wtforms import PasswordField, StringField

    checked = []
    with app.test_request_context(method="POST"):
        for form_class in _all_form_classes():
            if issubclass(form_class, RowForm):
                continue  # checked through the forms that contain them
            try:
                names = [f.name for f in _leaves(form_class(meta={"csrf": False}))]
                data = MultiDict({n: f"a{character}b" for n in names})
                form = form_class(data, meta={"csrf": False})
            except TypeError:
                continue  # forms that need constructor arguments are built by their tests
            form.validate()
            checked.append(form_class)
            for field in _leaves(form):
                if not isinstance(field, StringField):
                    continue
                refused = refusal_message(field.label.text, character) in field.errors
                if isinstance(field, PasswordField) and character == "🧬":
                    assert not refused, f"{form_class.__name__}.{field.name}"
                else:
                    assert refused, f"{form_class.__name__}.{field.name}"
    assert len(checked) > 20, checked


def _leaves(form):
    from rcp_app.core.forms import leaf_fields

    return list(leaf_fields(form))


def test_a_vertical_tab_in_the_case_form_is_stored_as_a_line_break(app, client, make, login):
    login("physician")
    ids = case_world(app, make)
    response = client.post(
        new_url(ids), data=case_form(ids, question="Première ligne\x0bseconde\x0ctroisième")
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        case = db.session.get(Case, only_case_id(app, ids["patient"]))
        assert case.question == "Première ligne\nseconde\ntroisième"


def test_an_invisible_character_in_the_case_form_is_named_next_to_its_field(
    app, client, make, login
):
    login("physician")
    ids = case_world(app, make)
    response = client.post(new_url(ids), data=case_form(ids, question="Question\x00 ?"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "Le champ « Question posée à la RCP » contient un caractère invisible non autorisé "
        "(U+0000)." in page
    )
    with app.app_context():
        assert db.session.scalar(select(Case).where(Case.patient_id == ids["patient"])) is None


@pytest.mark.parametrize("character", ["🧬", "中"])
def test_a_character_the_fiche_cannot_draw_in_the_case_form_is_named_next_to_its_field(
    app, client, make, login, character
):
    login("physician")
    ids = case_world(app, make)
    response = client.post(new_url(ids), data=case_form(ids, question=f"Question {character} ?"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "Le champ « Question posée à la RCP » contient un caractère non pris en charge dans les "
        f"documents : {character} (U+{ord(character):04X})." in page
    )
    with app.app_context():
        assert db.session.scalar(select(Case).where(Case.patient_id == ids["patient"])) is None


def test_combining_accents_in_the_case_form_are_stored_precomposed(app, client, make, login):
    login("physician")
    ids = case_world(app, make)
    response = client.post(new_url(ids), data=case_form(ids, question="Re\u0301cidive ?"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.get(Case, only_case_id(app, ids["patient"])).question == "Récidive ?"


def _decision_url(world) -> str:
    return f"/seances/{world.session_id}/reunion/{world.item_id}/decision"


def _decision_of(app, world):
    with app.app_context():
        return db.session.scalar(select(Decision).where(Decision.item_id == world.item_id))


def _login_validator(client, world):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})


def test_a_bell_in_a_decision_field_is_refused_naming_it_and_nothing_is_saved(app, client, make):
    world = build_world(app, make, decision=None)
    _login_validator(client, world)
    response = client.post(
        _decision_url(world), data={**READY, "comments": "Revoir\x07", "version": "0"}
    )
    assert response.status_code == 200
    assert (
        "Le champ « Commentaires » contient un caractère invisible non autorisé (U+0007)."
        in response.get_data(as_text=True)
    )
    assert _decision_of(app, world) is None


# A NUL used to reach PostgreSQL (HTTP 500); an emoji would print as an empty box.
@pytest.mark.parametrize("character", ["\x00", "🧬"], ids=["nul", "emoji"])
@pytest.mark.parametrize("field", sorted(decision_ops.LABELS))
def test_the_json_autosave_refuses_a_character_naming_the_field_in_french(
    app, client, make, field, character
):
    world = build_world(app, make, decision=None)
    _login_validator(client, world)
    response = client.post(
        _decision_url(world), json={**READY, "version": 0, field: f"a{character}b"}
    )
    assert response.status_code in (400, 422)
    assert response.get_json() == {
        "message": refusal_message(decision_ops.LABELS[field], character),
        "field": field,
    }
    assert _decision_of(app, world) is None


@pytest.mark.parametrize("character", UNDRAWABLE)
def test_the_json_autosave_refuses_every_character_the_fiche_cannot_draw(
    app, client, make, character
):
    world = build_world(app, make, decision=None)
    _login_validator(client, world)
    response = client.post(
        _decision_url(world), json={**READY, "version": 0, "comments": f"Avis {character}"}
    )
    assert response.status_code in (400, 422)
    assert response.get_json() == {
        "message": refusal_message(decision_ops.LABELS["comments"], character),
        "field": "comments",
    }
    assert _decision_of(app, world) is None


def test_the_json_autosave_stores_combining_accents_precomposed(app, client, make):
    world = build_world(app, make, decision=None)
    _login_validator(client, world)
    response = client.post(
        _decision_url(world), json={**READY, "version": 0, "comments": "Tre\u0300s bien"}
    )
    assert response.status_code == 200, response.get_json()
    assert _decision_of(app, world).comments == "Très bien"


def test_a_decision_with_a_vertical_tab_is_stored_validated_and_signed(app, client, make):
    from tests.fiches.conformance import ans_cisis_dir, xsd_errors

    world = build_world(app, make, decision=None)
    _login_validator(client, world)
    text = "Tumorectomie\x0bpuis radiothérapie\x0c"
    response = client.post(
        _decision_url(world), json={**READY, "proposal_details": text, "version": 0}
    )
    assert response.status_code == 200, response.get_json()
    assert _decision_of(app, world).proposal_details == "Tumorectomie\npuis radiothérapie"
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        assert decision_ops.mark_ready(item) == []
        version = fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
        cda = version.document("cda").content
    assert b"Tumorectomie" in cda
    if (ans_cisis_dir() / "infrastructure").is_dir():
        assert xsd_errors(cda) == []


@pytest.mark.parametrize(
    ("action", "field", "label"),
    [
        ("refuser", "reason", "Motif du refus"),
        ("ordre-du-jour/ajouter", "override_reason", "Motif de la dérogation"),
    ],
)
def test_hand_parsed_agenda_reasons_follow_the_rule(app, client, make, login, action, field, label):
    """Forms read without WTForms (agenda reasons) give the same message, nothing changed."""
    from tests.meetings_support import case_row, pool_case, simple_rcp

    login("coordinator")
    rcp = simple_rcp(app, make)
    session = make.session(rcp.id)
    case = pool_case(make, rcp.id, session.id, complete=False)
    url = (
        f"/seances/{session.id}/dossiers/{case.id}/refuser"
        if action == "refuser"
        else f"/seances/{session.id}/ordre-du-jour/ajouter"
    )
    response = client.post(url, data={"case_id": case.id, field: "Motif\x00"})
    assert response.status_code == 400
    assert refusal_message(label, "\x00") in response.get_data(as_text=True)
    assert case_row(app, case.id).status == "submitted"


def test_repeated_text_fields_get_the_rule_too(app):
    """A FieldList binds its entries itself, outside the form's Meta: they are ruled too."""
    from werkzeug.datastructures import MultiDict
    from wtforms import FieldList, StringField

    class Names(BaseForm):
        names = FieldList(StringField("Nom"), min_entries=1)

    with app.test_request_context(method="POST"):
        form = Names(MultiDict({"names-0": "a\x0bb", "names-1": "c\x07"}), meta={"csrf": False})
        assert not form.validate()
        assert form.names.entries[0].data == "a\nb"
        assert form.names.entries[1].errors == [refusal_message("Nom", "\x07")]
