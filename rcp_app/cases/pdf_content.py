"""Active content in an attached PDF: what a reader could run or open by itself.

Attachments are opened by every clinician of the meeting, in whatever PDF reader their
workstation has; a PDF that runs JavaScript, launches a program, carries other files, acts on
its own (opening, page or field events), plays rich media or holds an XFA form is refused, as is
a PDF/HTML polyglot (a file that a browser would also render as a page, scripts included).

``active_content(data)`` walks every object of the document with pikepdf (the trailer, the
catalogue and whatever they reach, plus every object of the file, referenced or not) and
returns the French names of what it found, in a fixed order; an empty list means a plain PDF.
"""

from __future__ import annotations

import io
import re

import pikepdf

# Found → French words for « le PDF contient … ».
JAVASCRIPT = "du JavaScript"
LAUNCH = "une commande de lancement de programme (/Launch)"
EMBEDDED = "des fichiers incorporés"
AUTO_ACTIONS = "des actions automatiques (/AA)"
OPEN_ACTION = "une action exécutée à l'ouverture (/OpenAction)"
RICH_MEDIA = "du contenu multimédia actif (/RichMedia)"
XFA = "un formulaire XFA"
FORM_ACTIONS = "une action d'envoi ou d'import de données"
HTML = "du code HTML (fichier à double format PDF/HTML)"
ORDER = (JAVASCRIPT, LAUNCH, EMBEDDED, AUTO_ACTIONS, OPEN_ACTION, RICH_MEDIA, XFA, FORM_ACTIONS)

# Keys whose mere presence is active content.
_KEYS = {
    "/JS": JAVASCRIPT,
    "/JavaScript": JAVASCRIPT,
    "/Launch": LAUNCH,
    "/EmbeddedFiles": EMBEDDED,
    "/EmbeddedFile": EMBEDDED,
    "/EF": EMBEDDED,
    "/AA": AUTO_ACTIONS,
    "/RichMedia": RICH_MEDIA,
    "/RichMediaContent": RICH_MEDIA,
    "/XFA": XFA,
}
# Action types (/S) and object types (/Type, /Subtype).
_NAMES = {
    "/JavaScript": JAVASCRIPT,
    "/Launch": LAUNCH,
    "/EmbeddedFile": EMBEDDED,
    "/FileAttachment": EMBEDDED,
    "/GoToE": EMBEDDED,
    "/RichMedia": RICH_MEDIA,
    "/RichMediaExecute": RICH_MEDIA,
    "/SubmitForm": FORM_ACTIONS,
    "/ImportData": FORM_ACTIONS,
}
# An opening action that only shows a page (/GoTo, or a bare destination array) is harmless.
_HARMLESS_OPEN_ACTIONS = {"/GoTo"}
# HTML a browser would act on, anywhere in the raw bytes (streams are usually compressed, so
# a legitimate PDF practically never holds these byte sequences).
_HTML_TAG = re.compile(
    rb"<\s*(script|html|iframe|svg|body|object|embed|meta|img|a\s+href)[\s>/]", re.IGNORECASE
)
# A document with more objects than this is not a scanned report: stop walking, refuse.
MAX_OBJECTS = 500_000


class TooComplex(ValueError):
    """More objects than any attachment needs: treated as a damaged file."""


def active_content(data: bytes) -> list[str]:
    """French names of the active content found (empty: a plain PDF).

    Raises ``pikepdf.PdfError`` (or ``TooComplex``) when the file cannot be read.
    """
    found: set[str] = set()
    if _HTML_TAG.search(data):
        found.add(HTML)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        _walk(pdf, found)
    return [name for name in (*ORDER, HTML) if name in found]


def _walk(pdf: pikepdf.Pdf, found: set[str]) -> None:
    seen: set[tuple[int, int]] = set()
    pending: list = [pdf.trailer, *pdf.objects]
    visited = 0
    while pending:
        obj = pending.pop()
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Array | pikepdf.Stream):
            continue  # numbers, strings, names: nothing below them
        visited += 1
        if visited > MAX_OBJECTS:
            raise TooComplex
        if obj.is_indirect:
            key = obj.objgen
            if key in seen:
                continue
            seen.add(key)
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            _check_dictionary(obj, found)
            pending.extend(obj.values())
        elif isinstance(obj, pikepdf.Array):
            pending.extend(obj)


def _check_dictionary(obj: pikepdf.Dictionary, found: set[str]) -> None:
    for key in obj:
        if key in _KEYS:
            found.add(_KEYS[key])
    for key in ("/S", "/Type", "/Subtype"):
        value = obj.get(key)
        if isinstance(value, pikepdf.Name) and str(value) in _NAMES:
            found.add(_NAMES[str(value)])
    opening = obj.get("/OpenAction")
    if isinstance(opening, pikepdf.Dictionary):
        kind = opening.get("/S")
        if not (isinstance(kind, pikepdf.Name) and str(kind) in _HARMLESS_OPEN_ACTIONS):
            found.add(OPEN_ACTION)


def refusal_message(found: list[str]) -> str:
    """« Pièce jointe refusée : le PDF contient du JavaScript et des fichiers incorporés. »"""
    listed = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " et " + found[-1]
    return f"Pièce jointe refusée : le PDF contient {listed}."
