"""HTML to PDF with WeasyPrint: no network, one font configuration per thread, one font.

WeasyPrint creates a fontconfig configuration for every rendering that is not given one, and
that memory is never returned: about 0.3 MB per PDF, so a web worker grew by 100 MB after a few
hundred previews and agendas (measured in bench/memory.py). Reusing one configuration per thread
keeps the process flat; per thread, because fontconfig objects are not shared across threads.

Every PDF (the fiche, the agenda) is set in DejaVu Sans, from Debian's fonts-dejavu-core (which
core/syscheck.py requires): a character that font lacks would be drawn as an empty box
(``.notdef``), and a sealed PDF/A with one is no longer valid PDF/A. ``document_characters()``
is what that font file covers; the input rule (core/text.py) refuses the rest.
"""

from __future__ import annotations

import functools
import logging
import threading
import unicodedata
from pathlib import Path

_local = threading.local()

# The family the PDF templates name, and the file fontconfig resolves it to (the Book face:
# the bold and oblique faces cover a subset of it, and fontconfig falls back to it for the
# rest). tests/test_pdf_glyphs.py checks fontconfig agrees and renders every covered character.
DOCUMENT_FONT_FAMILY = "DejaVu Sans"
DOCUMENT_FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# In the cmap but no use in a document: private-use glyphs mean something only in this font
# (another reader of the CDA would show something else); Pango draws the line separator U+2028
# as .notdef and WeasyPrint's line breaking fails on the paragraph separator U+2029 (core/text.py
# turns both into line breaks before the rule looks).
_NOT_FOR_DOCUMENTS = {"Co", "Cc"}
_SEPARATORS = {0x2028, 0x2029}
# Bidirectional embeddings, overrides and isolates: in the cmap, but refused by the input rule
# (a signed text must read as it is stored).
_BIDI_CONTROLS = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}

# WeasyPrint announces each rendering step at INFO (127 lines a fiche) and fontTools each
# subsetting: noise in the service's log. Warnings (a .notdef glyph, a refused resource) stay.
for _name in ("weasyprint", "fontTools"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@functools.cache
def document_characters() -> frozenset[str]:
    """Every character the documents' font draws (read once from the font file's cmap)."""
    from fontTools.ttLib import TTFont

    with TTFont(DOCUMENT_FONT_FILE, lazy=True) as font:
        code_points = font.getBestCmap()
    return frozenset(
        chr(c)
        for c in code_points
        if c not in _SEPARATORS
        and c not in _BIDI_CONTROLS
        and unicodedata.category(chr(c)) not in _NOT_FOR_DOCUMENTS
    )


def no_network_fetcher():
    """Only data: URIs (the QR code); a failed fetch stops the rendering instead of a blank."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def font_config():
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def write_pdf(html: str, **options) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=no_network_fetcher()).write_pdf(
        font_config=font_config(), **options
    )
